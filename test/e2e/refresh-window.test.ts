/**
 * The refresh window starts at the newest held fill MINUS the overlap, so a fill the Data API indexed
 * late — older than the newest one held, but inside the overlap — is still caught. The simulator's
 * late fills sit exactly on the newest timestamp (an inclusive window starting at the newest fill
 * would catch those too), so this test serves a wallet whose late fill is strictly inside the
 * overlap, and asserts the `start` the refresh sent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { hostileRow } from '../fakes/hostile-polymarket.js';
import { listen, sendJson } from '../fakes/http-util.js';
import type { RunningServer } from '../fakes/http-util.js';
import { openWarehouse, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { withTempDir } from '../../testkit/temp-dir.js';

const WALLET = `0x${'ab'.repeat(20)}`;
const OVERLAP_SECONDS = 3_600;

/**
 * A Data API serving one wallet's fills, newest first, honouring `start` as the document says (inclusive); the
 * wallet has no other activity, no combo rows, and no market of it has a resolution row.
 */
async function startWalletApi(rows: () => Record<string, unknown>[], starts: number[]): Promise<RunningServer> {
  return listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://wallet-api.invalid');
    if (url.pathname !== '/v2/trades') {
      sendJson(res, 200, url.pathname === '/v2/resolutions' ? { data: [] } : { data: [], pagination: { limit: 1000, has_more: false, next_cursor: null } });
      return;
    }
    const start = Number(url.searchParams.get('start') ?? '0');
    starts.push(start);
    const data = rows()
      .filter((row) => (row.timestamp as number) >= start)
      .sort((a, b) => (b.timestamp as number) - (a.timestamp as number));
    sendJson(res, 200, { data, pagination: { limit: 1000, offset: 0, has_more: false, next_cursor: null } });
  });
}

describe('refresh window', () => {
  let sim: RunningSimulator;
  let api: RunningServer;
  const starts: number[] = [];
  let rows: Record<string, unknown>[] = [];
  beforeEach(async () => {
    sim = await startSimulator({ seed: 5, wallets: 1 });
    api = await startWalletApi(() => rows, starts);
  });
  afterEach(async () => {
    await api.close();
    await sim.close();
  });

  it('asks from the newest held fill minus the overlap and stores a fill indexed late inside the overlap, once', async () => {
    await withTempDir(async (dir) => {
      const [newest, older] = [hostileRow(WALLET, 0), hostileRow(WALLET, 7_200)];
      rows = [newest, older];
      await seedTraders(dir, [WALLET]);
      const source = { dataApiUrl: api.url, gammaApiUrl: sim.url };
      expect(await runBackfill(dir, api.url, {}, source)).toMatchObject({ outcome: 'complete', loaded: 1 });

      // Indexed after the backfill: 20 minutes older than the newest fill held, and one newer fill.
      const late = hostileRow(WALLET, 1_200);
      const later = { ...hostileRow(WALLET, 0), timestamp: (newest.timestamp as number) + 60, transaction_hash: `0x${'f'.repeat(64)}` };
      rows = [later, newest, late, older];
      starts.length = 0;
      const summary = await runBackfill(dir, api.url, { refresh: { overlapSeconds: OVERLAP_SECONDS, marketRefreshAfterMs: 0 } }, source);
      expect(summary).toMatchObject({ mode: 'refresh', outcome: 'complete', failed: 0 });
      expect(starts).toEqual([(newest.timestamp as number) - OVERLAP_SECONDS]);

      const wh = await openWarehouse(dir);
      try {
        const held = await wh.query<{ transaction_hash: string }>('SELECT transaction_hash FROM trades ORDER BY timestamp DESC');
        expect(held.map((r) => r.transaction_hash)).toEqual([later, newest, late, older].map((r) => r.transaction_hash));
      } finally {
        await wh.close();
      }
    });
  });
});
