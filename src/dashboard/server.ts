/**
 * `backfill dashboard`: a single page and `/api/status` over node:http. No framework, no build step:
 * the page and uPlot are static files from a fixed allow-list (see assets.ts), and the figures are
 * whatever `status()` returns — the same JSON as `backfill status --json`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';

import { ConfigError } from '../lib/errors.js';
import { loadAssets } from './assets.js';
import type { Asset } from './assets.js';
import { sharedStatus } from '../status/shared-status.js';
import type { StatusJson } from '../status/status-json.js';
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from './defaults.js';


export interface DashboardLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

export interface DashboardOptions {
  /** Default 127.0.0.1: the figures name wallets and the warehouse, so exposing them is opt-in. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  status: () => Promise<StatusJson>;
  logger?: DashboardLogger;
  /** A status answer younger than this is reused for every tab (default 1000 ms; 0 disables). */
  minRefreshMs?: number;
}

export interface Dashboard {
  /** e.g. http://127.0.0.1:8787/ */
  url: string;
  close(): Promise<void>;
}

/** An error text longer than this is cut: the page shows it, a log line carries it. */
const MAX_ERROR_CHARS = 2000;

const SECURITY_HEADERS: OutgoingHttpHeaders = {
  // No inline script or style, nothing from another origin: a hostile value that slipped into the
  // DOM still could not run.
  'Content-Security-Policy': "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * On a loopback bind, a request whose Host header names another machine comes from a browser
 * tricked by DNS rebinding (a web page whose name now resolves to 127.0.0.1): refuse it, or any
 * site the operator visits could read the status JSON.
 */
function hostAllowed(bindHost: string, hostHeader: string | undefined): boolean {
  if (!isLoopback(bindHost) || hostHeader === undefined) return true;
  try {
    return isLoopback(new URL(`http://${hostHeader}`).hostname);
  } catch {
    return false;
  }
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string | Buffer, extra: OutgoingHttpHeaders = {}): void {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Content-Length': payload.length, ...extra });
  res.end(req.method === 'HEAD' ? undefined : payload);
}

const sendJson = (req: IncomingMessage, res: ServerResponse, status: number, value: unknown): void =>
  send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(value), { 'Cache-Control': 'no-store' });

function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  const port = options.port ?? DEFAULT_DASHBOARD_PORT;
  const logger = options.logger;
  const assets: ReadonlyMap<string, Asset> = await loadAssets();
  const status = sharedStatus(options.status, options.minRefreshMs ?? 1000);
  // Logged on change only: a page polling every 2 s must not repeat one error in the log forever.
  let lastError: string | undefined;

  const serveStatus = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: string;
    try {
      body = JSON.stringify(await status());
    } catch (error) {
      const text = errorText(error);
      if (text !== lastError) logger?.warn({ err: text }, `dashboard: status unavailable: ${text}`);
      lastError = text;
      sendJson(req, res, 503, { error: text });
      return;
    }
    if (lastError !== undefined) logger?.info({}, 'dashboard: status available again');
    lastError = undefined;
    send(req, res, 200, 'application/json; charset=utf-8', body, { 'Cache-Control': 'no-store' });
  };

  const server = createServer((req, res) => {
    if (!hostAllowed(host, req.headers.host)) {
      send(req, res, 421, 'text/plain; charset=utf-8', 'this dashboard answers only to a loopback host name\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://dashboard.invalid').pathname;
    } catch {
      send(req, res, 400, 'text/plain; charset=utf-8', 'bad request\n');
      return;
    }
    if (path === '/api/status') {
      serveStatus(req, res).catch((error: unknown) => {
        logger?.warn({ err: errorText(error) }, `dashboard: response failed: ${errorText(error)}`);
        res.destroy();
      });
      return;
    }
    const asset = assets.get(path);
    if (asset === undefined) {
      send(req, res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    // no-cache, not no-store: revalidation is cheap and a rebuilt page is picked up at once.
    send(req, res, 200, asset.contentType, asset.body, { 'Cache-Control': 'no-cache' });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new ConfigError(`dashboard: port ${port} on ${host} is already in use`, { cause: error, hint: 'pass another --port (0 picks a free one)' }));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new ConfigError(`dashboard: cannot listen on host ${JSON.stringify(host)}: ${error.code}`, { cause: error, hint: 'pass an address of this machine to --host' }));
      } else {
        reject(error);
      }
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const bound = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${bound}/`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Browsers keep idle connections open; without this close() waits for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
