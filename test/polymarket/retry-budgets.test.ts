/**
 * The one table of retry budgets is what the layers really run with: the mission's numbers for the
 * engine (through the configuration the CLI resolves), the request budget in the HTTP client's
 * defaults, the SDK retries handed to both Google clients.
 */
import { describe, expect, it } from 'vitest';

import { GOOGLE_SDK_RETRIES, RETRY_BUDGETS } from '../../src/lib/retry-budgets.js';
import { resolveConfig } from '../../src/library/config.js';
import { DEFAULT_MAX_ATTEMPTS } from '../../src/polymarket/polymarket-source.js';

describe('retry budgets', () => {
  it("hold the mission's numbers: loads 3 attempts, checkpoint writes 5, each under a total deadline", () => {
    expect(RETRY_BUDGETS.warehouseLoad.attempts).toBe(3);
    expect(RETRY_BUDGETS.checkpointWrite.attempts).toBe(5);
    for (const budget of [RETRY_BUDGETS.httpRequest, RETRY_BUDGETS.warehouseLoad, RETRY_BUDGETS.checkpointWrite]) {
      expect(budget.deadlineMs).toBeGreaterThan(budget.maxDelayMs);
    }
  });

  it('are the ones the CLI configuration and the Polymarket source take by default', () => {
    const config = resolveConfig({}, {});
    expect(config.budgets).toEqual({
      loadAttempts: RETRY_BUDGETS.warehouseLoad.attempts,
      checkpointAttempts: RETRY_BUDGETS.checkpointWrite.attempts,
      retryBaseDelayMs: RETRY_BUDGETS.warehouseLoad.baseDelayMs,
      retryMaxDelayMs: RETRY_BUDGETS.warehouseLoad.maxDelayMs,
      retryDeadlineMs: RETRY_BUDGETS.warehouseLoad.deadlineMs,
    });
    expect(config.source.maxAttempts).toBe(RETRY_BUDGETS.httpRequest.attempts);
    expect(DEFAULT_MAX_ATTEMPTS).toBe(RETRY_BUDGETS.httpRequest.attempts);
    expect(GOOGLE_SDK_RETRIES).toEqual({ maxRetries: 3, totalTimeout: 120, maxRetryDelay: 32 });
  });
});
