import { describe, expect, it } from 'vitest';

import { refreshWindowStart } from '../../src/engine/refresh-window.js';

const NOW_MS = Date.parse('2026-12-06T12:00:00Z');
const NOW = NOW_MS / 1000;
const HOUR = 3_600;

describe('refreshWindowStart', () => {
  it('starts an overlap before the newest fill held, in whole seconds', () => {
    expect(refreshWindowStart('2026-12-01T00:00:00.900000Z', HOUR, NOW_MS)).toBe(Date.parse('2026-12-01T00:00:00Z') / 1000 - HOUR);
  });

  it('never starts later than now minus the overlap: a wallet holding a fill dated in the future is still refreshed', () => {
    expect(refreshWindowStart('2100-01-01T00:00:00.000000Z', HOUR, NOW_MS)).toBe(NOW - HOUR);
    expect(refreshWindowStart('2027-12-06T12:00:00.000000Z', HOUR, NOW_MS)).toBe(NOW - HOUR);
    // A fill dated within the overlap of now is an ordinary newest fill.
    expect(refreshWindowStart('2026-12-06T11:59:00.000000Z', HOUR, NOW_MS)).toBe(NOW - 60 - HOUR);
  });

  it('fetches the full history (start 1) for a wallet holding no fill or an unreadable date', () => {
    expect(refreshWindowStart(null, HOUR, NOW_MS)).toBe(1);
    expect(refreshWindowStart('not a date', HOUR, NOW_MS)).toBe(1);
    expect(refreshWindowStart('1970-01-01T00:10:00Z', HOUR, NOW_MS)).toBe(1);
  });
});
