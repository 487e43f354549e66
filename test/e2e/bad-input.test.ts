import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths } from '../../testkit/backfill-harness.js';
import { runArgs, runCli } from '../../testkit/cli.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

const MALFORMED = '0x' + 'd'.repeat(40);
const HTML = '0x' + 'e'.repeat(40);
const TRUNCATED = '0x' + 'f'.repeat(40);
const ODD_ENUM = '0x' + 'c'.repeat(40);

const oddRow = (wallet: string, side: unknown, price: unknown) => ({
  proxy_wallet: wallet,
  side,
  token_id: '123',
  condition_id: '0x' + '9'.repeat(64),
  size: 5,
  price,
  timestamp: 1700000000,
  title: 't',
  slug: 's',
  icon: '',
  event_slug: '',
  outcome: 'Yes',
  outcome_index: 0,
  name: '',
  pseudonym: '',
  bio: '',
  profile_image: '',
  profile_image_optimized: '',
  transaction_hash: '0x' + '1'.repeat(64),
});

/**
 * Sits in front of the simulator and misbehaves for four wallets: a row with a non-numeric price,
 * an HTML error page, JSON cut off mid-body, and an unexpected `side` enum (which must load).
 */
function startMangler(sim: RunningSimulator): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const user = url.searchParams.get('user')?.toLowerCase();
    const page = (rows: unknown[]) => JSON.stringify({ data: rows, pagination: { limit: 1000, offset: 0, has_more: false, next_cursor: null } });
    if (url.pathname === '/v2/trades' && user === MALFORMED) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(page([oddRow(MALFORMED, 'BUY', 'abc')]));
    } else if (url.pathname === '/v2/trades' && user === HTML) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><head><title>Just a moment...</title></head><body>cf</body></html>');
    } else if (url.pathname === '/v2/trades' && user === TRUNCATED) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(page([oddRow(TRUNCATED, 'BUY', 0.5)]).slice(0, 80));
    } else if (url.pathname === '/v2/trades' && user === ODD_ENUM) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(page([oddRow(ODD_ENUM, 'SWAP', 0.5)]));
    } else {
      const upstream = await fetch(`${sim.url}${req.url}`);
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('bad input never crashes a run, loses or duplicates a row', () => {
  let sim: RunningSimulator;
  let mangler: Server;
  let url: string;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 21, wallets: 20, maxTradesPerWallet: 500 });
    mangler = await startMangler(sim);
    url = `http://127.0.0.1:${(mangler.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    mangler.close();
    await sim.close();
  });

  it('hostile traders rows and malformed API responses: valid wallets load, each bad one is a recorded failure naming its value, exit code 2', async () => {
    await withTempDir(async (dir) => {
      const warehouse = await openWarehouse(dir);
      const valid = sim.dataset.wallets();
      const hostile = [
        ...valid.slice(0, 5).map((w) => `  ${w.toUpperCase().replace('0X', '0x')}\t`),
        ...valid,
        valid[0]!,
        null,
        '',
        'vitalik.eth',
        "0x'); DROP TABLE trades; --",
        '0x' + '1'.repeat(41),
        MALFORMED,
        HTML,
        TRUNCATED,
        ODD_ENUM,
      ];
      for (const value of hostile) await warehouse.query('INSERT INTO traders (wallet_address) VALUES ($v)', { v: value });
      await warehouse.close();

      const result = await runCli(runArgs(paths(dir), url, ['--timeout', '5s', '--max-attempts', '2']), { BACKFILL_LOG_LEVEL: 'error' });
      expect(result.code).toBe(2);
      expect(result.stdout).toMatch(/21 wallet\(s\) loaded, 3 failed, 4 invalid/);

      const failed = await runCli(['failed', '--json', '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage]);
      const rows = failed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { wallet_address: string; error: string; parked: boolean });
      const byWallet = new Map(rows.map((r) => [r.wallet_address, r]));
      expect(byWallet.get(MALFORMED)?.error).toMatch(/price.*"abc"/);
      expect(byWallet.get(HTML)?.error).toMatch(/HTML.*text\/html.*Just a moment/);
      expect(byWallet.get(TRUNCATED)?.error).toMatch(/truncated JSON/);
      for (const bad of ['', 'vitalik.eth', "0x'); DROP TABLE trades; --", '0x' + '1'.repeat(41)]) {
        expect(byWallet.get(bad)?.error).toContain(JSON.stringify(bad));
        expect(byWallet.get(bad)?.parked).toBe(true);
      }

      const check = await openWarehouse(dir);
      const [odd] = await check.query<{ side: string }>('SELECT side FROM trades WHERE proxy_wallet = $w', { w: ODD_ENUM });
      expect(odd?.side).toBe('SWAP');
      // The odd-enum wallet is not part of the simulator's world: set its row aside, then compare.
      await check.query('DELETE FROM trades WHERE proxy_wallet = $w', { w: ODD_ENUM });
      await check.query("DELETE FROM unresolved_ids WHERE id = $id", { id: '0x' + '9'.repeat(64) });
      await expectEqualsGroundTruth(check, sim.dataset, valid);
      await check.close();

      // Invalid addresses are reported once, not retried every run; the three API failures are retried.
      const again = await runCli(runArgs(paths(dir), url, ['--timeout', '5s', '--max-attempts', '2', '--json']));
      const summary = JSON.parse(again.stdout) as { planned: number; invalid: number };
      expect(summary).toMatchObject({ planned: 3, invalid: 0 });
    });
  });

  it('`traders import` reports every rejected line by number and adds the rest once', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'wallets.csv');
      const [w1, w2] = sim.dataset.wallets();
      await writeFile(file, `name,wallet_address\nalice,${w1}\nbob,not-an-address\n\ncarol,${w2!.toUpperCase().replace('0X', '0x')}\ndave,${w1}\n`);
      const result = await runCli(['traders', 'import', file, '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${file}:3: rejected: invalid wallet address "not-an-address"`);
      expect(result.stdout).toContain('added 2 new wallet(s)');
      const status = await runCli(['status', '--json', '--warehouse', paths(dir).warehouse]);
      expect(JSON.parse(status.stdout)).toMatchObject({ total: 2, completed: 0, pending: 2, percent_complete: 0 });
    });
  });
});
