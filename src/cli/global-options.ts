import type { Command } from 'commander';

import type { StageStore } from '../staging/stage-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { DEFAULT_STAGE, DEFAULT_WAREHOUSE, openStage, openWarehouse } from './backends.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';

export interface GlobalOptions {
  warehouse: string;
  stage: string;
  logLevel: string;
}

/** Options every command shares; flags win over environment variables, which win over defaults. */
export function addGlobalOptions(command: Command): Command {
  return command
    .option('--warehouse <path|uri>', 'DuckDB file, or bigquery://PROJECT/DATASET?location=US (env BACKFILL_WAREHOUSE)', process.env.BACKFILL_WAREHOUSE ?? DEFAULT_WAREHOUSE)
    .option('--stage <dir|uri>', 'staging directory, or gs://BUCKET/PREFIX (env BACKFILL_STAGE)', process.env.BACKFILL_STAGE ?? DEFAULT_STAGE)
    .option('--log-level <level>', 'fatal|error|warn|info|debug (env BACKFILL_LOG_LEVEL)', process.env.BACKFILL_LOG_LEVEL ?? 'info');
}

export interface Backends {
  stage: StageStore;
  warehouse: Warehouse;
  logger: Logger;
}

/** Opens the stage and warehouse named by the options, runs `work`, and always closes them. */
export async function withBackends<T>(
  options: GlobalOptions,
  work: (backends: Backends) => Promise<T>,
  openedStage?: StageStore,
): Promise<T> {
  const logger = createLogger(options.logLevel);
  const stage = openedStage ?? openStage(options.stage);
  const warehouse = await openWarehouse(options.warehouse, stage);
  try {
    await warehouse.migrate();
    return await work({ stage, warehouse, logger });
  } finally {
    await warehouse.close();
  }
}
