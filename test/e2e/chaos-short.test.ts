import { describe, expect, it } from 'vitest';

import { formatReport, runChaos } from '../../testkit/chaos.js';

describe('chaos, short version of `npm run chaos`', () => {
  it('after SIGKILLs and SIGTERMs landing mid-run (each SIGKILL followed at once by a run that takes over), warehouse faults and a second runner, the warehouse equals the ground truth with nothing left behind', async () => {
    const report = await runChaos({ wallets: 90, maxTrades: 1200, kills: 3, terms: 1, seed: 5, log: () => undefined });
    // The report is printed only when something is wrong: the suite prints no debug dumps.
    expect(report.ok, formatReport(report)).toBe(true);
    expect(report.killsLanded).toBeGreaterThanOrEqual(3);
    expect(report.termsLanded).toBeGreaterThanOrEqual(1);
    expect(report.diff).toMatchObject({ duplicates: 0, missing: 0, extra: 0, marketsMissing: 0, eventsMissing: 0, badCheckpoints: [] });
    expect(report.leftovers).toEqual([]);
    expect(report.poisonReloadTradeRequests).toBe(0);
    expect(report.ok).toBe(true);
  }, 180_000);
});
