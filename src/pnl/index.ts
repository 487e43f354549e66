/**
 * Positions and profit by the method of Polymarket's PnL subgraph: a pure replay of one wallet's fills and
 * activity (replay.ts), its statistics (summary.ts), and the exact amounts both rest on (units.ts).
 */
export {
  epochSeconds,
  orderEvents,
  pnlMarketFromRecord,
  type OrderedEvent,
  type PnlActivity,
  type PnlFill,
  type PnlMarket,
  type PnlResolution,
  type Timestamp,
  type WalletHistory,
} from './inputs.js';
export { replayWallet, type PnlPosition, type PositionStatus, type ReplaySkipped, type WalletReplay } from './replay.js';
export { summarizeWallet, type CategoryVolume, type SummaryOptions, type WalletStats } from './summary.js';
export { FIFTY_CENTS, MICRO, exactDecimal, feeInsideUsdcSize, fillPriceMicro, fillUsdcMicro, fromMicro, toMicro } from './units.js';
