import { ConfigError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `2s`, `50m`, `1h`, `2d` (a bare number is milliseconds) → milliseconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) {
    throw new ConfigError(`${option} ${JSON.stringify(text)} is not a duration`, {
      hint: 'Use a number with a unit: 500ms, 30s, 50m, 1h',
    });
  }
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}

export function parsePositiveInt(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${option} ${JSON.stringify(text)} must be a whole number of at least 1`);
  }
  return value;
}
