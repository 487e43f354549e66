/**
 * v2 cursors, base64url JSON `{"data":{"type","params"},"sig"}` like the live API. Feed cursors
 * (`type: "trades"`, params `l, ts, sq, d`) carry only the seek anchor and the page size, so filters must be re-sent
 * on every page; board cursors (`type: "leaderboard"`, params `l, o, s, t, c`) pin the board they were minted on.
 */
import { createHash } from 'node:crypto';

export interface TradesCursor {
  /** Page size. */
  l: number;
  /** Timestamp of the last row served. */
  ts: number;
  /** Internal sequence number of the last row served, as a decimal string. */
  sq: string;
}

function sign(secret: string, data: string): string {
  return createHash('sha256').update(secret).update(data).digest('hex').slice(0, 32);
}

export function encodeCursor(secret: string, cursor: TradesCursor): string {
  const data = { type: 'trades', params: { l: cursor.l, ts: cursor.ts, sq: cursor.sq, d: 2 } };
  const dataJson = JSON.stringify(data);
  return Buffer.from(`{"data":${dataJson},"sig":"${sign(secret, dataJson)}"}`).toString('base64url');
}

/** The signed params of a cursor of this `type` that this server minted, or undefined. */
function verifiedParams(secret: string, text: string, type: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_\-+/]+={0,2}$/.test(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { data, sig } = parsed as { data?: unknown; sig?: unknown };
  if (typeof data !== 'object' || data === null || typeof sig !== 'string') return undefined;
  if (sign(secret, JSON.stringify(data)) !== sig) return undefined;
  const { type: found, params } = data as { type?: unknown; params?: unknown };
  if (found !== type || typeof params !== 'object' || params === null) return undefined;
  return params as Record<string, unknown>;
}

/** The decoded cursor, or undefined when it is not one this server minted. */
export function decodeCursor(secret: string, text: string, maxLimit: number): TradesCursor | undefined {
  const params = verifiedParams(secret, text, 'trades');
  if (!params) return undefined;
  const { l, ts, sq } = params;
  if (typeof l !== 'number' || !Number.isInteger(l) || l < 1 || l > maxLimit) return undefined;
  if (typeof ts !== 'number' || !Number.isInteger(ts)) return undefined;
  if (typeof sq !== 'string' || !/^\d{1,15}$/.test(sq)) return undefined;
  return { l, ts, sq };
}

/** A `/v2/leaderboard` cursor: page size, offset, and the board it pins (sort, window, category). */
export interface BoardCursor {
  l: number;
  o: number;
  s: string;
  t: string;
  c: string;
}

export function encodeBoardCursor(secret: string, cursor: BoardCursor): string {
  const dataJson = JSON.stringify({ type: 'leaderboard', params: { l: cursor.l, o: cursor.o, s: cursor.s, t: cursor.t, c: cursor.c } });
  return Buffer.from(`{"data":${dataJson},"sig":"${sign(secret, dataJson)}"}`).toString('base64url');
}

export function decodeBoardCursor(secret: string, text: string, maxLimit: number): BoardCursor | undefined {
  const params = verifiedParams(secret, text, 'leaderboard');
  if (!params) return undefined;
  const { l, o, s, t, c } = params;
  if (typeof l !== 'number' || !Number.isInteger(l) || l < 1 || l > maxLimit) return undefined;
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0) return undefined;
  if (typeof s !== 'string' || typeof t !== 'string' || typeof c !== 'string') return undefined;
  return { l, o, s, t, c };
}
