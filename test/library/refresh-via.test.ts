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

  it('stages a feed walk in chunks of 50,000 kept rows unless --feed-chunk-rows says otherwise, a whole number from 1', () => {
    expect(resolveConfig({}, {}).refresh.feedChunkRows).toBe(50_000);
    expect(resolveConfig({ feedChunkRows: '25' }, {}).refresh.feedChunkRows).toBe(25);
    for (const bad of ['0', '-1', '2.5', 'many', '', '10000001']) expect(() => resolveConfig({ feedChunkRows: bad }, {})).toThrow(/--feed-chunk-rows/);
  });
});
