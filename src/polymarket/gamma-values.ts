/**
 * Defensive readers for Gamma fields. Gamma's wire types drift (arrays sent as JSON text, numbers as
 * strings, three date formats), so each reader accepts every shape seen and returns null for garbage
 * instead of throwing: one odd market must not fail a lookup. `raw` keeps the original either way.
 */

/** A JSON array sent as text (`"[\"Yes\", \"No\"]"`) or as a real array; null for anything else. */
export function parseJsonArray(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** A finite number from a number or a numeric string (`"92509.470055"`); null otherwise. */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

export function toBool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** Strings as sent, numbers (ids) as their decimal text, anything else null. */
export function toText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** JSON text of a present value; null when absent. */
export function toJsonText(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

const HAS_TIME = /\d{2}:\d{2}/;
const HAS_ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/**
 * ISO-8601 UTC from Gamma's date strings: `2025-12-31T17:15:00Z`, microsecond fractions,
 * date-only `2025-12-31`, and `closedTime`'s `2026-09-28 17:46:27+00`. A date-time without a zone is
 * read as UTC (Gamma's times are UTC; the runtime's local zone must not leak in). Null if unreadable.
 */
export function toIsoTimestamp(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  let text = value.trim();
  if (HAS_TIME.test(text) && !HAS_ZONE.test(text)) text = `${text}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
