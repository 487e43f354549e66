import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDataset, writeGroundTruth } from '../../src/simulator/index.js';
import { SMALL } from './helpers.js';

async function readNdjson<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as T);
}

describe('writeGroundTruth', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('writes every fill, the touched markets with their events (and the other members of their neg-risk groups), and the unresolvable ids with a reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-truth-'));
    dirs.push(dir);
    const dataset = createDataset(SMALL);
    const summary = await writeGroundTruth(dataset, join(dir, 'nested'));

    const fills = await readNdjson<Record<string, unknown>>(join(dir, 'nested', 'fills.ndjson'));
    const expected = dataset.wallets().flatMap((wallet) => [...dataset.fills(wallet)]);
    expect(fills).toEqual(expected);
    expect(summary).toMatchObject({ wallets: dataset.walletCount, fills: expected.length });

    const resolvable = new Set(dataset.wallets().flatMap((w) => dataset.conditionIds(w).resolvable));
    const unresolvable = new Set(dataset.wallets().flatMap((w) => dataset.conditionIds(w).unresolvable));
    const markets = await readNdjson<{ condition_id: string; event_ids: string[] }>(join(dir, 'nested', 'markets.ndjson'));
    // The touched markets, and every member of the neg-risk events among theirs (a backfill holds those too).
    const members = [...resolvable].flatMap((id) =>
      dataset.eventIdsOfMarket(id).flatMap((e) => {
        const event = dataset.event(e) as { negRisk: boolean; markets: { conditionId: string }[] };
        return event.negRisk ? event.markets.map((m) => m.conditionId) : [];
      }),
    );
    expect(new Set(markets.map((m) => m.condition_id))).toEqual(new Set([...resolvable, ...members]));
    expect(summary.markets).toBe(markets.length);
    for (const market of markets) expect(market.event_ids).toEqual(dataset.eventIdsOfMarket(market.condition_id));

    const events = await readNdjson<{ event_id: string }>(join(dir, 'nested', 'events.ndjson'));
    expect(new Set(events.map((e) => e.event_id))).toEqual(new Set(markets.flatMap((m) => m.event_ids)));
    expect(summary.events).toBe(events.length);
    for (const event of events) expect(dataset.event(event.event_id)).toBeDefined();

    // Activity, combo activity and resolutions: what a backfill of those feeds must end up with.
    const activity = await readNdjson<Record<string, unknown>>(join(dir, 'nested', 'activity.ndjson'));
    expect(activity).toEqual(dataset.wallets().flatMap((wallet) => [...dataset.activity(wallet)]));
    expect(summary.activity).toBe(activity.length);
    const comboActivity = await readNdjson<Record<string, unknown>>(join(dir, 'nested', 'combo_activity.ndjson'));
    expect(comboActivity).toEqual(dataset.wallets().flatMap((wallet) => dataset.comboActivity(wallet)));
    expect(comboActivity.length).toBeGreaterThan(0);
    const resolutions = await readNdjson<Record<string, unknown>>(join(dir, 'nested', 'resolutions.ndjson'));
    expect(resolutions).toEqual(markets.map((market) => dataset.resolution(market.condition_id)));
    expect(summary).toMatchObject({ comboActivity: comboActivity.length, resolutions: markets.length });

    const unresolved = await readNdjson<{ condition_id: string; reason: string }>(join(dir, 'nested', 'unresolved.ndjson'));
    expect(new Set(unresolved.map((u) => u.condition_id))).toEqual(unresolvable);
    for (const entry of unresolved) expect(entry.reason).not.toBe('');
  });
});
