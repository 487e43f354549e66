/**
 * What the profit replay reads: one wallet's fills and activity as the warehouse holds them, the markets they touch
 * and the markets' resolutions. Each shape is the subset of a warehouse record (records.ts) the replay needs, so a
 * TradeRecord, ActivityRecord, ResolutionRecord passes as it is; markets go through `pnlMarketFromRecord`.
 */
import type { ActivityRecord, MarketRecord, ResolutionRecord, TradeRecord } from '../polymarket/records.js';
import { parseJsonArray } from '../polymarket/gamma-values.js';

/** ISO-8601 (as records hold it) or epoch seconds. */
export type Timestamp = string | number;

/** One fill. `fee_usdc` and `role` are not in `/v2/trades` rows; pass them where another source knows them. */
export interface PnlFill extends Pick<TradeRecord, 'asset' | 'condition_id' | 'outcome_index' | 'side' | 'size' | 'price' | 'transaction_hash'> {
  timestamp: Timestamp;
  fill_seq?: number;
  /**
   * USDC the wallet paid in fees on this fill; null or absent when unknown, which makes its position's figures after
   * fees unknown (null), never 0. A known fee of 0 (a maker fill, a fill before fees) is 0.
   */
  fee_usdc?: number | null;
  /** Maker or taker, when known; only the wallet summary's maker share reads it. */
  role?: 'maker' | 'taker' | null;
}

/** One non-fill activity row; the replay reads SPLIT, MERGE, REDEEM and CONVERSION and counts the rest. */
export interface PnlActivity extends Pick<ActivityRecord, 'type' | 'condition_id' | 'token_id' | 'outcome_index' | 'size' | 'usdc_size' | 'transaction_hash'> {
  timestamp: Timestamp;
  activity_seq?: number;
}

/** A market as the replay needs it: its outcome tokens and, for neg-risk markets, its place in the group. */
export interface PnlMarket {
  condition_id: string;
  /** CLOB token ids by outcome index (Gamma `clobTokenIds`). */
  token_ids: readonly string[];
  neg_risk: boolean;
  /** The neg-risk group (Gamma `negRiskMarketID`); null outside one. */
  neg_risk_market_id: string | null;
  /** The question's index in its neg-risk group (the last byte of Gamma's `questionID`); null outside one. */
  question_index: number | null;
}

export type PnlResolution = Pick<ResolutionRecord, 'condition_id' | 'status' | 'payouts'>;

/** Everything one wallet's replay reads. Order does not matter: the replay sorts (see `orderEvents`). */
export interface WalletHistory {
  wallet: string;
  fills: readonly PnlFill[];
  activity: readonly PnlActivity[];
  /**
   * Every market the fills and activity touch that Gamma knows, and for a wallet that converts neg-risk positions
   * every member of those groups (a conversion hands out YES tokens of questions the wallet never traded).
   */
  markets: readonly PnlMarket[];
  resolutions: readonly PnlResolution[];
}

const QUESTION_ID = /^0x[0-9a-fA-F]{64}$/;

/**
 * The replay's view of a stored market. The question index comes from the raw Gamma object's `questionID`, whose
 * last byte is the index within the neg-risk group (NegRiskAdapter: questionId = marketId with its last byte set to
 * the index); null when the market is not neg-risk or the id is missing.
 */
export function pnlMarketFromRecord(record: Pick<MarketRecord, 'condition_id' | 'clob_token_ids' | 'neg_risk' | 'neg_risk_market_id' | 'raw'>): PnlMarket {
  const tokenIds = (parseJsonArray(record.clob_token_ids) ?? []).map(String);
  const negRisk = record.neg_risk === true && record.neg_risk_market_id !== null && record.neg_risk_market_id !== '';
  let questionIndex: number | null = null;
  if (negRisk) {
    let raw: unknown;
    try {
      raw = JSON.parse(record.raw);
    } catch {
      raw = undefined;
    }
    const questionId = typeof raw === 'object' && raw !== null ? (raw as { questionID?: unknown }).questionID : undefined;
    if (typeof questionId === 'string' && QUESTION_ID.test(questionId)) questionIndex = Number.parseInt(questionId.slice(-2), 16);
  }
  return {
    condition_id: record.condition_id.toLowerCase(),
    token_ids: tokenIds,
    neg_risk: negRisk && questionIndex !== null,
    neg_risk_market_id: negRisk ? record.neg_risk_market_id!.toLowerCase() : null,
    question_index: questionIndex,
  };
}

/** Epoch seconds of a timestamp (ISO text or seconds). */
export function epochSeconds(timestamp: Timestamp): number {
  return typeof timestamp === 'number' ? timestamp : Math.floor(Date.parse(timestamp) / 1000);
}

export type OrderedEvent = { kind: 'fill'; seconds: number; fill: PnlFill } | { kind: 'activity'; seconds: number; activity: PnlActivity };

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The canonical order of a wallet's events: by block time; within one second fills before other activity; then by
 * transaction hash; then by the row's content (fills: token, side, price, size; activity: type, condition, token,
 * size). Within a second the chain's order (transaction index, log index) is not in the rows the warehouse holds,
 * so this order is a convention, fixed so that every replay of the same rows gives the same figures; the simulator
 * orders its own replay by the same rule. Rows identical in all of these are interchangeable.
 */
export function orderEvents(fills: readonly PnlFill[], activity: readonly PnlActivity[]): OrderedEvent[] {
  const events: OrderedEvent[] = [
    ...fills.map((fill): OrderedEvent => ({ kind: 'fill', seconds: epochSeconds(fill.timestamp), fill })),
    ...activity.map((row): OrderedEvent => ({ kind: 'activity', seconds: epochSeconds(row.timestamp), activity: row })),
  ];
  return events.sort((a, b) => {
    if (a.seconds !== b.seconds) return a.seconds - b.seconds;
    if (a.kind !== b.kind) return a.kind === 'fill' ? -1 : 1;
    if (a.kind === 'fill' && b.kind === 'fill') {
      const x = a.fill;
      const y = b.fill;
      return (
        compareText(x.transaction_hash.toLowerCase(), y.transaction_hash.toLowerCase()) ||
        compareText(x.asset, y.asset) ||
        compareText(x.side, y.side) ||
        x.price - y.price ||
        x.size - y.size
      );
    }
    const x = (a as { activity: PnlActivity }).activity;
    const y = (b as { activity: PnlActivity }).activity;
    return (
      compareText(x.transaction_hash.toLowerCase(), y.transaction_hash.toLowerCase()) ||
      compareText(x.type, y.type) ||
      compareText(x.condition_id ?? '', y.condition_id ?? '') ||
      compareText(x.token_id ?? '', y.token_id ?? '') ||
      x.size - y.size
    );
  });
}
