/** Writes what a perfect backfill of the whole dataset must end up with, as NDJSON files. */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { Dataset } from './dataset.js';
import type { SimDataset } from './types.js';

/** Buffers lines into chunks of about 64 KiB and honours back-pressure. */
class NdjsonFile {
  readonly #stream: Writable;
  #buffer = '';
  lines = 0;

  constructor(path: string) {
    this.#stream = createWriteStream(path, { encoding: 'utf8' });
    // Keep write errors from being unhandled until close() reports them.
    this.#stream.on('error', () => {});
  }

  /** Returns a promise only when the buffer was flushed, so the hot path costs no microtask per line. */
  write(value: unknown): Promise<void> | undefined {
    this.lines += 1;
    this.#buffer += `${JSON.stringify(value)}\n`;
    return this.#buffer.length >= 65_536 ? this.#flush() : undefined;
  }

  async close(): Promise<void> {
    await this.#flush();
    this.#stream.end();
    await once(this.#stream, 'finish');
  }

  async #flush(): Promise<void> {
    if (this.#buffer === '') return;
    const chunk = this.#buffer;
    this.#buffer = '';
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain');
  }
}

/**
 * Writes the ground truth into `dir`: `fills.ndjson` (every fill of every wallet, wallet by wallet, newest first),
 * `activity.ndjson` (every other activity row, wallet by wallet, oldest first, deposits and withdrawals included),
 * `combo_activity.ndjson` (combo lifecycle rows as served now), `markets.ndjson` ({condition_id, event_ids, closed},
 * closed as of the data clock) and `events.ndjson` ({event_id}) for what the fills touch and Gamma serves (with every
 * member of the neg-risk events among those, as a backfill holds them),
 * `resolutions.ndjson` (the `/v2/resolutions` row of each of those markets) and `unresolved.ndjson`
 * ({condition_id, reason}) for touched ids Gamma cannot resolve. Streams wallet by wallet; only the sets of touched
 * ids are held in memory.
 */
export async function writeGroundTruth(
  dataset: SimDataset,
  dir: string,
): Promise<{ wallets: number; fills: number; activity: number; comboActivity: number; markets: number; events: number; resolutions: number }> {
  if (!(dataset instanceof Dataset)) throw new TypeError('writeGroundTruth needs a dataset from createDataset');
  await mkdir(dir, { recursive: true });
  const files = {
    fills: new NdjsonFile(join(dir, 'fills.ndjson')),
    activity: new NdjsonFile(join(dir, 'activity.ndjson')),
    comboActivity: new NdjsonFile(join(dir, 'combo_activity.ndjson')),
    resolutions: new NdjsonFile(join(dir, 'resolutions.ndjson')),
    markets: new NdjsonFile(join(dir, 'markets.ndjson')),
    events: new NdjsonFile(join(dir, 'events.ndjson')),
    unresolved: new NdjsonFile(join(dir, 'unresolved.ndjson')),
  };
  const { universe } = dataset;
  const touchedMarkets = new Set<number>();
  const combos = new Set<string>();
  try {
    for (let w = 0; w < dataset.walletCount; w += 1) {
      const trades = dataset.trades(w);
      for (let r = 0; r < trades.count; r += 1) {
        const pending = files.fills.write(trades.groundTruth(r));
        if (pending) await pending;
        const market = trades.market[r] ?? 0;
        if (market >= 0) touchedMarkets.add(market);
        else combos.add(trades.conditionId(r));
      }
      const activity = dataset.activityOf(trades);
      for (let k = 0; k < activity.count; k += 1) {
        const row = activity.groundTruth(k);
        const pending = files.activity.write(row);
        if (pending) await pending;
        // A backfill loads the markets its activity touches too (deposits and withdrawals are not fetched by default).
        if (row.condition_id && row.type !== 'DEPOSIT' && row.type !== 'WITHDRAWAL') {
          const market = universe.findMarket(row.condition_id);
          if (market !== undefined) touchedMarkets.add(market);
          else combos.add(row.condition_id);
        }
      }
      for (const row of dataset.comboActivity(trades.address)) await files.comboActivity.write(row);
    }
    // A backfill holds every member of the neg-risk events it holds, traded or not (a conversion needs the group whole).
    for (const m of [...touchedMarkets]) {
      if (!universe.isResolvable(m)) continue;
      const event = universe.eventCore(universe.eventOf(m));
      if (event.negRisk) for (let member = event.firstMarket; member < event.firstMarket + event.size; member += 1) touchedMarkets.add(member);
    }
    const touchedEvents = new Set<number>();
    for (const m of [...touchedMarkets].sort((a, b) => a - b)) {
      const conditionId = universe.conditionIdOf(m);
      if (universe.isResolvable(m)) {
        const e = universe.eventOf(m);
        touchedEvents.add(e);
        const event = universe.eventCore(e);
        await files.markets.write({ condition_id: conditionId, event_ids: [event.id], closed: event.closed });
        await files.resolutions.write(dataset.resolution(conditionId));
      } else {
        await files.unresolved.write({ condition_id: conditionId, reason: 'unknown to Gamma' });
      }
    }
    for (const id of [...combos].sort()) {
      await files.unresolved.write({ condition_id: id, reason: 'combo condition id' });
    }
    for (const e of [...touchedEvents].sort((a, b) => a - b)) {
      await files.events.write({ event_id: universe.eventCore(e).id });
    }
  } finally {
    await Promise.all(Object.values(files).map((file) => file.close()));
  }
  return {
    wallets: dataset.walletCount,
    fills: files.fills.lines,
    activity: files.activity.lines,
    comboActivity: files.comboActivity.lines,
    markets: files.markets.lines,
    events: files.events.lines,
    resolutions: files.resolutions.lines,
  };
}
