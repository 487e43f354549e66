/**
 * `GET /v2/positions?user=…` and `GET /v2/user-pnl?user=…`, served from the simulator's own replay (positions.ts).
 *
 * Positions: the user anchor (a `condition` list narrows it; a market anchor alone is not simulated and answers a
 * 400 that says so); `status` OPEN (default, the superset: every holding at or above the dust floor, resolved ones
 * included), REDEEMABLE (held in a resolved market), REDEEMABLE_LOST (held, resolved, paying nothing; rows keep
 * status REDEEMABLE), MERGEABLE (both outcomes of a live market held) or CLOSED (nothing held any more);
 * `filter_type`/`filter_amount` (TOKENS with a 0.1-share floor by default; CLOSED is not narrowed by it), `title`,
 * `event_id`, `start`/`end` on `last_event_at`, and the seven sorts, where a CLOSED walk serves TOKENS,
 * CURRENT_VALUE, PRICE and UNREALIZED_PNL in REALIZED_PNL order. The cursor is an offset that binds wallet, status,
 * sort and direction: restating them is fine, contradicting one is a 400.
 *
 * User PnL: cumulative points on the requested grid (`fidelity`, default 1h) over the `interval` (default 1d), the
 * last at the grid step at or before now and no off-grid point after it (data-api-v2-observed.md). `all`/`max`
 * start at the wallet's first event and are served on the daily grid whatever was asked, as the response's
 * `fidelity` says (years of hourly points would be megabytes per wallet). A wallet with nothing to show gets no
 * points. Only market positions are replayed: `realized_lp_pnl` and `realized_combo_pnl` are 0.
 *
 * `misreport` (SimulatorOptions) adds its amount to one wallet's realized profit on both routes: every user-PnL
 * point, and its first closed position (by token id).
 */
import { decodePositionsCursor, encodePositionsCursor } from './cursor.js';
import type { Dataset } from './dataset.js';
import type { SimResponse } from './http.js';
import { json, listParam, param, parseBool, parseNonNegativeInt, unknownParameter, v2Error } from './http.js';
import type { PnlStep, SimPosition } from './positions.js';
import { blockAt, payoutsOf } from './resolutions.js';
import { isoDate } from './text.js';

export const POSITIONS_PARAMETERS = [
  'user',
  'condition',
  'limit',
  'cursor',
  'status',
  'event_id',
  'title',
  'filter_type',
  'filter_amount',
  'include_archived',
  'sort_by',
  'start',
  'end',
  'sort_direction',
] as const;
export const USER_PNL_PARAMETERS = ['user', 'user_address', 'interval', 'fidelity'] as const;

export const DEFAULT_POSITIONS_LIMIT = 100;
export const MAX_POSITIONS_LIMIT = 1000;
export const POSITION_STATUSES = ['OPEN', 'REDEEMABLE', 'REDEEMABLE_LOST', 'MERGEABLE', 'CLOSED'] as const;
export const POSITION_SORTS = ['CURRENT_VALUE', 'PRICE', 'TOKENS', 'UNREALIZED_PNL', 'REALIZED_PNL', 'TOTAL_PNL', 'TIMESTAMP'] as const;
const CLOSED_IN_REALIZED_ORDER: ReadonlySet<string> = new Set(['TOKENS', 'CURRENT_VALUE', 'PRICE', 'UNREALIZED_PNL']);
const DUST_FLOOR = 0.1;
const MAX_IDS = 20;

const HOUR = 3600;
const DAY = 86_400;
const INTERVALS: Readonly<Record<string, number | null>> = { max: null, all: null, '1m': 30 * DAY, '1w': 7 * DAY, '1d': DAY, '12h': 12 * HOUR, '6h': 6 * HOUR };
const FIDELITIES: Readonly<Record<string, number>> = { '1d': DAY, '18h': 18 * HOUR, '12h': 12 * HOUR, '3h': 3 * HOUR, '1h': HOUR };

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const CONDITION_ID = /^0x[0-9a-fA-F]{64}$/;
const EVENT_ID = /^[1-9]\d{0,15}$/;

/** One wallet whose realized profit the simulator misreports, by `usdc`. */
export interface Misreport {
  wallet: string;
  usdc: number;
}

export interface PnlRouteContext {
  dataset: Dataset;
  cursorSecret: string;
  nowSeconds: number;
  traceId: string;
  misreport: Misreport | undefined;
}

const usdc = (micro: bigint): number => Number(micro) / 1e6;
const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;

function misreportOf(ctx: PnlRouteContext, wallet: string): number {
  return ctx.misreport && ctx.misreport.wallet.toLowerCase() === wallet.toLowerCase() ? ctx.misreport.usdc : 0;
}

interface PositionView {
  position: SimPosition;
  row: Record<string, unknown>;
  resolved: boolean;
  paysNothing: boolean;
  live: boolean;
  held: number;
  eventId: string;
}

function positionViews(ctx: PnlRouteContext, wallet: string): PositionView[] {
  const { dataset } = ctx;
  const trades = dataset.tradesOf(wallet);
  if (!trades) return [];
  const { universe } = dataset;
  const pnl = dataset.pnlOf(trades);
  const heldOf = new Map(pnl.positions.map((p) => [p.tokenId, p.held]));
  const misreported = misreportOf(ctx, wallet);
  const target = misreported === 0 ? undefined : pnl.positions.filter((p) => p.held === 0n).sort((a, b) => (a.tokenId < b.tokenId ? -1 : 1))[0];
  return pnl.positions.map((position) => {
    const core = universe.marketCore(position.market);
    const event = universe.eventCore(core.eventIndex);
    const payouts = payoutsOf(universe, position.market);
    const o = position.outcome;
    const avg = usdc(position.avg);
    let price: number;
    if (payouts) price = payouts[o] / (payouts[0] + payouts[1]);
    else if (core.ghost) price = avg;
    else price = Number((JSON.parse(universe.marketJson(position.market, false).outcomePrices as string) as string[])[o]);
    const held = usdc(position.held);
    const currentValue = round6(held * price);
    const entryCost = usdc((position.held * position.avg) / 1_000_000n);
    const realized = usdc(position.realized) + (position === target ? misreported : 0);
    const unrealized = round6(currentValue - entryCost);
    const totalSize = usdc(position.bought);
    const lifetimeBasis = totalSize * avg;
    const opposite = core.tokenIds[o === 0 ? 1 : 0];
    const live = !event.closed && !core.ghost;
    const closed = position.held === 0n;
    const row: Record<string, unknown> = {
      proxy_wallet: trades.address,
      token_id: position.tokenId,
      condition_id: core.conditionId,
      current_size: held,
      avg_price: avg,
      entry_cost_usdc: entryCost,
      entry_fees_usdc: 0,
      total_cost_usdc: entryCost,
      current_price: price,
      current_value: currentValue,
      total_size: totalSize,
      realized_pnl: round6(realized),
      unrealized_pnl: unrealized,
      total_pnl: round6(realized + unrealized),
      percent_pnl: entryCost > 0 ? round6((unrealized / entryCost) * 100) : 0,
      percent_realized_pnl: lifetimeBasis > 0 ? round6(((currentValue - lifetimeBasis) / lifetimeBasis) * 100) : 0,
      status: closed ? 'CLOSED' : payouts ? 'REDEEMABLE' : 'OPEN',
      redeemable: payouts !== undefined && !closed,
      mergeable: live && !closed && (heldOf.get(opposite) ?? 0n) > 0n,
      negative_risk: event.negRisk,
      archived: false,
      title: core.ghost ? '' : core.question,
      slug: core.ghost ? '' : core.slug,
      icon: core.ghost ? '' : core.icon,
      event_id: core.ghost ? '' : event.id,
      event_slug: core.ghost ? '' : event.slug,
      outcome: core.outcomes[o],
      outcome_index: o,
      opposite_outcome: core.outcomes[o === 0 ? 1 : 0],
      opposite_token_id: opposite,
      end_date: core.ghost ? '1970-01-01' : isoDate(event.end),
      last_event_at: position.lastEvent,
      first_entry_at: position.firstEntry ?? 0,
      name: trades.profile.name,
      profile_image: trades.profile.profile_image,
      verified: false,
    };
    return { position, row, resolved: payouts !== undefined, paysNothing: payouts !== undefined && payouts[o] === 0, live, held, eventId: core.ghost ? '' : event.id };
  });
}

function sortValue(row: Record<string, unknown>, sort: string): number {
  switch (sort) {
    case 'CURRENT_VALUE':
      return row.current_value as number;
    case 'PRICE':
      return row.current_price as number;
    case 'TOKENS':
      return row.current_size as number;
    case 'UNREALIZED_PNL':
      return row.unrealized_pnl as number;
    case 'TOTAL_PNL':
      return row.total_pnl as number;
    case 'TIMESTAMP':
      return row.last_event_at as number;
    default:
      return row.realized_pnl as number;
  }
}

/** `title` as the API reads it: a case-insensitive SQL LIKE substring, `%` and `_` wildcards. */
function titleMatcher(title: string): RegExp {
  const pattern = [...title].map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'))).join('');
  return new RegExp(pattern, 'i');
}

export function handlePositions(query: URLSearchParams, ctx: PnlRouteContext): SimResponse {
  const { traceId } = ctx;
  const invalid = (parameter: string, error: string): SimResponse => v2Error(400, 'invalid_request', error, traceId, { parameter });
  if (query.has('offset')) return invalid('offset', 'offset is not allowed');
  const unknown = unknownParameter(query, POSITIONS_PARAMETERS);
  if (unknown !== undefined) return invalid(unknown, `unknown query parameter: ${unknown}`);
  const userText = param(query, 'user');
  const conditions = [...new Set(listParam(query, 'condition').map((id) => id.toLowerCase()))];
  for (const id of conditions) if (!CONDITION_ID.test(id)) return invalid('condition', `invalid condition id: ${id}`);
  if (conditions.length > MAX_IDS) return invalid('condition', `at most ${MAX_IDS} distinct condition values, got ${conditions.length}`);
  if (userText === null || userText.trim() === '') {
    if (conditions.length > 0) return invalid('user', 'market-anchored positions (condition without user) are not simulated; pass user');
    return invalid('user', "required query param 'user' or 'condition' not provided");
  }
  const user = userText.trim().toLowerCase();
  if (!ADDRESS.test(user)) return invalid('user', `invalid user address: ${userText}`);
  const limitParam = parseNonNegativeInt(param(query, 'limit'));
  if (limitParam === undefined) return invalid('limit', 'limit must be a non-negative integer');
  if (limitParam !== null && limitParam > MAX_POSITIONS_LIMIT) return invalid('limit', `limit must be at most ${MAX_POSITIONS_LIMIT}, got ${limitParam}`);
  const statusText = param(query, 'status');
  const statusAsked = statusText === null ? null : statusText.trim().toUpperCase();
  if (statusAsked !== null && !(POSITION_STATUSES as readonly string[]).includes(statusAsked)) return invalid('status', `invalid position status: ${statusText}`);
  const sortText = param(query, 'sort_by');
  const sortAsked = sortText === null ? null : sortText.trim().toUpperCase();
  if (sortAsked !== null && !(POSITION_SORTS as readonly string[]).includes(sortAsked)) return invalid('sort_by', `invalid position sortBy: ${sortText}`);
  const directionText = param(query, 'sort_direction');
  const directionAsked = directionText === null ? null : directionText.trim().toUpperCase();
  if (directionAsked !== null && directionAsked !== 'ASC' && directionAsked !== 'DESC') return invalid('sort_direction', 'sort_direction must be ASC or DESC');
  const archived = parseBool(param(query, 'include_archived'));
  if (archived === undefined) return invalid('include_archived', 'include_archived must be true or false');
  const filterTypeText = param(query, 'filter_type');
  const filterType = (filterTypeText ?? 'TOKENS').trim().toUpperCase();
  if (filterType !== 'TOKENS' && filterType !== 'CASH') return invalid('filter_type', 'filterType must be CASH or TOKENS');
  const amountText = param(query, 'filter_amount');
  const amountValue = amountText === null ? Number.NaN : Number(amountText);
  // "Invalid values fall back to the default."
  const filterAmount = Number.isFinite(amountValue) && amountValue >= 0 ? amountValue : undefined;
  const start = parseNonNegativeInt(param(query, 'start'));
  if (start === undefined) return invalid('start', 'start must be epoch seconds');
  const end = parseNonNegativeInt(param(query, 'end'));
  if (end === undefined) return invalid('end', 'end must be epoch seconds');
  const titleText = param(query, 'title');
  if (titleText !== null && titleText.length > 200) return invalid('title', 'title is longer than 200 characters');
  const events = [...new Set(listParam(query, 'event_id'))];
  for (const id of events) if (!EVENT_ID.test(id)) return invalid('event_id', `invalid event_id: ${id}`);
  if (events.length > MAX_IDS) return invalid('event_id', `at most ${MAX_IDS} distinct event_id values, got ${events.length}`);

  const cursorText = param(query, 'cursor');
  let cursor: ReturnType<typeof decodePositionsCursor>;
  if (cursorText !== null && cursorText !== '') {
    cursor = decodePositionsCursor(ctx.cursorSecret, cursorText, MAX_POSITIONS_LIMIT);
    if (!cursor || cursor.u !== user) return invalid('cursor', 'invalid cursor');
    if (statusAsked !== null && statusAsked !== cursor.st) return invalid('status', `status ${statusAsked} contradicts the cursor's ${cursor.st}`);
    if (sortAsked !== null && sortAsked !== cursor.sb) return invalid('sort_by', `sort_by ${sortAsked} contradicts the cursor's ${cursor.sb}`);
    if (directionAsked !== null && directionAsked !== cursor.sd) return invalid('sort_direction', `sort_direction ${directionAsked} contradicts the cursor's ${cursor.sd}`);
  }
  const status = cursor?.st ?? statusAsked ?? 'OPEN';
  const sort = cursor?.sb ?? sortAsked ?? (status === 'CLOSED' ? 'REALIZED_PNL' : status === 'MERGEABLE' ? 'TOKENS' : 'CURRENT_VALUE');
  const direction = cursor?.sd ?? directionAsked ?? 'DESC';
  if (archived === true && status === 'CLOSED') return invalid('include_archived', 'include_archived cannot be combined with status=CLOSED');
  const limit = cursor ? cursor.l : Math.max(1, limitParam ?? DEFAULT_POSITIONS_LIMIT);
  const offset = cursor ? cursor.o : 0;

  const tokenFloor = filterType === 'TOKENS' ? (filterAmount ?? DUST_FLOOR) : DUST_FLOOR;
  const cashFloor = filterType === 'CASH' ? (filterAmount ?? 0) : 0;
  const views = positionViews(ctx, user);
  const heldAtFloor = new Map(views.map((v) => [v.position.tokenId, v.held >= tokenFloor]));
  const title = titleText !== null && titleText.trim() !== '' ? titleMatcher(titleText.trim()) : undefined;
  const wantedEvents = new Set(events);
  const wantedConditions = new Set(conditions);
  const rows = views
    .filter((v) => {
      const open = v.held >= tokenFloor && (v.row.current_value as number) >= cashFloor;
      switch (status) {
        case 'CLOSED':
          if (v.position.held !== 0n) return false;
          break;
        case 'REDEEMABLE':
          if (!open || !v.resolved) return false;
          break;
        case 'REDEEMABLE_LOST':
          if (!open || !v.paysNothing) return false;
          break;
        case 'MERGEABLE':
          if (!open || !v.live || !heldAtFloor.get(v.row.opposite_token_id as string)) return false;
          break;
        default:
          if (!open) return false;
      }
      if (wantedConditions.size > 0 && !wantedConditions.has(v.row.condition_id as string)) return false;
      if (wantedEvents.size > 0 && !wantedEvents.has(v.eventId)) return false;
      if (title && !title.test(v.row.title as string)) return false;
      const at = v.row.last_event_at as number;
      if ((start || end) && at === 0) return false;
      if (start && at < start) return false;
      if (end && at > end) return false;
      return true;
    })
    .map((v) => v.row);
  const key = status === 'CLOSED' && CLOSED_IN_REALIZED_ORDER.has(sort) ? 'REALIZED_PNL' : sort;
  const sign = direction === 'ASC' ? 1 : -1;
  rows.sort((a, b) => sign * (sortValue(a, key) - sortValue(b, key)) || ((a.token_id as string) < (b.token_id as string) ? -1 : 1));
  const page = rows.slice(offset, offset + limit);
  const more = offset + limit < rows.length;
  const next = more ? encodePositionsCursor(ctx.cursorSecret, { l: limit, o: offset + limit, u: user, st: status, sb: sort, sd: direction }) : null;
  return {
    ...json(200, { data: page, pagination: { limit, offset, has_more: more, next_cursor: next } }, { 'x-trace-id': traceId }),
    rows: page.length,
  };
}

/** The cumulative figures at `t`: the last step at or before it, zeros before the first. */
function stepAt(steps: readonly PnlStep[], t: number): PnlStep | undefined {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((steps[mid]?.ts ?? 0) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : steps[lo - 1];
}

export function handleUserPnl(query: URLSearchParams, ctx: PnlRouteContext): SimResponse {
  const { traceId, dataset } = ctx;
  const invalid = (parameter: string, error: string): SimResponse => v2Error(400, 'invalid_request', error, traceId, { parameter });
  const unknown = unknownParameter(query, USER_PNL_PARAMETERS);
  if (unknown !== undefined) return invalid(unknown, `unknown query parameter: ${unknown}`);
  const userText = param(query, 'user', 'user_address', 'userAddress');
  if (userText === null || userText.trim() === '') return invalid('user', "required query param 'user' not provided");
  if (!ADDRESS.test(userText.trim())) return invalid('user', `invalid user address: ${userText}`);
  const user = userText.trim().toLowerCase();
  const interval = (param(query, 'interval') ?? '1d').trim();
  if (!Object.hasOwn(INTERVALS, interval)) return invalid('interval', 'interval must be one of max, all, 1m, 1w, 1d, 12h, 6h');
  const fidelityAsked = (param(query, 'fidelity') ?? '1h').trim();
  if (!Object.hasOwn(FIDELITIES, fidelityAsked)) return invalid('fidelity', 'fidelity must be one of 1d, 18h, 12h, 3h, 1h');

  const span = INTERVALS[interval] ?? null;
  const fidelity = span === null ? '1d' : fidelityAsked;
  const step = FIDELITIES[fidelity] ?? HOUR;
  const trades = dataset.tradesOf(user);
  const steps = trades ? dataset.pnlOf(trades).steps : [];
  const points: Record<string, unknown>[] = [];
  const firstEvent = steps[0]?.ts;
  if (firstEvent !== undefined) {
    const last = Math.floor(ctx.nowSeconds / step) * step;
    const from = span === null ? firstEvent : ctx.nowSeconds - span;
    const misreported = misreportOf(ctx, user);
    for (let t = Math.ceil(from / step) * step; t <= last; t += step) {
      const at = stepAt(steps, t);
      const realized = round6(usdc(at?.realized ?? 0n) + misreported);
      points.push({
        timestamp: t,
        source_block: blockAt(t),
        realized_market_pnl: realized,
        realized_lp_pnl: 0,
        realized_combo_pnl: 0,
        realized_pnl: realized,
        volume: usdc(at?.volumeShares ?? 0n),
        volume_usdc: usdc(at?.volumeUsdc ?? 0n),
        trade_count: at?.fills ?? 0,
      });
    }
  }
  return json(200, { data: { proxy_wallet: user, interval, fidelity, source_fidelity: '1d', points } }, { 'x-trace-id': traceId });
}
