import { describe, expect, it } from 'vitest';

import { formatReport, runChaos } from '../../scripts/chaos.js';

describe('chaos, short version of `npm run chaos`', () => {
  it('after random SIGKILLs and SIGTERMs, warehouse faults and a second runner, the warehouse equals the ground truth with nothing left behind', async () => {
    const report = await runChaos({ wallets: 120, maxTrades: 2000, kills: 3, terms: 1, seed: 5, log: () => undefined });
    console.info(formatReport(report));
    expect(report.diff).toMatchObject({ duplicates: 0, missing: 0, extra: 0, marketsMissing: 0, eventsMissing: 0, badCheckpoints: [] });
    expect(report.leftovers).toEqual([]);
    expect(report.poisonReloadTradeRequests).toBe(0);
    expect(report.ok).toBe(true);
  }, 180_000);
});
