# syntax=docker/dockerfile:1
#
# polycopy-backfill as a Cloud Run Job image: `backfill run` by default.
# Build for Cloud Run's architecture (amd64): deploy/30-build-push.sh uses Cloud Build; locally,
#   docker buildx build --platform linux/amd64 -t polycopy-backfill .
# No credentials are baked in or passed at build time: at run time the clients use Application
# Default Credentials (the job's service account).

# Pin by digest for reproducible builds, e.g. --build-arg NODE_IMAGE=node:20-slim@sha256:…
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so source edits reuse this layer. --ignore-scripts: the package's own
# `prepare` (tsc) needs the sources, which are not copied yet; no runtime dependency has an
# install script (DuckDB ships prebuilt bindings as optional packages).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# Root-owned and read-only for the runtime user; only ./data (the local-default warehouse and
# stage, unused on Cloud Run) is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
# The non-root user that node images ship with (uid 1000).
USER node
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
