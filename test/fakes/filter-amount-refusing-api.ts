/**
 * A Data API that refuses `filter_amount` on `/v2/trades` the way v2 refuses a parameter it does not
 * accept (400, the documented error body naming it), and proxies every other request, the trades
 * asked without it included, to an upstream such as the simulator.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, sendJson } from './http-util.js';

export interface RunningRefusingApi {
  url: string;
  /** `/v2/trades` requests refused because they carried `filter_amount` (or `filterAmount`). */
  refused(): number;
  close(): Promise<void>;
}

async function proxy(upstream: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const response = await fetch(`${upstream}${req.url ?? '/'}`);
  const headers: Record<string, string> = { 'content-type': response.headers.get('content-type') ?? 'application/json' };
  for (const name of ['retry-after', 'x-trace-id']) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { ...headers, 'content-length': body.length }).end(body);
}

export async function startFilterAmountRefusingApi(upstream: string): Promise<RunningRefusingApi> {
  let refused = 0;
  const server = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://refusing.invalid');
    if (url.pathname === '/v2/trades' && (url.searchParams.has('filter_amount') || url.searchParams.has('filterAmount'))) {
      refused += 1;
      const traceId = `refused-${refused}`;
      sendJson(
        res,
        400,
        { error: 'filter_amount is not supported', code: 'invalid_request', retryable: false, trace_id: traceId, parameter: 'filter_amount' },
        { 'x-trace-id': traceId },
      );
      return;
    }
    proxy(upstream.replace(/\/+$/, ''), req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(599, { 'content-type': 'text/plain' }).end(String(error));
      else res.destroy();
    });
  });
  return { url: server.url, refused: () => refused, close: () => server.close() };
}
