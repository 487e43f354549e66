/** Shared by the chain tests: synthetic fills, a clock that squeezes months into few blocks, a fast limiter. */
import { RPC_RATE_LIMIT_KEY, RpcClient } from '../../src/chain/rpc-client.js';
import type { RpcClientOptions } from '../../src/chain/rpc-client.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import type { SimLikeFill } from '../../testkit/chain-logs.js';
import { linearClock } from '../../testkit/chain-logs.js';

/** 2025-01-01T00:00:00Z: v1 exchange era. */
export const T0 = Date.UTC(2025, 0, 1) / 1000;

/** One block a minute from block 1,000 at T0: 200,000 blocks hold about 139 days. */
export const MINUTE_CLOCK = linearClock({ block: 1_000, seconds: T0 }, 60);

export const WALLET = '0x' + 'a1'.repeat(20);
export const OTHER_WALLET = '0x' + 'b2'.repeat(20);

/** A limiter that never slows a test. */
export function fastLimiter(): RateLimiter {
  return new RateLimiter({ [RPC_RATE_LIMIT_KEY]: { requests: 10_000, perMs: 100 } });
}

/** A sleep that records what it was asked for and returns at once. */
export function recordingSleep(): { sleep: (ms: number, signal?: AbortSignal) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms, signal) => {
      delays.push(ms);
      return signal?.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve();
    },
  };
}

export function rpcClient(url: string, options: Partial<RpcClientOptions> = {}): RpcClient {
  return new RpcClient({ url, rateLimiter: fastLimiter(), sleep: recordingSleep().sleep, random: () => 0.5, timeoutMs: 5_000, ...options });
}

const hex64 = (n: number, salt: string): string => `0x${(salt + n.toString(16)).padStart(64, '0').slice(-64)}`;

/**
 * `count` fills of `wallet`, one per transaction, at the minutes given by `minuteOf(i)` after T0:
 * sizes and prices vary, a third SELL, token ids from a small set.
 */
export function syntheticFills(wallet: string, count: number, minuteOf: (i: number) => number, salt = 'f'): SimLikeFill[] {
  return Array.from({ length: count }, (_, i) => ({
    proxy_wallet: wallet,
    transaction_hash: hex64(i, salt),
    asset: String(10n ** 70n + BigInt(i % 7)),
    side: i % 3 === 0 ? 'SELL' : 'BUY',
    size: 1 + ((i * 37) % 500) / 100,
    price: (1 + ((i * 13) % 98)) / 100,
    timestamp: T0 + minuteOf(i) * 60,
  }));
}
