import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Helpers shared by the protocol fakes: one node:http server on 127.0.0.1, an ephemeral port. */

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Google APIs' error envelope: `{ error: { code, message, errors: [{ reason, message }] } }`. */
export function googleError(code: number, reason: string, message: string) {
  return { error: { code, message, status: statusName(code), errors: [{ domain: 'global', reason, message }] } };
}

function statusName(code: number): string {
  return (
    {
      400: 'INVALID_ARGUMENT',
      403: 'PERMISSION_DENIED',
      404: 'NOT_FOUND',
      409: 'ALREADY_EXISTS',
      412: 'FAILED_PRECONDITION',
      429: 'RESOURCE_EXHAUSTED',
      500: 'INTERNAL',
      503: 'UNAVAILABLE',
    } as Record<number, string>
  )[code] ?? 'UNKNOWN';
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<RunningServer> {
  const server = createServer(handler);
  // Clients keep connections alive; close() must not wait for them.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fault the next matching requests suffer; `times` counts down per matching request. */
export interface FaultRule<R> {
  match: (request: R) => boolean;
  times: number;
}

export function takeFault<R, F extends FaultRule<R>>(rules: F[], request: R): F | undefined {
  const rule = rules.find((r) => r.times > 0 && r.match(request));
  if (rule) rule.times -= 1;
  return rule;
}

/** Forwards a request to `upstream` (e.g. the simulator) and relays its status, type, Retry-After and body. */
export async function proxy(upstream: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const response = await fetch(`${upstream}${req.url ?? '/'}`);
  const headers: Record<string, string> = { 'content-type': response.headers.get('content-type') ?? 'application/json' };
  const retryAfter = response.headers.get('retry-after');
  if (retryAfter !== null) headers['retry-after'] = retryAfter;
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { ...headers, 'content-length': body.length }).end(body);
}
