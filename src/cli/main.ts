#!/usr/bin/env node
import { Command, CommanderError } from 'commander';

import { BackfillError, ConfigError, describeError } from '../lib/errors.js';
import { demoCommand } from './commands/demo.js';
import { reloadCommand } from './commands/reload.js';
import { runCommand } from './commands/run.js';
import { simCommand } from './commands/sim.js';
import { failedCommand, statusCommand } from './commands/status.js';
import { tradersCommand } from './commands/traders.js';
import { EXIT } from './exit-codes.js';

const program = new Command('backfill')
  .description('Backfill the complete Polymarket trade history of a list of wallets into DuckDB or BigQuery, resumably')
  .showHelpAfterError()
  .exitOverride()
  .addCommand(tradersCommand())
  .addCommand(runCommand())
  .addCommand(reloadCommand())
  .addCommand(statusCommand())
  .addCommand(failedCommand())
  .addCommand(simCommand())
  .addCommand(demoCommand())
  .addHelpText(
    'after',
    `
Exit codes: 0 all done (or another run holds the lock), 2 some wallets failed, 3 stopped early
            (signal, --max-runtime, circuit breaker), 64 configuration error, 1 unexpected.
Environment: BACKFILL_WAREHOUSE, BACKFILL_STAGE, BACKFILL_LOG_LEVEL, BACKFILL_RATE_LIMITS,
             BACKFILL_DUCKDB_MEMORY_LIMIT, POLYMARKET_DATA_API_URL, POLYMARKET_GAMMA_API_URL,
             CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT (shard), BACKFILL_GCS_API_ENDPOINT and
             BACKFILL_BIGQUERY_API_ENDPOINT (emulators only)`,
  );

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.config;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = EXIT.config;
  } else {
    process.stderr.write(`error: ${error instanceof BackfillError ? error.message : describeError(error)}\n`);
    if (process.env.DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = EXIT.unexpected;
  }
}
