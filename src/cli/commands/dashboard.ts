import { Command } from 'commander';

import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from '../../dashboard/defaults.js';
import type { Dashboard } from '../../dashboard/index.js';
import { intIn } from '../../library/config.js';
import type { Flags } from '../../library/config.js';
import type { Backfill } from '../../library/open-backfill.js';
import type { Logger } from '../logger.js';
import { addStoreOptions, withBackfill } from '../options.js';

/** A dashboard's port and host flags, checked; loopback unless the user exposes it. */
export function dashboardAddress(port: Flags[string], host: Flags[string], portOption: string): { host: string; port: number } {
  return {
    host: typeof host === 'string' ? host : DEFAULT_DASHBOARD_HOST,
    port: typeof port === 'string' ? intIn(port, portOption, [0, 65_535]) : DEFAULT_DASHBOARD_PORT,
  };
}

/** Serves the dashboard over this library object's live status, and logs where. */
export async function serveDashboard(backfill: Backfill, logger: Logger, address: { host: string; port: number }): Promise<Dashboard> {
  // Loaded on use: every other command starts without the HTTP server and its assets.
  const { startDashboard } = await import('../../dashboard/index.js');
  const dashboard = await startDashboard({ ...address, status: () => backfill.status(), logger });
  logger.info({ event: 'dashboard', url: dashboard.url }, `dashboard on ${dashboard.url}`);
  return dashboard;
}

export function dashboardCommand(): Command {
  return addStoreOptions(new Command('dashboard'))
    .description('serve a live dashboard of the backfill (and /api/status, the JSON of `status --json`); runs beside a run')
    .option('--port <n>', `port (0 = any free port; default ${DEFAULT_DASHBOARD_PORT})`)
    .option('--host <address>', `listen address (default ${DEFAULT_DASHBOARD_HOST}, this machine only; 0.0.0.0 exposes it)`)
    .action(async (flags: Flags) => {
      await withBackfill(flags, async (backfill, logger) => {
        const dashboard = await serveDashboard(backfill, logger, dashboardAddress(flags.port, flags.host, '--port'));
        // Where it listens is this command's result (with --port 0 nobody else knows it).
        process.stdout.write(`dashboard on ${dashboard.url}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await dashboard.close();
      });
    });
}
