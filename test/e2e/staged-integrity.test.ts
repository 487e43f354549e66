import { readFile, truncate, writeFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RunEvents } from '../../src/engine/run-events.js';
import { reloadStaged } from '../../src/engine/reload-staged.js';
import { LocalStageStore } from '../../src/staging/local/local-stage-store.js';
import type { StageKind, WalletManifest } from '../../src/staging/stage-store.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { TEST_RUN_OPTIONS, openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

type Damage = 'truncate' | 'flip' | 'empty';

async function damage(path: string, how: Damage): Promise<void> {
  if (how === 'empty') return writeFile(path, '');
  const data = await readFile(path);
  if (how === 'truncate') return truncate(path, Math.floor(data.length / 2));
  const at = Math.floor(data.length / 2);
  data[at] = data[at]! ^ 0x40;
  return writeFile(path, data);
}

/**
 * A checkpoint means the data is there. Staged files carry their size, sha256 and row count in a
 * manifest that carries its own checksum; a truncated, bit-flipped or emptied file — trades,
 * markets, events or the manifest — is never loaded: `run` fetches the wallet again, `reload`
 * reports it with its path. Checkpoints record what the warehouse holds.
 */
describe('staged files prove themselves', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 31, wallets: 40, maxTradesPerWallet: 800 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('damaged trades, markets, events and manifest files are detected: reload reports them, run refetches them, and the warehouse ends equal to the ground truth', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      expect(await runBackfill(dir, sim.url)).toMatchObject({ outcome: 'complete', loaded: 40 });

      const stage = new LocalStageStore(paths(dir).stage);
      const manifests = new Map<string, WalletManifest>();
      for (const w of sim.dataset.wallets()) {
        const m = await stage.readManifest(w);
        if (m && m.trade_count > 0) manifests.set(w, m);
      }
      const pick = (has: StageKind, taken: Set<string>) => [...manifests].find(([w, m]) => m.files[has] && !taken.has(w))![0];
      const taken = new Set<string>();
      const plan: { wallet: string; file: StageKind | 'manifest'; how: Damage }[] = [];
      for (const [file, how] of [
        ['trades', 'truncate'],
        ['trades', 'flip'],
        ['trades', 'empty'],
        ['markets', 'truncate'],
        ['events', 'flip'],
        ['manifest', 'empty'],
        ['manifest', 'truncate'],
        ['manifest', 'flip'],
      ] as const) {
        const wallet = pick(file === 'manifest' ? 'trades' : file, taken);
        taken.add(wallet);
        plan.push({ wallet, file, how });
        const path = file === 'manifest' ? stage.pathFor('manifests', wallet) : manifests.get(wallet)!.files[file]!.uri;
        if (file === 'manifest' && how === 'flip') {
          // Still valid JSON, but not what was written: the manifest's own checksum catches it.
          const text = await readFile(path, 'utf8');
          await writeFile(path, text.replace(/"trade_count":(\d+)/, (_, n: string) => `"trade_count":${Number(n) + 1}`));
        } else {
          await damage(path, how);
        }
      }
      const damaged = plan.map((p) => p.wallet);

      // reload: every damaged wallet is reported (data files with their path) or found without a bundle (manifests); none loaded.
      const wh = await openWarehouse(dir);
      await wh.query(`UPDATE backfill_checkpoint SET upload_successful = false WHERE wallet_address IN (${damaged.map((w) => `'${w}'`).join(', ')})`);
      await wh.query(`DELETE FROM trades WHERE proxy_wallet IN (${damaged.map((w) => `'${w}'`).join(', ')})`);
      const reload = await reloadStaged({ stage, warehouse: wh, events: new RunEvents() }, { runId: 'reload', includeParked: true, commit: TEST_RUN_OPTIONS.commit });
      expect(reload.reloaded).toBe(0);
      expect(reload.damaged.map((d) => d.wallet).sort()).toEqual(plan.filter((p) => p.file !== 'manifest').map((p) => p.wallet).sort());
      for (const d of reload.damaged) expect(d.reason).toContain(paths(dir).stage);
      expect(reload.withoutStagedFiles.sort()).toEqual(plan.filter((p) => p.file === 'manifest').map((p) => p.wallet).sort());
      expect(await wh.query(`SELECT count(*) AS n FROM backfill_checkpoint WHERE upload_successful AND wallet_address IN (${damaged.map((w) => `'${w}'`).join(', ')})`)).toEqual([{ n: 0n }]);
      await wh.close();

      // run: each damaged wallet is fetched again (never loaded from the damaged files).
      sim.resetStats();
      const events = new RunEvents();
      const reported: string[] = [];
      events.on('wallet:damaged', ({ wallet }) => reported.push(wallet));
      expect(await runBackfill(dir, sim.url, {}, {}, events)).toMatchObject({ outcome: 'complete', loaded: damaged.length });
      expect(reported.sort()).toEqual(plan.filter((p) => p.file !== 'manifest').map((p) => p.wallet).sort());
      for (const wallet of damaged) expect(sim.stats().tradeRequestsByWallet[wallet] ?? 0, wallet).toBeGreaterThan(0);

      const check = await openWarehouse(dir);
      try {
        await expectEqualsGroundTruth(check, sim.dataset);
        const mismatched = await check.query(
          `SELECT k.wallet_address FROM backfill_checkpoint k LEFT JOIN (SELECT proxy_wallet, count(*) AS n FROM trades GROUP BY 1) t ON t.proxy_wallet = k.wallet_address
           WHERE k.trade_count <> COALESCE(t.n, 0)`,
        );
        expect(mismatched).toEqual([]);
      } finally {
        await check.close();
      }
    });
  });

  it('a truncated trades file whose manifest is trusted is still refused at load: the row count is checked against the manifest, the checkpoint is never successful', async () => {
    await withTempDir(async (dir) => {
      const wallet = sim.dataset.wallets().find((w) => sim.dataset.tradeCount(w) > 300)!;
      await seedTraders(dir, [wallet]);
      // Damage the file between staging and loading: the commit waits long enough for the test to act.
      const events = new RunEvents();
      events.on('wallet:staged', () => void 0);
      const stage = new LocalStageStore(paths(dir).stage);
      const run = runBackfill(dir, sim.url, { reuseStaged: false, commit: { ...TEST_RUN_OPTIONS.commit, maxDelayMs: 300 } }, {}, events);
      await new Promise<void>((resolve) => events.once('wallet:staged', () => resolve()));
      const manifest = (await stage.readManifest(wallet))!;
      await truncate(manifest.files.trades!.uri, Math.floor(manifest.files.trades!.bytes / 2));
      const summary = await run;
      expect(summary).toMatchObject({ loaded: 0, failed: 1 });
      const check = await openWarehouse(dir);
      try {
        const [row] = await check.query<{ upload_successful: boolean; error: string }>('SELECT upload_successful, error FROM backfill_checkpoint');
        expect(row!.upload_successful).toBe(false);
        expect(row!.error).toMatch(/holds \d+ row\(s\) but its manifest says \d+|DuckDB check staged trades failed/);
        expect(await check.query('SELECT count(*) AS n FROM trades')).toEqual([{ n: 0n }]);
      } finally {
        await check.close();
      }
    });
  });
});
