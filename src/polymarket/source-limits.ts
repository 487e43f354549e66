/**
 * Bounds on what one response and one wallet walk may cost, with their defaults, allowed ranges and
 * the parsers the CLI uses. The source enforces the same ranges as the CLI, so a value that passes
 * one passes the other.
 */
import { ConfigError } from '../lib/errors.js';
import { DEFAULT_RATE_LIMITS, RPC_RATE_LIMIT_KEY, type RateLimit } from './rate-limiter.js';

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

/** A v2 page of 1000 rows is ~0.5 MB; 32 MiB leaves room for 60× that before a body is refused. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * MIB;
export const MIN_MAX_RESPONSE_BYTES = MIB;
export const MAX_MAX_RESPONSE_BYTES = GIB;

/** 20 M fills at 1000 per page: above any wallet seen, far below a walk that never ends. */
export const DEFAULT_MAX_PAGES_PER_WALLET = 20_000;
export const MIN_MAX_PAGES_PER_WALLET = 1;
export const MAX_MAX_PAGES_PER_WALLET = 1_000_000;

const BYTE_UNITS: Record<string, number> = { b: 1, kb: KIB, kib: KIB, mb: MIB, mib: MIB, gb: GIB, gib: GIB };

/** `33554432` → `32 MiB`; a count that is not a whole number of KiB/MiB/GiB stays in bytes. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', GIB], ['MiB', MIB], ['KiB', KIB]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

/**
 * `33554432`, `32MB`, `32MiB`, `512kb`, `1GB` → bytes. KB/MB/GB are binary (1024-based), like
 * KiB/MiB/GiB, so `32MB` is the default cap exactly. Undefined when the text is not a size.
 */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = BYTE_UNITS[(match[2] || 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  const value = Number(match[1]) * unit;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** `1000000` → `1,000,000`, without toLocaleString: loading ICU's locale data at import costs every command ~30 ms. */
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

const RESPONSE_RANGE = `${formatBytes(MIN_MAX_RESPONSE_BYTES)} (${MIN_MAX_RESPONSE_BYTES}) to ${formatBytes(MAX_MAX_RESPONSE_BYTES)} (${MAX_MAX_RESPONSE_BYTES})`;
const PAGES_RANGE = `${MIN_MAX_PAGES_PER_WALLET} to ${thousands(MAX_MAX_PAGES_PER_WALLET)}`;

/** Checks a response cap in bytes; `name` is the option or config key shown in the error. */
export function checkMaxResponseBytes(value: number, name: string, shown: string = String(value)): number {
  if (!Number.isSafeInteger(value) || value < MIN_MAX_RESPONSE_BYTES || value > MAX_MAX_RESPONSE_BYTES) {
    throw new ConfigError(`${name} ${JSON.stringify(shown)} is out of range: allowed ${RESPONSE_RANGE} bytes`, {
      hint: `Use e.g. ${name} 32MB (the default) or ${name} 64MB`,
    });
  }
  return value;
}

/** Checks a page cap; `name` is the option or config key shown in the error. */
export function checkMaxPagesPerWallet(value: number, name: string, shown: string = String(value)): number {
  if (!Number.isSafeInteger(value) || value < MIN_MAX_PAGES_PER_WALLET || value > MAX_MAX_PAGES_PER_WALLET) {
    throw new ConfigError(`${name} ${JSON.stringify(shown)} is out of range: allowed a whole number from ${PAGES_RANGE}`, {
      hint: `The default, ${DEFAULT_MAX_PAGES_PER_WALLET}, allows ${thousands(DEFAULT_MAX_PAGES_PER_WALLET * 1000)} fills per wallet at 1000 per page`,
    });
  }
  return value;
}

/** `--max-response-bytes 32MB` → 33554432, or a ConfigError naming the option and the allowed range. */
export function parseMaxResponseBytes(text: string, option = '--max-response-bytes'): number {
  const value = parseByteSize(text);
  if (value === undefined) {
    throw new ConfigError(`${option} ${JSON.stringify(text)} is not a size in bytes`, {
      hint: `Use a number of bytes or a size with a unit (KB, MB, GB; 1024-based), from ${RESPONSE_RANGE}, e.g. 32MB or 33554432`,
    });
  }
  return checkMaxResponseBytes(value, option, text);
}

/** `--max-pages-per-wallet 500` → 500, or a ConfigError naming the option and the allowed range. */
export function parseMaxPagesPerWallet(text: string, option = '--max-pages-per-wallet'): number {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  return checkMaxPagesPerWallet(value, option, text);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };
const TOKEN = /^([a-z][a-z0-9_-]*(?::[a-z0-9_/-]+)?)=(\d+)\/(\d+(?:\.\d+)?)?(ms|s|m)$/i;

/**
 * Endpoint keys of the calls made outside a backfill (trader discovery, the profit check of `verify-pnl`), whose
 * defaults live with their clients (LEADERBOARD_RATE_LIMIT, PNL_CHECK_RATE_LIMITS); spelled here so that this module,
 * which every command loads, does not load those clients.
 */
export const OCCASIONAL_RATE_LIMIT_KEYS = ['data:leaderboard', 'data:positions', 'data:user-pnl'] as const;

/**
 * Parses `data:trades=200/10s,gamma:markets=300/10s,rpc=25/1s` (units ms, s, m; `20/s` means per 1 s) into
 * rate-limit overrides: the Polymarket endpoints, the occasional ones above, and `rpc`, the Polygon JSON-RPC of
 * `backfill audit`. Throws ConfigError naming the bad token, or an unknown endpoint key.
 */
export function parseRateLimitSpec(spec: string): Record<string, RateLimit> {
  const limits: Record<string, RateLimit> = {};
  const known = [...Object.keys(DEFAULT_RATE_LIMITS), ...OCCASIONAL_RATE_LIMIT_KEYS, RPC_RATE_LIMIT_KEY];
  for (const token of spec.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const match = TOKEN.exec(token);
    if (!match) {
      throw new ConfigError(`rate limit ${JSON.stringify(token)} is not of the form <endpoint>=<requests>/<window>`, {
        hint: 'Example: data:trades=200/10s,gamma:markets=300/10s,rpc=25/1s (window units: ms, s, m)',
      });
    }
    const [, keyText = '', requestsText = '', amountText, unit = 's'] = match;
    const key = keyText.toLowerCase();
    if (!known.includes(key)) {
      throw new ConfigError(`rate limit ${JSON.stringify(token)} names an unknown endpoint "${key}"`, {
        hint: `Known endpoints: ${known.join(', ')}`,
      });
    }
    const requests = Number(requestsText);
    const perMs = (amountText === undefined ? 1 : Number(amountText)) * (UNIT_MS[unit.toLowerCase()] ?? 1000);
    if (requests < 1 || perMs <= 0) {
      throw new ConfigError(`rate limit ${JSON.stringify(token)} must allow at least 1 request per non-empty window`);
    }
    limits[key] = { requests, perMs };
  }
  return limits;
}
