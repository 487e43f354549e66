import { describe, expect, it } from 'vitest';

import { resolveConfig } from '../../src/library/config.js';

/** How `--via` resolves: auto by default, per wallet when the refresh is narrowed, feed refused with a narrowing. */
describe('refresh --via', () => {
  it('defaults to auto, and takes feed, wallets and a discovery volume', () => {
    expect(resolveConfig({}, {}).refresh.via).toBe('auto');
    expect(resolveConfig({ via: 'feed', discoverMinVolume: '2500' }, {}).refresh).toMatchObject({ via: 'feed', discoverMinVolume: 2500 });
    expect(resolveConfig({ via: 'wallets' }, {}).refresh.via).toBe('wallets');
  });

  it('goes per wallet when --wallets or --older-than narrow the refresh, and refuses --via feed with them', () => {
    expect(resolveConfig({ olderThan: '6h' }, {}).refresh.via).toBe('wallets');
    expect(resolveConfig({ wallets: 'list.txt' }, {}).refresh.via).toBe('wallets');
    expect(() => resolveConfig({ via: 'feed', wallets: 'list.txt' }, {})).toThrow(/--via feed refreshes every tracked wallet/);
  });

  it('refuses an unknown mode and a volume that is not a positive amount, naming the flag', () => {
    expect(() => resolveConfig({ via: 'gossip' }, {})).toThrow(/--via/);
    for (const bad of ['0', '-5', 'lots', '']) expect(() => resolveConfig({ discoverMinVolume: bad }, {})).toThrow(/--discover-min-volume/);
  });
});
