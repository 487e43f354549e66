import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

import { afterEach, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/errors.js';
import { startDashboard } from '../../src/dashboard/server.js';
import type { Dashboard, DashboardOptions } from '../../src/dashboard/server.js';
import { sharedStatus } from '../../src/status/shared-status.js';
import { runningStatus } from './fake-status.js';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** node:http sends the path exactly as given: fetch() would normalise "/../" away before sending. */
function raw(url: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const open: Dashboard[] = [];
async function start(options: Partial<DashboardOptions> = {}): Promise<Dashboard> {
  const dashboard = await startDashboard({ port: 0, status: async () => runningStatus(0), minRefreshMs: 0, ...options });
  open.push(dashboard);
  return dashboard;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

describe('dashboard server', () => {
  it('binds to loopback by default', async () => {
    const dashboard = await start();
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const port = Number(new URL(dashboard.url).port);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
    if (external !== undefined) {
      // The same port on this machine's non-loopback address must refuse the connection.
      const refused = await new Promise<string>((resolve) => {
        const socket = connect({ host: external.address, port });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
    }
  });

  it('serves the page, its assets and uPlot from node_modules with their content types', async () => {
    const dashboard = await start();
    const expected: Array<[string, string]> = [
      ['/', 'text/html; charset=utf-8'],
      ['/?interval=200', 'text/html; charset=utf-8'],
      ['/assets/dashboard.js', 'text/javascript; charset=utf-8'],
      ['/assets/dashboard.css', 'text/css; charset=utf-8'],
      ['/assets/favicon.svg', 'image/svg+xml'],
      ['/assets/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
      ['/assets/uPlot.min.css', 'text/css; charset=utf-8'],
      ['/api/status', 'application/json; charset=utf-8'],
    ];
    for (const [path, type] of expected) {
      const res = await raw(dashboard.url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type'], path).toBe(type);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['content-security-policy'], path).toContain("default-src 'self'");
      expect(res.headers['content-security-policy'], path).not.toContain('unsafe-inline');
    }
    const uplot = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');
    expect((await raw(dashboard.url, '/assets/uPlot.iife.min.js')).body).toBe(await readFile(uplot, 'utf8'));
    const page = (await raw(dashboard.url, '/')).body;
    // No inline script or style for the CSP to block, and nothing from another origin.
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/\sstyle=|<style/);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('answers 404 outside the allow-list, whatever the path tries', async () => {
    const dashboard = await start();
    for (const path of [
      '/assets/../../package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/%2e%2e/package.json',
      '/package.json',
      '/src/dashboard/server.ts',
      '/node_modules/uplot/package.json',
      '/assets/',
      '/assets',
      '/assets/dashboard.js/',
      '/assets/dashboard.js%00.html',
      '/index.html',
      '//etc/passwd',
      '/api/status/../../package.json',
    ]) {
      const res = await raw(dashboard.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).toBe('not found\n');
      expect(res.headers['content-security-policy'], path).toContain("default-src 'self'");
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
    }
  });

  it('serves status() as JSON, and a failing status() as 503 { error }', async () => {
    let fail = false;
    const warnings: object[] = [];
    const dashboard = await start({
      status: async () => {
        if (fail) throw new Error('warehouse unreachable: <b>ECONNREFUSED</b>');
        return runningStatus(3);
      },
      logger: { info: () => undefined, warn: (o) => warnings.push(o) },
    });
    const ok = await raw(dashboard.url, '/api/status');
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(ok.body)).toEqual(runningStatus(3));

    fail = true;
    for (let i = 0; i < 3; i += 1) {
      const res = await raw(dashboard.url, '/api/status');
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(JSON.parse(res.body)).toEqual({ error: 'warehouse unreachable: <b>ECONNREFUSED</b>' });
    }
    // One warning for one error, however often the page polls.
    expect(warnings).toHaveLength(1);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const dashboard = await start();
    const head = await raw(dashboard.url, '/assets/dashboard.css', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    const post = await raw(dashboard.url, '/api/status', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('refuses a foreign Host header on a loopback bind (DNS rebinding)', async () => {
    const dashboard = await start();
    const port = new URL(dashboard.url).port;
    expect((await raw(dashboard.url, '/api/status', { headers: { Host: `attacker.example:${port}` } })).status).toBe(421);
    expect((await raw(dashboard.url, '/api/status', { headers: { Host: `localhost:${port}` } })).status).toBe(200);
    expect((await raw(dashboard.url, '/api/status', { headers: { Host: `127.0.0.1:${port}` } })).status).toBe(200);
  });

  it('reports a port in use as a configuration error naming it', async () => {
    const first = await start();
    const port = Number(new URL(first.url).port);
    const error = await start({ port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`port ${port}`);
  });

  it('closes at once even with a browser-style keep-alive connection open', async () => {
    const dashboard = await startDashboard({ port: 0, status: async () => runningStatus(0) });
    const res = await fetch(`${dashboard.url}api/status`, { headers: { connection: 'keep-alive' } });
    await res.text();
    const started = Date.now();
    await dashboard.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await dashboard.close(); // idempotent
  });
});

describe('sharedStatus', () => {
  it('shares one call between concurrent requests and reuses a fresh answer', async () => {
    let calls = 0;
    let now = 0;
    // The first call stays pending until released, so the other two arrive while it is in flight.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const shared = sharedStatus(
      async () => {
        calls += 1;
        await gate;
        return calls;
      },
      1000,
      () => now,
    );
    const concurrent = Promise.all([shared(), shared(), shared()]);
    release();
    expect(await concurrent).toEqual([1, 1, 1]);
    now = 999;
    expect(await shared()).toBe(1);
    now = 1000;
    expect(await shared()).toBe(2);
  });

  it('never reuses a failure', async () => {
    let calls = 0;
    const shared = sharedStatus(async () => {
      calls += 1;
      if (calls === 1) throw new Error('down');
      return 'up';
    }, 60_000);
    await expect(shared()).rejects.toThrow('down');
    expect(await shared()).toBe('up');
  });
});
