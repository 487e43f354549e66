/** Parsers for the `backfill sim` command-line options. */
import { parseDuration } from '../lib/duration.js';
import { ConfigError } from '../lib/errors.js';
import type { ChainPlan } from './sim-chain.js';
import type { FaultRates, GammaPaging, GlobalFeedMode } from './types.js';

/** Short spellings accepted on the command line; the `FaultRates` key names are accepted too. */
const FAULT_ALIASES: Record<string, keyof FaultRates> = {
  '429': 'rateLimitedWithRetryAfter',
  '429-no-retry-after': 'rateLimitedWithoutRetryAfter',
  '503': 'unavailable',
  '500': 'serverError',
  html: 'htmlErrorPage',
  truncated: 'truncatedJson',
  reset: 'connectionReset',
  rateLimitedWithRetryAfter: 'rateLimitedWithRetryAfter',
  rateLimitedWithoutRetryAfter: 'rateLimitedWithoutRetryAfter',
  unavailable: 'unavailable',
  serverError: 'serverError',
  htmlErrorPage: 'htmlErrorPage',
  truncatedJson: 'truncatedJson',
  connectionReset: 'connectionReset',
};

const VALID_FAULT_KEYS = '429, 429-no-retry-after, 503, 500, html, truncated, reset';

/**
 * Parses `"429=0.05,429-no-retry-after=0.02,503=0.02,500=0.01,html=0.01,truncated=0.01,reset=0.01"` into fault
 * rates. An empty string or "none" means no faults.
 */
export function parseFaultSpec(spec: string): FaultRates {
  const rates: FaultRates = {};
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return rates;
  for (const raw of trimmed.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    const eq = token.indexOf('=');
    const name = eq < 0 ? token : token.slice(0, eq).trim();
    const valueText = eq < 0 ? '' : token.slice(eq + 1).trim();
    const key = Object.hasOwn(FAULT_ALIASES, name) ? FAULT_ALIASES[name] : undefined;
    if (key === undefined) {
      throw new ConfigError(`Unknown fault "${name}" in fault spec token "${token}"`, {
        hint: `Valid keys: ${VALID_FAULT_KEYS}; write each as key=rate with a rate between 0 and 1`,
      });
    }
    const rate = valueText === '' ? Number.NaN : Number(valueText);
    if (!(rate >= 0 && rate <= 1)) {
      throw new ConfigError(`Bad rate in fault spec token "${token}"`, {
        hint: `Write key=rate with a rate between 0 and 1; valid keys: ${VALID_FAULT_KEYS}`,
      });
    }
    rates[key] = rate;
  }
  return rates;
}

/** Parses `"50-150"` (or `"100"` for a fixed delay) into a latency range in milliseconds. */
export function parseLatencySpec(spec: string): { min: number; max: number } {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$/.exec(spec);
  const min = match ? Number(match[1]) : Number.NaN;
  const max = match ? Number(match[2] ?? match[1]) : Number.NaN;
  if (!(min >= 0 && max >= min)) {
    throw new ConfigError(`Bad latency "${spec}"`, { hint: 'Write MIN-MAX in milliseconds with MIN <= MAX, e.g. 50-150' });
  }
  return { min, max };
}

/** Parses `keyset`, `legacy` or `both` (any case): which Gamma listings the simulator answers. */
export function parseGammaPaging(spec: string): GammaPaging {
  const value = spec.trim().toLowerCase();
  if (value === 'keyset' || value === 'legacy' || value === 'both') return value;
  throw new ConfigError(`Bad Gamma paging "${spec}"`, {
    hint: 'Use keyset (legacy /markets and /events answer 410), legacy (keyset routes answer 404) or both',
  });
}

/**
 * Parses `0xWALLET=USDC` (e.g. `0xabc…=12.5`, a negative amount too) into the wallet whose realized profit
 * `/v2/positions` and `/v2/user-pnl` misreport, and by how much.
 */
export function parseMisreportSpec(spec: string): { wallet: string; usdc: number } {
  const match = /^\s*(0x[0-9a-fA-F]{40})\s*=\s*([-+]?\d+(?:\.\d+)?)\s*$/.exec(spec);
  const usdc = match ? Number(match[2]) : Number.NaN;
  if (!match || usdc === 0) {
    throw new ConfigError(`Bad misreport "${spec}"`, {
      hint: 'Write WALLET=USDC with the proxy wallet (0x followed by 40 hex digits) and a non-zero amount, e.g. 0x1234…abcd=25',
    });
  }
  return { wallet: match[1]!.toLowerCase(), usdc };
}

/** Most fills per simulated day the simulator accepts (Polymarket's whole exchange makes a few million). */
export const MAX_FILLS_PER_DAY = 1_000_000_000;

/**
 * `--fills-per-day N`: global activity every `advance` adds over all wallets, per simulated day (`100000`, `100k`,
 * `2.5m`; 0 is allowed and adds only the one designated wallet's fills).
 */
export function parseFillsPerDay(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$/i.exec(text);
  const scale = match?.[2]?.toLowerCase() === 'k' ? 1_000 : match?.[2]?.toLowerCase() === 'm' ? 1_000_000 : 1;
  const value = match ? Number(match[1]) * scale : Number.NaN;
  if (!(Number.isSafeInteger(value) && value >= 0 && value <= MAX_FILLS_PER_DAY)) {
    throw new ConfigError(`--fills-per-day ${JSON.stringify(text)} is not a whole number of fills from 0 to ${MAX_FILLS_PER_DAY}`, {
      hint: 'Write e.g. 100000, 100k or 2.5m',
    });
  }
  return value;
}

/**
 * `--global-feed SPEC`: how the global feed misbehaves, for testing a product's detection and fallback.
 * `documented` (the default), or a comma list of `taker-only` (maker rows omitted even when `taker_only=false`)
 * and `window=DURATION` (e.g. `window=7d`: a window that short instead of the current and previous month).
 */
export function parseGlobalFeedMode(spec: string): GlobalFeedMode {
  const mode: GlobalFeedMode = {};
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'documented') return mode;
  for (const raw of trimmed.split(',')) {
    const token = raw.trim();
    if (token.toLowerCase() === 'taker-only') {
      mode.takerOnly = 'ignored';
      continue;
    }
    const window = /^window\s*=\s*(.+)$/i.exec(token);
    const ms = window?.[1] === undefined ? undefined : tryDuration(window[1]);
    if (ms !== undefined && ms >= 1000) {
      mode.windowSeconds = Math.floor(ms / 1000);
      continue;
    }
    throw new ConfigError(`Bad global feed mode "${token}" in "${spec}"`, {
      hint: 'Use documented, or a comma list of taker-only and window=DURATION (at least 1s, e.g. window=7d)',
    });
  }
  return mode;
}

function tryDuration(text: string): number | undefined {
  try {
    return parseDuration(text, 'window');
  } catch {
    return undefined;
  }
}

const CHAIN_PLAN_KEYS: Record<string, keyof ChainPlan> = {
  wallets: 'wallets',
  missing: 'missingFromApi',
  dust: 'underMinimum',
  unchained: 'heldNotOnChain',
  combo: 'combo',
};

/**
 * `--chain-differences wallets=2,missing=3,dust=2,combo=1,unchained=1`: how the simulated chain of chosen wallets
 * differs from what the API serves (per wallet: fills missing from the API, fills under 0.01 shares, combo logs,
 * fills served but not on chain). `none` or empty: no difference.
 */
export function parseChainPlan(spec: string): ChainPlan {
  const plan: ChainPlan = {};
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return plan;
  const valid = Object.keys(CHAIN_PLAN_KEYS).join(', ');
  for (const raw of trimmed.split(',')) {
    const token = raw.trim();
    const match = /^([a-z]+)\s*=\s*(\d+)$/i.exec(token);
    const key = match ? CHAIN_PLAN_KEYS[match[1]!.toLowerCase()] : undefined;
    const value = match ? Number(match[2]) : Number.NaN;
    if (!match || key === undefined || !Number.isSafeInteger(value) || value > 1_000) {
      throw new ConfigError(`Bad chain difference "${token}" in "${spec}"`, {
        hint: `Write key=count with a count from 0 to 1000; keys: ${valid} (e.g. wallets=2,missing=3,dust=2,combo=1)`,
      });
    }
    plan[key] = value;
  }
  return plan;
}
