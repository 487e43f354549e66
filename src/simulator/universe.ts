/**
 * The synthetic market universe: events, their markets, and the Gamma JSON served for them. Only the layout
 * (which markets belong to which event) is built up front; everything else is derived on demand from
 * (seed, index) and memoised, so big universes cost little until they are touched.
 *
 * The universe moves with the simulator's epochs (see epochs.ts): each epoch lists new events after the base ones
 * and resolves a share of the open events whose end date has passed. Both are pure functions of the epoch list, so
 * an event built late comes out exactly as one built early and updated.
 */
import type { Epoch } from './epochs.js';
import { unitOf } from './epochs.js';
import { Rng, Stream, hash32 } from './prng.js';
import type { TagDef } from './text.js';
import {
  CITIES,
  COUNTRIES,
  CRYPTO_ASSETS,
  FIRST_NAMES,
  IMAGE_BASE,
  LAST_NAMES,
  LEAGUES,
  MASCOTS,
  PREDICATES,
  SUBJECTS,
  TAGS,
  clockEt,
  gammaClosedTime,
  isoDate,
  isoMicros,
  isoSeconds,
  monthDay,
  slugify,
  year,
} from './text.js';

/** 2020-06-01T00:00:00Z: the oldest generated trade. */
export const DATA_START = 1_590_969_600;
/** 2026-10-31T23:59:59Z: the newest generated trade. */
export const DATA_END = 1_793_491_199;

const DAY = 86_400;

type EventKind = 'will' | 'sports' | 'total' | 'updown' | 'election' | 'temperature' | 'league';

export interface EventCore {
  index: number;
  id: string;
  /** A market Gamma does not know (old AMM era); neither it nor its event is served. */
  ghost: boolean;
  negRisk: boolean;
  negRiskMarketId: string;
  firstMarket: number;
  size: number;
  kind: EventKind;
  title: string;
  slug: string;
  ticker: string;
  category: string;
  tags: readonly TagDef[];
  image: string;
  /** Trading window, epoch seconds. */
  start: number;
  end: number;
  /** Resolved: as generated, or by an epoch (`resolvedEpoch`). */
  closed: boolean;
  closedTime: number;
  /** Winning member (neg-risk) or winning outcome (binary) once closed. */
  winner: number;
  members: { question: string; slug: string; outcomes: [string, string]; label: string }[];
  /** Closed as generated, before any epoch; decides which draws the Gamma JSON makes, so they never shift. */
  baseClosed: boolean;
  /** The epoch that listed this event; undefined for the generated ones. */
  listedEpoch: number | undefined;
  /** The epoch that resolved this event; undefined while open or when it was generated closed. */
  resolvedEpoch: number | undefined;
  /** `updatedAt` of the open event: its end, or the clock when it was generated or listed, whichever is earlier. */
  openUpdatedAt: number;
}

/** What an event's first draws decide; cheap enough to compute for every event when an epoch needs a census. */
interface EventTiming {
  ghost: boolean;
  negRisk: boolean;
  kind: EventKind;
  start: number;
  end: number;
  closed: boolean;
  closedTime: number;
  winner: number;
}

export interface MarketCore {
  index: number;
  id: string;
  eventIndex: number;
  position: number;
  conditionId: string;
  question: string;
  slug: string;
  eventSlug: string;
  outcomes: [string, string];
  tokenIds: [string, string];
  icon: string;
  ghost: boolean;
  /** Window in which fills are drawn, clipped to the data range. */
  tradeStart: number;
  tradeEnd: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Gamma's string-encoded arrays, spaced as the live API prints them: `["Yes", "No"]`. */
function encodedArray(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
}

function decimal(micros: number): string {
  return String(micros / 1e6);
}

/** Number of markets of event `e`: mostly one, sometimes a neg-risk group of 3 to 8. */
function eventSize(seed: number, e: number): number {
  const shape = Rng.of(seed, Stream.eventShape, e);
  return shape.chance(0.12) ? shape.int(3, 8) : 1;
}

export class Universe {
  /** Markets and events generated with the universe; those after them were listed by epochs. */
  readonly baseMarketCount: number;
  readonly baseEventCount: number;
  readonly #seed: number;
  #marketCount: number;
  #eventCount: number;
  #eventFirstMarket: Int32Array;
  #marketEvent: Int32Array;
  readonly #events: (EventCore | undefined)[] = [];
  readonly #markets: (MarketCore | undefined)[] = [];
  #byConditionId: Map<string, number> | undefined;
  readonly #rankStep: number;
  readonly #rankOffset: number;
  readonly #epochs: Epoch[] = [];
  /** Epoch index of each listed event, by `e - baseEventCount`. */
  readonly #listedIn: number[] = [];
  #clock: number;

  /** `clock`: where the data clock starts, DATA_END or later (see SimulatorOptions.clockSeconds). */
  constructor(seed: number, targetMarkets: number, clock: number = DATA_END) {
    this.#seed = seed;
    this.#clock = clock;
    const firsts: number[] = [];
    let total = 0;
    for (let e = 0; total < targetMarkets; e += 1) {
      firsts.push(total);
      total += eventSize(seed, e);
    }
    firsts.push(total);
    this.baseMarketCount = total;
    this.baseEventCount = firsts.length - 1;
    this.#marketCount = total;
    this.#eventCount = firsts.length - 1;
    this.#eventFirstMarket = Int32Array.from(firsts);
    this.#marketEvent = new Int32Array(total);
    for (let e = 0; e < this.#eventCount; e += 1) {
      this.#marketEvent.fill(e, firsts[e], firsts[e + 1]);
    }
    // Popularity ranks map onto markets through a fixed permutation, so the hot markets are spread across
    // events and eras instead of being the first few indices.
    const perm = Rng.of(seed, Stream.universe);
    let step = 1 + Math.floor(perm.next() * Math.max(1, total - 1));
    while (gcd(step, total) !== 1) step += 1;
    this.#rankStep = step;
    this.#rankOffset = perm.int(0, total - 1);
  }

  get marketCount(): number {
    return this.#marketCount;
  }

  get eventCount(): number {
    return this.#eventCount;
  }

  /** Newest time anything in the universe can carry: the end of the generated data (or a later start), moved by each epoch. */
  get clock(): number {
    return this.#clock;
  }

  get epochs(): readonly Epoch[] {
    return this.#epochs;
  }

  /** The market at popularity rank `rank` (0 = most traded) among the generated markets; listed ones have no rank. */
  marketByRank(rank: number): number {
    return (rank * this.#rankStep + this.#rankOffset) % this.baseMarketCount;
  }

  /**
   * Applies `epoch`: lists its events after the existing ones, resolves the open events it resolves and moves the
   * clock. Epochs must come in order.
   */
  addEpoch(epoch: Epoch): void {
    if (epoch.index !== this.#epochs.length || epoch.from !== this.#clock || epoch.firstListedEvent !== this.#eventCount) {
      throw new Error(`epoch ${epoch.index} does not follow epoch ${this.#epochs.length - 1} at clock ${this.#clock}`);
    }
    const firsts = Array.from(this.#eventFirstMarket);
    let total = this.#marketCount;
    for (let i = 0; i < epoch.listedEvents; i += 1) {
      total += eventSize(this.#seed, this.#eventCount + i);
      firsts.push(total);
      this.#listedIn.push(epoch.index);
    }
    const marketEvent = new Int32Array(total);
    marketEvent.set(this.#marketEvent);
    for (let e = this.#eventCount; e < this.#eventCount + epoch.listedEvents; e += 1) {
      marketEvent.fill(e, firsts[e], firsts[e + 1]);
    }
    if (this.#byConditionId) {
      for (let m = this.#marketCount; m < total; m += 1) this.#byConditionId.set(this.conditionIdOf(m), m);
    }
    this.#eventFirstMarket = Int32Array.from(firsts);
    this.#marketEvent = marketEvent;
    this.#marketCount = total;
    this.#eventCount += epoch.listedEvents;
    this.#epochs.push(epoch);
    this.#clock = epoch.to;
    // Events built before this epoch existed only need this epoch checked; later builds check every epoch.
    for (const core of this.#events) if (core) this.#applyResolutions(core, epoch.index);
  }

  /** Condition ids of the markets this epoch listed. */
  listedMarkets(epoch: Epoch): number[] {
    const first = this.#eventFirstMarket[epoch.firstListedEvent] ?? 0;
    const end = this.#eventFirstMarket[epoch.firstListedEvent + epoch.listedEvents] ?? first;
    return Array.from({ length: end - first }, (_, i) => first + i);
  }

  /** Markets of the events epoch `index` resolved; a census over every event, so only for summaries. */
  resolvedIn(index: number): number[] {
    const out: number[] = [];
    for (let e = 0; e < this.#eventCount; e += 1) {
      const core = this.#events[e];
      let resolved: number | undefined;
      if (core) {
        resolved = core.resolvedEpoch;
      } else {
        const timing = this.#timing(e, this.#sizeOf(e), Rng.of(this.#seed, Stream.event, e));
        resolved = timing.closed ? undefined : this.#firstResolution(e, timing, this.#listedEpochOf(e), 0);
      }
      if (resolved !== index) continue;
      const first = this.#eventFirstMarket[e] ?? 0;
      for (let m = first; m < first + this.#sizeOf(e); m += 1) out.push(m);
    }
    return out;
  }

  /** True when the market could be traded during epoch `index`: listed, not a ghost, not resolved by its end. */
  isOpenIn(market: number, index: number): boolean {
    const event = this.eventCore(this.eventOf(market));
    if (event.ghost || event.baseClosed) return false;
    if (event.listedEpoch !== undefined && event.listedEpoch > index) return false;
    return event.resolvedEpoch === undefined || event.resolvedEpoch > index;
  }

  eventOf(market: number): number {
    const e = this.#marketEvent[market];
    if (e === undefined) throw new RangeError(`market index ${market} out of range`);
    return e;
  }

  conditionIdOf(market: number): string {
    return `0x${Rng.of(this.#seed, Stream.market, market).hex(8)}`;
  }

  /** Index of the market with this condition id (any case), or undefined. */
  findMarket(conditionId: string): number | undefined {
    if (!this.#byConditionId) {
      const map = new Map<string, number>();
      for (let m = 0; m < this.marketCount; m += 1) map.set(this.conditionIdOf(m), m);
      this.#byConditionId = map;
    }
    return this.#byConditionId.get(conditionId.toLowerCase());
  }

  findEvent(eventId: string): number | undefined {
    if (!/^\d+$/.test(eventId)) return undefined;
    const e = Number(eventId) - 100_001;
    return Number.isSafeInteger(e) && e >= 0 && e < this.eventCount ? e : undefined;
  }

  /** First market index of event `e`. */
  firstMarketOf(e: number): number {
    const first = this.#eventFirstMarket[e];
    if (first === undefined) throw new RangeError(`event index ${e} out of range`);
    return first;
  }

  #sizeOf(e: number): number {
    return (this.#eventFirstMarket[e + 1] ?? 0) - (this.#eventFirstMarket[e] ?? 0);
  }

  #listedEpochOf(e: number): number | undefined {
    return e < this.baseEventCount ? undefined : this.#listedIn[e - this.baseEventCount];
  }

  /**
   * The first epoch from `fromEpoch` on that resolves the event, or undefined. An epoch resolves an open event whose
   * end date has passed by its new clock, with probability `resolveShare`; never in the epoch that listed it, so a
   * fill in a fresh market never comes after its resolution. Early resolutions are not simulated.
   */
  #firstResolution(e: number, timing: { ghost: boolean; end: number }, listedEpoch: number | undefined, fromEpoch: number): number | undefined {
    if (timing.ghost) return undefined;
    for (let k = fromEpoch; k < this.#epochs.length; k += 1) {
      const epoch = this.#epochs[k];
      if (!epoch || (listedEpoch !== undefined && listedEpoch >= k) || timing.end > epoch.to) continue;
      if (unitOf(epoch.seed, Stream.resolve, k, e) < epoch.resolveShare) return k;
    }
    return undefined;
  }

  #applyResolutions(core: EventCore, fromEpoch: number): void {
    if (core.closed) return;
    const k = this.#firstResolution(core.index, core, core.listedEpoch, fromEpoch);
    const epoch = k === undefined ? undefined : this.#epochs[k];
    if (k === undefined || !epoch) return;
    // Resolved some time after the end date, within the epoch.
    const lo = Math.max(core.end, epoch.from + 1);
    core.closed = true;
    core.resolvedEpoch = k;
    core.closedTime = lo + Math.floor(unitOf(epoch.seed, Stream.resolve, k, core.index, 1) * (epoch.to - lo + 1));
  }

  eventCore(e: number): EventCore {
    const cached = this.#events[e];
    if (cached) return cached;
    const first = this.#eventFirstMarket[e];
    const next = this.#eventFirstMarket[e + 1];
    if (first === undefined || next === undefined) throw new RangeError(`event index ${e} out of range`);
    const core = this.#buildEvent(e, first, next - first);
    this.#applyResolutions(core, 0);
    this.#events[e] = core;
    return core;
  }

  marketCore(m: number): MarketCore {
    const cached = this.#markets[m];
    if (cached) return cached;
    const e = this.eventOf(m);
    const event = this.eventCore(e);
    const position = m - event.firstMarket;
    const member = event.members[position];
    if (!member) throw new Error(`market ${m} has no member ${position} in event ${e}`);
    const tokens = Rng.of(this.#seed, Stream.market, m, 1);
    // The leading word keeps token ids near uint256 size, like real CLOB ids (76–78 digits).
    const tokenId = (): string => BigInt(`0x${((tokens.u32() | 0x10000000) >>> 0).toString(16)}${tokens.hex(7)}`).toString();
    const core: MarketCore = {
      index: m,
      id: String(500_001 + m),
      eventIndex: e,
      position,
      conditionId: this.conditionIdOf(m),
      question: member.question,
      slug: member.slug,
      eventSlug: event.slug,
      outcomes: member.outcomes,
      tokenIds: [tokenId(), tokenId()],
      icon: tokens.chance(0.1) ? '' : event.image,
      ghost: event.ghost,
      tradeStart: event.listedEpoch === undefined ? Math.max(DATA_START, event.start) : event.start,
      tradeEnd: event.listedEpoch === undefined ? Math.min(DATA_END, event.end) : event.end,
    };
    this.#markets[m] = core;
    return core;
  }

  /**
   * The outcome (0 or 1) that pays once the market's event is closed, undefined while open: outcome 0 ("Yes") of
   * the winning member of a neg-risk event, else the event's winning outcome. Gamma's prices, `/v2/resolutions`
   * payouts and redemptions all read it, so they cannot disagree.
   */
  winningOutcome(m: number): 0 | 1 | undefined {
    const core = this.marketCore(m);
    const event = this.eventCore(core.eventIndex);
    if (!event.closed) return undefined;
    const yesWins = event.negRisk ? event.winner === core.position : event.winner === 0;
    return yesWins ? 0 : 1;
  }

  /**
   * The data clock once the event's resolution was applied: the end of the generated data for an event generated
   * closed, the end of the resolving epoch otherwise; undefined while open. What follows a resolution (redemptions)
   * lands by then, so it never moves when later epochs move the clock.
   */
  resolvedClock(e: number): number | undefined {
    const event = this.eventCore(e);
    if (!event.closed) return undefined;
    if (event.resolvedEpoch === undefined) return DATA_END;
    return this.#epochs[event.resolvedEpoch]?.to ?? this.#clock;
  }

  isResolvable(m: number): boolean {
    return !this.eventCore(this.eventOf(m)).ghost;
  }

  /** Gamma `/markets` object; `withEvents` false gives the form nested inside `/events`. */
  marketJson(m: number, withEvents: boolean): Record<string, unknown> {
    const core = this.marketCore(m);
    const event = this.eventCore(core.eventIndex);
    const rng = Rng.of(this.#seed, Stream.market, m, 2);
    const volumeMicros = Math.round(rng.logUniform(50, 5_000_000) * 1e6);
    // Draws follow the generated state, values the current one: a market resolved by an epoch keeps its tick
    // size, dates and tags, and only what resolution changes changes.
    const drawnLiquidity = event.baseClosed ? 0 : Math.round(rng.logUniform(10, 200_000) * 1e6);
    const liquidityMicros = event.closed ? 0 : drawnLiquidity;
    const tick = rng.chance(0.3) ? 0.001 : 0.01;
    const thousandths = event.baseClosed ? 0 : rng.int(1, 999);
    let prices: [string, string];
    let last = 0;
    if (event.closed) {
      const yesWins = this.winningOutcome(m) === 0;
      prices = yesWins ? ['1', '0'] : ['0', '1'];
      last = yesWins ? 0.999 : 0.001;
    } else {
      prices = [String(thousandths / 1000), String((1000 - thousandths) / 1000)];
      last = Math.round(thousandths / 10) / 100;
    }
    const createdAt = event.start - rng.int(3600, 3 * DAY);
    const question = Rng.of(this.#seed, Stream.market, m, 3);
    const json: Record<string, unknown> = {
      id: core.id,
      question: core.question,
      conditionId: core.conditionId,
      slug: core.slug,
      resolutionSource: '',
      endDate: isoSeconds(event.end),
      liquidity: decimal(liquidityMicros),
      startDate: isoMicros(event.start, rng.int(0, 999_999)),
      image: event.image,
      icon: core.icon,
      description: `This market will resolve according to the listed outcomes of "${core.question}".`,
      outcomes: encodedArray(core.outcomes),
      outcomePrices: encodedArray(prices),
      volume: decimal(volumeMicros),
      active: true,
      closed: event.closed,
      marketMakerAddress: '',
      createdAt: isoMicros(createdAt, rng.int(0, 999_999)),
      updatedAt: isoMicros(event.closed ? event.closedTime : event.openUpdatedAt, rng.int(0, 999_999)),
      new: false,
      featured: false,
      archived: false,
      restricted: true,
      groupItemTitle: event.negRisk ? (event.members[core.position]?.label ?? '') : undefined,
      groupItemThreshold: String(core.position),
      questionID: event.negRisk
        ? `${event.negRiskMarketId.slice(0, 64)}${core.position.toString(16).padStart(2, '0')}`
        : `0x${question.hex(8)}`,
      enableOrderBook: true,
      orderPriceMinTickSize: tick,
      orderMinSize: 5,
      volumeNum: volumeMicros / 1e6,
      liquidityNum: liquidityMicros / 1e6,
      endDateIso: isoDate(event.end),
      startDateIso: isoDate(event.start),
      clobTokenIds: encodedArray(core.tokenIds),
      acceptingOrders: !event.closed,
      negRisk: event.negRisk,
      negRiskMarketID: event.negRisk ? event.negRiskMarketId : undefined,
      negRiskRequestID: event.negRisk ? `0x${question.hex(8)}` : undefined,
      negRiskOther: false,
      closedTime: event.closed ? gammaClosedTime(event.closedTime) : undefined,
      umaResolutionStatuses: event.closed ? '["proposed", "resolved"]' : '[]',
      lastTradePrice: last,
      bestBid: event.closed ? 0 : Math.max(0, last - tick),
      bestAsk: event.closed ? 1 : Math.min(1, last + tick),
      spread: tick,
      feesEnabled: false,
      tags: rng.chance(0.3) ? event.tags : undefined,
      events: withEvents ? [this.#slimEvent(event)] : undefined,
    };
    // JSON.stringify drops undefined members; deleting them keeps `market()` equal to what is served.
    for (const key of Object.keys(json)) if (json[key] === undefined) delete json[key];
    return json;
  }

  /** Gamma `/events` object with its nested markets. */
  eventJson(e: number): Record<string, unknown> {
    const event = this.eventCore(e);
    const markets: Record<string, unknown>[] = [];
    let volumeMicros = 0;
    let liquidityMicros = 0;
    for (let m = event.firstMarket; m < event.firstMarket + event.size; m += 1) {
      const market = this.marketJson(m, false);
      markets.push(market);
      volumeMicros += Math.round(Number(market.volume) * 1e6);
      liquidityMicros += Math.round(Number(market.liquidity) * 1e6);
    }
    const rng = Rng.of(this.#seed, Stream.event, e, 1);
    const json: Record<string, unknown> = {
      id: event.id,
      ticker: event.ticker,
      slug: event.slug,
      title: event.title,
      description: `Markets on "${event.title}".`,
      resolutionSource: '',
      startDate: isoSeconds(event.start),
      creationDate: isoMicros(event.start - 3600, rng.int(0, 999_999)),
      endDate: isoSeconds(event.end),
      image: event.image,
      icon: event.image,
      active: true,
      closed: event.closed,
      archived: false,
      new: false,
      featured: false,
      restricted: true,
      liquidity: liquidityMicros / 1e6,
      volume: volumeMicros / 1e6,
      openInterest: 0,
      category: event.category,
      createdAt: isoMicros(event.start - 3600, rng.int(0, 999_999)),
      updatedAt: isoMicros(event.closed ? event.closedTime : event.openUpdatedAt, rng.int(0, 999_999)),
      competitive: rng.next(),
      volume24hr: 0,
      enableOrderBook: true,
      liquidityClob: liquidityMicros / 1e6,
      negRisk: event.negRisk,
      enableNegRisk: event.negRisk,
      negRiskMarketID: event.negRisk ? event.negRiskMarketId : undefined,
      negRiskAugmented: false,
      commentCount: rng.int(0, 400),
      closedTime: event.closed ? gammaClosedTime(event.closedTime) : undefined,
      markets,
      tags: event.tags,
      cyom: false,
      showAllOutcomes: true,
      showMarketImages: event.negRisk,
    };
    for (const key of Object.keys(json)) if (json[key] === undefined) delete json[key];
    return json;
  }

  #slimEvent(event: EventCore): Record<string, unknown> {
    const slim: Record<string, unknown> = {
      id: event.id,
      slug: event.slug,
      title: event.title,
      ticker: event.ticker,
      negRisk: event.negRisk,
    };
    if (event.negRisk) slim.negRiskMarketID = event.negRiskMarketId;
    return slim;
  }

  /**
   * The event's first draws. A listed event is never a ghost, starts in the first half of its epoch and is open;
   * its draws are the same as a generated event's, only their meaning differs.
   */
  #timing(e: number, size: number, rng: Rng): EventTiming {
    const listedEpoch = this.#listedEpochOf(e);
    const listing = listedEpoch === undefined ? undefined : this.#epochs[listedEpoch];
    const negRisk = size > 1;
    // Event 7 is always a ghost so that even a tiny universe has one market Gamma cannot resolve.
    const ghost = !negRisk && (e === 7 || rng.chance(0.012)) && !listing;
    let kind: EventKind;
    if (ghost) kind = 'will';
    else if (negRisk) kind = rng.pick(['election', 'temperature', 'league'] as const);
    else kind = rng.pick(['will', 'will', 'will', 'sports', 'total', 'total', 'updown'] as const);

    let duration: number;
    if (kind === 'updown') duration = 900;
    else if (kind === 'sports' || kind === 'total') duration = rng.int(1, 5) * DAY;
    else if (kind === 'temperature') duration = rng.int(2, 4) * DAY;
    else duration = Math.round(rng.logUniform(7, 365) * DAY);
    const earliest = DATA_START;
    // Ghosts are old AMM-era markets, which is why Gamma has lost them.
    const latest = ghost ? DATA_START + 400 * DAY : DATA_END - DAY;
    const u = rng.next();
    let start = listing
      ? listing.from + 1 + Math.floor(u * Math.max(1, Math.floor((listing.to - listing.from) / 2)))
      : earliest + Math.floor(u * (latest - earliest));
    if (kind === 'updown') start -= start % 900;
    const end = start + duration;
    const closed = !listing && end <= DATA_END - 3 * DAY && rng.chance(0.8);
    const closedTime = end + rng.int(600, 2 * DAY);
    const winner = negRisk ? rng.int(0, size - 1) : rng.int(0, 1);
    return { ghost, negRisk, kind, start, end, closed, closedTime, winner };
  }

  #buildEvent(e: number, firstMarket: number, size: number): EventCore {
    const rng = Rng.of(this.#seed, Stream.event, e);
    const { ghost, negRisk, kind, start, end, closed, closedTime, winner } = this.#timing(e, size, rng);
    const listedEpoch = this.#listedEpochOf(e);
    const listedAt = listedEpoch === undefined ? DATA_END : (this.#epochs[listedEpoch]?.to ?? DATA_END);

    const members: EventCore['members'] = [];
    let title: string;
    let slug: string;
    let ticker: string;
    let category: string;
    const when = `${monthDay(end)}, ${year(end)}`;
    switch (kind) {
      case 'will': {
        title = `Will ${rng.pick(SUBJECTS)} ${rng.pick(PREDICATES)} by ${when}?`;
        slug = slugify(title);
        ticker = slug;
        category = rng.pick(['Politics', 'Business', 'Crypto']);
        members.push({ question: title, slug, outcomes: ['Yes', 'No'], label: '' });
        break;
      }
      case 'sports':
      case 'total': {
        const league = rng.pick(LEAGUES);
        const home = `${rng.pick(CITIES)} ${rng.pick(MASCOTS)}`;
        const away = `${rng.pick(CITIES)} ${rng.pick(MASCOTS)}`;
        title = `${home} vs. ${away}`;
        slug = `${league.short}-${slugify(home).slice(0, 3)}-${slugify(away).slice(0, 3)}-${isoDate(end)}`;
        ticker = slug;
        category = 'Sports';
        if (kind === 'sports') {
          members.push({ question: title, slug, outcomes: [home, away], label: '' });
        } else {
          const line = rng.int(1, 9);
          members.push({
            question: `${title}: O/U ${line}.5`,
            slug: `${slug}-total-${line}pt5`,
            outcomes: ['Over', 'Under'],
            label: '',
          });
        }
        break;
      }
      case 'updown': {
        const asset = rng.pick(CRYPTO_ASSETS);
        title = `${asset.name} Up or Down - ${monthDay(start)}, ${clockEt(start)}-${clockEt(end)} ET`;
        slug = `${asset.short}-updown-15m-${start}`;
        ticker = slug;
        category = 'Crypto';
        members.push({ question: title, slug, outcomes: ['Up', 'Down'], label: '' });
        break;
      }
      case 'election': {
        const country = rng.pick(COUNTRIES);
        const electionYear = year(end);
        title = `${country} Presidential Election ${electionYear}`;
        slug = slugify(title);
        ticker = slug;
        category = 'Politics';
        const used = new Set<string>();
        for (let i = 0; i < size; i += 1) {
          let person = `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
          if (used.has(person)) person = `${person} ${i + 1}`;
          used.add(person);
          const question = `Will ${person} win the ${electionYear} ${country} presidential election?`;
          members.push({ question, slug: slugify(question), outcomes: ['Yes', 'No'], label: person });
        }
        break;
      }
      case 'temperature': {
        const city = rng.pick(CITIES);
        title = `Highest temperature in ${city} on ${monthDay(end)}?`;
        slug = `highest-temperature-in-${slugify(city)}-on-${slugify(monthDay(end))}-${year(end)}`;
        ticker = slug;
        category = 'Weather';
        const low = rng.int(40, 100);
        for (let i = 0; i < size; i += 1) {
          const label = `${low + 2 * i}-${low + 2 * i + 1}°F`;
          const question = `Will the highest temperature in ${city} be between ${label} on ${monthDay(end)}?`;
          members.push({ question, slug: `${slug}-${slugify(label)}`, outcomes: ['Yes', 'No'], label });
        }
        break;
      }
      case 'league': {
        const league = rng.pick(LEAGUES);
        const season = year(end);
        title = `${league.name} Champion ${season}`;
        slug = slugify(title);
        ticker = slug;
        category = 'Sports';
        const used = new Set<string>();
        for (let i = 0; i < size; i += 1) {
          let team = `${rng.pick(CITIES)} ${rng.pick(MASCOTS)}`;
          if (used.has(team)) team = `${team} ${i + 1}`;
          used.add(team);
          const question = `Will the ${team} win the ${season} ${league.name}?`;
          members.push({ question, slug: slugify(question), outcomes: ['Yes', 'No'], label: team });
        }
        break;
      }
    }
    const tagPool = TAGS[category] ?? [];
    const tags = tagPool.slice(0, Math.max(1, rng.int(1, tagPool.length)));
    return {
      index: e,
      id: String(100_001 + e),
      ghost,
      negRisk,
      // Like Gamma, the neg-risk market id ends in 00 and each member's questionID ends in its position.
      negRiskMarketId: negRisk ? `0x${rng.hex(7)}${(hash32(this.#seed, e) >>> 8).toString(16).padStart(6, '0')}00` : '',
      firstMarket,
      size,
      kind,
      title,
      slug,
      ticker,
      category,
      tags,
      image: `${IMAGE_BASE}${slug.slice(0, 40).replace(/-+$/, '')}.png`,
      start,
      end,
      closed,
      closedTime,
      winner,
      members,
      baseClosed: closed,
      listedEpoch,
      resolvedEpoch: undefined,
      openUpdatedAt: Math.min(end, listedAt),
    };
  }
}
