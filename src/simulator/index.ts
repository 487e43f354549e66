/**
 * A local Polymarket: Data API v2 `/v2/trades`, `/v2/activity`, `/v2/activity/combos`, `/v2/resolutions`, `/v2/positions`, `/v2/user-pnl`,
 * `/v2/leaderboard` and Gamma `/markets`, `/events` (legacy and
 * keyset) over real HTTP, with deterministic synthetic data, a clock that `advance` moves, fault injection and the
 * ground truth a complete backfill must reproduce.
 */
export type {
  AdvanceOptions,
  AdvanceSummary,
  FaultRates,
  GammaPaging,
  GlobalFeedMode,
  GroundTruthActivity,
  GroundTruthFill,
  RunningSimulator,
  SimDataset,
  SimRoute,
  SimulatorOptions,
  SimExchange,
  SimulatorStats,
} from './types.js';
export { createDataset } from './dataset.js';
export { ACTIVITY_TYPES, type ActivityType } from './activity.js';
export { PAYOUT_UNIT } from './resolutions.js';
export { CHAIN_RPC_PATH, startSimulator } from './server.js';
export { SIM_CHAIN_CLOCK, type ChainPlan, type PlantedChain } from './sim-chain.js';
export { writeGroundTruth } from './ground-truth.js';
export { parseChainPlan, parseFaultSpec, parseFillsPerDay, parseGammaPaging, parseGlobalFeedMode, parseLatencySpec, parseMisreportSpec } from './cli-options.js';
export { DEFAULT_BOUNDARY_MAX_AGE_SECONDS } from './dataset.js';
export { feedWindowStart } from './global-feed.js';
