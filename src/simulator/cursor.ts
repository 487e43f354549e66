/**
 * v2 cursors, base64url JSON `{"data":{"type","params"},"sig"}` like the live API. Feed cursors
 * (`type: "trades"`, params `l, ts, sq, d`) carry only the seek anchor and the page size, so filters must be re-sent
 * on every page; activity cursors add the sort direction they bind (`s`) and the cosmetic running offset (`o`);
 * combo-activity cursors anchor on (block_number, sort key) instead of (timestamp, sequence); board cursors
 * (`type: "leaderboard"`, params `l, o, s, t, c`) pin the board they were minted on.
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

/** A signed cursor of `type` carrying `params`, in the live API's layout. */
function encodeTyped(secret: string, type: string, params: Record<string, unknown>): string {
  const dataJson = JSON.stringify({ type, params });
  return Buffer.from(`{"data":${dataJson},"sig":"${sign(secret, dataJson)}"}`).toString('base64url');
}

export function encodeCursor(secret: string, cursor: TradesCursor): string {
  return encodeTyped(secret, 'trades', { l: cursor.l, ts: cursor.ts, sq: cursor.sq, d: 2 });
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

/** The seek anchor and page size of a feed cursor of `type`, or undefined when this server did not mint it. */
function decodeAnchor(secret: string, text: string, type: string, maxLimit: number): (TradesCursor & { params: Record<string, unknown> }) | undefined {
  const params = verifiedParams(secret, text, type);
  if (!params) return undefined;
  const { l, ts, sq } = params;
  if (typeof l !== 'number' || !Number.isInteger(l) || l < 1 || l > maxLimit) return undefined;
  if (typeof ts !== 'number' || !Number.isInteger(ts)) return undefined;
  if (typeof sq !== 'string' || !/^\d{1,15}$/.test(sq)) return undefined;
  return { l, ts, sq, params };
}

/** The decoded cursor, or undefined when it is not one this server minted. */
export function decodeCursor(secret: string, text: string, maxLimit: number): TradesCursor | undefined {
  const anchor = decodeAnchor(secret, text, 'trades', maxLimit);
  return anchor && { l: anchor.l, ts: anchor.ts, sq: anchor.sq };
}

/** A `/v2/activity` cursor: the trades anchor plus the direction it binds and the running offset. */
export interface ActivityCursor extends TradesCursor {
  s: 'ASC' | 'DESC';
  o: number;
}

export function encodeActivityCursor(secret: string, cursor: ActivityCursor): string {
  return encodeTyped(secret, 'activity', { l: cursor.l, ts: cursor.ts, sq: cursor.sq, d: 2, s: cursor.s, o: cursor.o });
}

export function decodeActivityCursor(secret: string, text: string, maxLimit: number): ActivityCursor | undefined {
  const anchor = decodeAnchor(secret, text, 'activity', maxLimit);
  if (!anchor) return undefined;
  const { s, o } = anchor.params;
  if ((s !== 'ASC' && s !== 'DESC') || typeof o !== 'number' || !Number.isInteger(o) || o < 0) return undefined;
  return { l: anchor.l, ts: anchor.ts, sq: anchor.sq, s, o };
}

/** A `/v2/activity/combos` cursor: `ts` is the block number and `sq` the sort key within it. */
export interface ComboCursor extends TradesCursor {
  o: number;
}

export function encodeComboCursor(secret: string, cursor: ComboCursor): string {
  return encodeTyped(secret, 'combos', { l: cursor.l, ts: cursor.ts, sq: cursor.sq, o: cursor.o });
}

export function decodeComboCursor(secret: string, text: string, maxLimit: number): ComboCursor | undefined {
  const anchor = decodeAnchor(secret, text, 'combos', maxLimit);
  if (!anchor) return undefined;
  const { o } = anchor.params;
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0) return undefined;
  return { l: anchor.l, ts: anchor.ts, sq: anchor.sq, o };
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
  return encodeTyped(secret, 'leaderboard', { l: cursor.l, o: cursor.o, s: cursor.s, t: cursor.t, c: cursor.c });
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

/**
 * A `/v2/positions` cursor: page size, offset, and what it binds: the wallet (`u`), status (`st`), sort (`sb`) and
 * direction (`sd`) the walk started with. Restating them is fine, contradicting them is a 400.
 */
export interface PositionsCursor {
  l: number;
  o: number;
  u: string;
  st: string;
  sb: string;
  sd: string;
}

export function encodePositionsCursor(secret: string, cursor: PositionsCursor): string {
  return encodeTyped(secret, 'positions', { l: cursor.l, o: cursor.o, u: cursor.u, st: cursor.st, sb: cursor.sb, sd: cursor.sd });
}

export function decodePositionsCursor(secret: string, text: string, maxLimit: number): PositionsCursor | undefined {
  const params = verifiedParams(secret, text, 'positions');
  if (!params) return undefined;
  const { l, o, u, st, sb, sd } = params;
  if (typeof l !== 'number' || !Number.isInteger(l) || l < 1 || l > maxLimit) return undefined;
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0) return undefined;
  if (typeof u !== 'string' || typeof st !== 'string' || typeof sb !== 'string' || typeof sd !== 'string') return undefined;
  return { l, o, u, st, sb, sd };
}
