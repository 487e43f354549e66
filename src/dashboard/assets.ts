/**
 * The dashboard's static files: a fixed allow-list, read into memory once at start-up. Serving only
 * names from this map (never a path joined from the request) is what rules out directory traversal,
 * and reading everything up front turns a missing file (a build that did not copy the page) into a
 * start-up error instead of a broken page.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  contentType: string;
}

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const SVG = 'image/svg+xml';

/** The page files sit next to this module, in src/ and (copied by `npm run build`) in dist/. */
const pageFile = (name: string): string => fileURLToPath(new URL(`./page/${name}`, import.meta.url));

/** uPlot from node_modules, so the page needs neither a CDN nor a bundler. */
const uplotFile = (name: string): string => createRequire(import.meta.url).resolve(`uplot/dist/${name}`);

const ALLOW_LIST: ReadonlyArray<{ route: string; file: () => string; contentType: string }> = [
  { route: '/', file: () => pageFile('index.html'), contentType: HTML },
  { route: '/assets/dashboard.js', file: () => pageFile('dashboard.js'), contentType: JS },
  { route: '/assets/dashboard.css', file: () => pageFile('dashboard.css'), contentType: CSS },
  { route: '/assets/favicon.svg', file: () => pageFile('favicon.svg'), contentType: SVG },
  { route: '/assets/uPlot.iife.min.js', file: () => uplotFile('uPlot.iife.min.js'), contentType: JS },
  { route: '/assets/uPlot.min.css', file: () => uplotFile('uPlot.min.css'), contentType: CSS },
];

export async function loadAssets(): Promise<ReadonlyMap<string, Asset>> {
  const entries = await Promise.all(
    ALLOW_LIST.map(async ({ route, file, contentType }) => {
      let path = '(unresolved)';
      try {
        path = file();
        return [route, { body: await readFile(path), contentType }] as const;
      } catch (error) {
        throw new Error(`dashboard asset ${route} cannot be read from ${path}: ${(error as Error).message}. Rebuild with \`npm run build\` (it copies src/dashboard/page to dist)`, { cause: error });
      }
    }),
  );
  return new Map(entries);
}
