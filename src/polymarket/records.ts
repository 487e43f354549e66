/**
 * Normalised rows as they are staged and loaded. Column names are the warehouse column names
 * (snake_case, after the Data API v2 field names), so a staged NDJSON line maps 1:1 onto a table row.
 */

/** One fill of one wallet. `trade_id` is ours: the API has no trade id. */
export interface TradeRecord {
  /** Hex digest of (proxy_wallet, transaction_hash, asset, side, price, size, fill_seq); stable across re-fetches. */
  trade_id: string;
  /** Lower-cased proxy wallet (0x + 40 hex). */
  proxy_wallet: string;
  /** Open string: "BUY", "SELL", or whatever the API sends (even ""). */
  side: string;
  /** CLOB token id (decimal uint256 as a string); `token_id` in v2, `asset` in v1. */
  asset: string;
  /** Lower-cased condition id; combo ids (62 hex) are kept as they are. */
  condition_id: string;
  size: number;
  price: number;
  /** ISO-8601 UTC, from the API's epoch seconds. */
  timestamp: string;
  title: string;
  slug: string;
  event_slug: string;
  outcome: string;
  /** 999 means the API could not label the outcome; kept as sent. */
  outcome_index: number | null;
  /** Lower-cased transaction hash. */
  transaction_hash: string;
  /** Position of this row among otherwise identical rows (same tx, asset, side, price, size) of the wallet. */
  fill_seq: number;
  /** The row exactly as the API sent it, as JSON text. */
  raw: string;
}

/** One Gamma market, keyed by condition id. */
export interface MarketRecord {
  condition_id: string;
  market_id: string;
  question: string | null;
  slug: string | null;
  /** "closed" or "open", from Gamma's `closed` flag. */
  status: string;
  active: boolean | null;
  closed: boolean | null;
  /** JSON array text of the outcome labels, e.g. ["Yes","No"]. */
  outcomes: string | null;
  outcome_prices: string | null;
  clob_token_ids: string | null;
  /** For a closed market, the outcome priced "1"; null while open or unresolved. */
  winning_label: string | null;
  winning_token_id: string | null;
  start_date: string | null;
  end_date: string | null;
  closed_time: string | null;
  volume: number | null;
  liquidity: number | null;
  neg_risk: boolean | null;
  neg_risk_market_id: string | null;
  /** JSON array text of the parent event ids (Gamma `events[].id`). */
  event_ids: string;
  /** Slug of the first parent event, when Gamma gives one. */
  event_slug: string | null;
  tags: string | null;
  raw: string;
  fetched_at: string;
}

/** One Gamma event, keyed by its Gamma id. */
export interface EventRecord {
  event_id: string;
  slug: string | null;
  title: string | null;
  ticker: string | null;
  category: string | null;
  active: boolean | null;
  closed: boolean | null;
  neg_risk: boolean | null;
  enable_neg_risk: boolean | null;
  neg_risk_market_id: string | null;
  start_date: string | null;
  end_date: string | null;
  volume: number | null;
  liquidity: number | null;
  tags: string | null;
  raw: string;
  fetched_at: string;
}

/** An id Gamma could not resolve (combo condition id, unknown market or event). */
export interface UnresolvedRecord {
  kind: 'market' | 'event';
  id: string;
  reason: string;
  /** When this look-up missed it. */
  recorded_at: string;
  /** False for ids never sent to Gamma (combo or malformed): asking again cannot find them. */
  retryable: boolean;
}
