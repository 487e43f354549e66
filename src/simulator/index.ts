/**
 * A local Polymarket: Data API v2 `/v2/trades` and Gamma `/markets`, `/events` over real HTTP, with deterministic
 * synthetic data, fault injection and the ground truth a complete backfill must reproduce.
 */
export type {
  FaultRates,
  GroundTruthFill,
  RunningSimulator,
  SimDataset,
  SimRoute,
  SimulatorOptions,
  SimulatorStats,
} from './types.js';
export { createDataset } from './dataset.js';
export { startSimulator } from './server.js';
export { writeGroundTruth } from './ground-truth.js';
export { parseFaultSpec, parseLatencySpec } from './cli-options.js';
