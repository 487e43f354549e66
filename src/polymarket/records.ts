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
  /**
   * JSON array text of the condition ids of the event's markets, as Gamma nests them; null when the event was fetched
   * without them (before migration 12 events were asked with `include_markets=false`).
   */
  market_ids: string | null;
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

/**
 * One `/v2/activity` row of a wallet that is not a fill (fills come from `/v2/trades`). `activity_id` is ours, like
 * `trade_id`: the API has no id, and identical rows inside one transaction are separate real actions.
 */
export interface ActivityRecord {
  /** Hex digest of the identifying fields plus `activity_seq`; stable across re-fetches. */
  activity_id: string;
  proxy_wallet: string;
  /** SPLIT, MERGE, REDEEM, CONVERSION, REWARD, …: one of the documented activity types. */
  type: string;
  /** Lower-cased condition id (combo ids kept as they are); null on rows of no market (deposits, rewards…). */
  condition_id: string | null;
  /** CLOB token id; null on rows that touch no single outcome token (splits, merges, rebates…). */
  token_id: string | null;
  /** 999 means no outcome applies or the API could not label it; kept as sent. */
  outcome_index: number | null;
  outcome: string;
  /** BUY or SELL on trade rows, IN or OUT on tips, "" where no side applies. */
  side: string;
  /** Shares (on a REDEEM: the tokens burned for that outcome). */
  size: number;
  /** USDC (on a REDEEM: the payout for that outcome, 0 for a losing one). */
  usdc_size: number;
  /** Price per share; 0 where no price applies. */
  price: number;
  /** ISO-8601 UTC, from the API's epoch seconds. */
  timestamp: string;
  /** Lower-cased transaction hash. */
  transaction_hash: string;
  title: string;
  slug: string;
  event_slug: string;
  /** Position of this row among otherwise identical rows of the wallet in one transaction. */
  activity_seq: number;
  /** The row exactly as the API sent it, as JSON text. */
  raw: string;
}

/** One `/v2/activity/combos` row: a combo position's lifecycle (split, merge, redeem…). */
export interface ComboActivityRecord {
  /** The API's own id, `tx_hash-log_index` (lower-cased): unique on chain. */
  combo_activity_id: string;
  proxy_wallet: string;
  /** SPLIT, MERGE, CONVERT, COMPRESS, WRAP, UNWRAP or REDEEM. */
  type: string;
  combo_condition_id: string;
  combo_position_id: string;
  block_number: number;
  /** ISO-8601 UTC. */
  timestamp: string;
  transaction_hash: string;
  /** Cash of the action; null where no cash leg applies. */
  amount_usdc: number | null;
  /** Redemption payout on REDEEM rows; null otherwise. */
  payout_usdc: number | null;
  /** JSON array text of the legs as sent (their status and prices are live enrichment, not history). */
  legs: string;
  raw: string;
}

/** The resolution state of one market (`/v2/resolutions?condition=`), asked again until `status` is `resolved`. */
export interface ResolutionRecord {
  condition_id: string;
  /** resolved, proposed, disputed, active, … as the API says. */
  status: string;
  /** Micro-USDC per share, per outcome; null until resolved. */
  payouts: number[] | null;
  /** The single outcome that pays in full, null while unresolved or when the payout is split (e.g. 50/50). */
  winning_outcome_index: number | null;
  /** ISO-8601 UTC. */
  resolved_at: string | null;
  resolved_block: number | null;
  /** BINARY, INCREMENTAL_NEGRISK or ATOMIC_NEGRISK; null when the API leaves it out. */
  market_type: string | null;
  was_disputed: boolean;
  /** `reported` or `derived`. */
  resolution_source: string | null;
  /** UMA_OO, CHAINLINK or EOA; null when the API leaves it out. */
  reporter: string | null;
  raw: string;
  fetched_at: string;
}
