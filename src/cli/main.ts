#!/usr/bin/env node
import { Command, CommanderError } from 'commander';

import { BackfillError, BusyError, ConfigError, describeError } from '../lib/errors.js';
import { runExitCleanups } from '../library/shutdown.js';
import { auditCommand } from './commands/audit.js';
import { dashboardCommand } from './commands/dashboard.js';
import { demoCommand } from './commands/demo.js';
import { refreshCommand } from './commands/refresh.js';
import { reloadCommand } from './commands/reload.js';
import { runCommand } from './commands/run.js';
import { simCommand } from './commands/sim.js';
import { statsCommand, verifyPnlCommand } from './commands/stats.js';
import { failedCommand, statusCommand } from './commands/status.js';
import { tradersCommand } from './commands/traders.js';
import { EXIT } from './exit-codes.js';
import { errorLine, fallbackLogFormat } from './logger.js';
import { safeText } from './terminal-text.js';

// A reader that went away (`backfill run | head -1`) must not crash a run that still holds its
// lease: output is dropped, the run goes on and releases the lease when it ends.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

// Whatever ends the process, the run lease is released first, so the next run need not wait for it to expire.
const errorFormat = fallbackLogFormat(process.argv, process.env, Boolean(process.stderr.isTTY));
const fatal = (error: unknown) => {
  try {
    process.stderr.write(errorLine(errorFormat, `unexpected: ${safeText(describeError(error))}`, error));
  } catch {
    // stderr may be gone too.
  }
  void runExitCleanups().finally(() => process.exit(EXIT.unexpected));
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

const program = new Command('backfill')
  .description('Backfill the complete Polymarket trade history of a list of wallets into DuckDB or BigQuery, resumably')
  // Under Cloud Logging a usage error is one ERROR entry, not a help text spread over DEFAULT lines.
  .showHelpAfterError(errorFormat !== 'gcp')
  .configureOutput({ outputError: (text, write) => write(errorFormat === 'gcp' ? errorLine('gcp', text.trim().replace(/^error: /, '')) : text) })
  .exitOverride()
  .addCommand(tradersCommand())
  .addCommand(runCommand())
  .addCommand(refreshCommand())
  .addCommand(reloadCommand())
  .addCommand(statusCommand())
  .addCommand(failedCommand())
  .addCommand(auditCommand())
  .addCommand(statsCommand())
  .addCommand(verifyPnlCommand())
  .addCommand(dashboardCommand())
  .addCommand(simCommand())
  .addCommand(demoCommand())
  .addHelpText(
    'after',
    `
Exit codes (--exit-codes strict, the local default): 0 all done, 2 some wallets failed (verify-pnl: some differ),
            3 stopped early (signal, --max-runtime, circuit breaker, unwritable stage),
            75 another run holds the lease, 64 configuration error, 1 unexpected.
            backfill audit: 0 every audited wallet matches the chain, 2 some do not (named),
            3 stopped before the end (run it again to continue).
            With --exit-codes schedule (the default on Cloud Run) the normal pauses of a multi-run
            backfill exit 0: see README.
Environment: BACKFILL_WAREHOUSE, BACKFILL_STAGE, BACKFILL_LOG_LEVEL, BACKFILL_LOG_FORMAT,
             BACKFILL_EXIT_CODES, BACKFILL_RATE_LIMITS, BACKFILL_DUCKDB_MEMORY_LIMIT,
             BACKFILL_STATUS_INTERVAL (live snapshot, default 3s), BACKFILL_SKIP_LOCATION_CHECK=1,
             BACKFILL_RPC_URL (backfill audit's Polygon RPC; never printed),
             POLYMARKET_DATA_API_URL, POLYMARKET_GAMMA_API_URL, CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT
             (shard), CLOUD_RUN_JOB/K_SERVICE (Cloud Run defaults), BACKFILL_GCS_API_ENDPOINT and
             BACKFILL_BIGQUERY_API_ENDPOINT (emulators only)`,
  );

// addCommand (unlike .command) does not pass the program's settings down; the error output and the
// exit override must hold for `backfill run --bogus` as they do for `backfill --bogus`.
const inherit = (parent: Command): void => {
  for (const command of parent.commands) {
    command.copyInheritedSettings(parent);
    inherit(command);
  }
};
inherit(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.config;
  } else if (error instanceof ConfigError) {
    process.stderr.write(errorLine(errorFormat, safeText(error.message)));
    process.exitCode = EXIT.config;
  } else if (error instanceof BusyError) {
    process.stderr.write(errorLine(errorFormat, safeText(error.message)));
    process.exitCode = EXIT.lockHeld;
  } else {
    process.stderr.write(errorLine(errorFormat, safeText(error instanceof BackfillError ? error.message : describeError(error)), error));
    if (process.env.DEBUG && error instanceof Error && errorFormat !== 'gcp') process.stderr.write(`${error.stack}\n`);
    process.exitCode = EXIT.unexpected;
  }
}
