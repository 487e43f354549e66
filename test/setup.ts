import { afterEach, vi } from 'vitest';

import { killStrayChildren } from '../testkit/cli.js';

// A test that failed or timed out while a CLI child was working must not leave it running into the
// next test (it would load the machine and hold its files).
afterEach(() => {
  killStrayChildren();
  // Files share a worker (isolate: false in vitest.config.ts): fake timers never outlive their test.
  vi.useRealTimers();
});
