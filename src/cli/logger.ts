import { createRequire } from 'node:module';

import type * as Pino from 'pino';
import type { Logger as PinoLogger, LoggerOptions } from 'pino';
import type PinoPretty from 'pino-pretty';

import { ENV, LOG_FORMATS, defaultLogFormat } from '../library/config.js';
import type { BackfillConfig, LogFormat } from '../library/config.js';
import { safeText } from './terminal-text.js';

/** A pino logger that also tags every later line with the run it belongs to. */
export type Logger = PinoLogger & { setRunId(runId: string): void };

// Required, not imported (both are CommonJS: an ESM import has Node scan their sources for export
// names), and pino-pretty only for a terminal: start-up time is most of a `status` call.
const require = createRequire(import.meta.url);
const { pino } = require('pino') as typeof Pino;

/** pino level → Cloud Logging severity (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#logseverity). */
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

const LABELS_KEY = 'logging.googleapis.com/labels';

/**
 * The process's one logger, on stderr so stdout stays clean for results and `--json`:
 * - `json`: pino's JSON lines (numeric level), for files and pipes;
 * - `pretty`: short readable lines for a terminal;
 * - `gcp`: what Cloud Logging reads: `severity`, `message`, `time`, the run id as a label, and an
 *   error's stack in `stack_trace` so Error Reporting picks it up.
 */
export function createLogger(config: Pick<BackfillConfig, 'logLevel' | 'logFormat'>): Logger {
  return buildLogger(config.logLevel, config.logFormat, process.stderr);
}

export function buildLogger(level: string, format: LogFormat, stream: NodeJS.WritableStream & { fd?: number }): Logger {
  // A mixin rather than pino bindings: setBindings appends, so a second run in one process would
  // write the label twice.
  const context: { runId?: string } = {};
  const base: LoggerOptions = { level, base: undefined, mixin: () => (context.runId === undefined ? {} : { run_id: context.runId }) };
  const logger = pinoFor(format, base, stream);
  return Object.assign(logger, {
    setRunId: (runId: string) => {
      context.runId = runId;
    },
  });
}

function pinoFor(format: LogFormat, base: LoggerOptions, stream: NodeJS.WritableStream & { fd?: number }): PinoLogger {
  if (format === 'pretty') {
    const pretty = require('pino-pretty') as typeof PinoPretty;
    return pino(
      base,
      pretty({
        destination: stream,
        sync: true,
        colorize: Boolean((stream as { isTTY?: boolean }).isTTY),
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'pid,hostname,run_id',
        // Short lines for a person: every message says what happened on its own; the fields
        // are for machines (json, gcp).
        hideObject: true,
        // Messages quote what the API and the warehouse sent (error pages, addresses): escaped,
        // so a hostile value cannot drive the terminal. JSON formats escape by themselves.
        messageFormat: (log, messageKey) => safeText(String(log[messageKey] ?? '')),
      }),
    );
  }
  const destination = stream === process.stderr ? pino.destination({ fd: 2, sync: true }) : stream;
  if (format === 'json') return pino({ ...base, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  return pino(
    {
      ...base,
      messageKey: 'message',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
        log: (object) => {
          const { run_id: runId, err, ...rest } = object as { run_id?: unknown; err?: unknown } & Record<string, unknown>;
          const out: Record<string, unknown> = { ...rest };
          if (typeof runId === 'string') out[LABELS_KEY] = { run_id: runId };
          if (err instanceof Error) {
            out.error = err.message;
            out.stack_trace = err.stack ?? err.message;
          } else if (err !== undefined) {
            out.error = err;
          }
          return out;
        },
      },
    },
    destination,
  );
}

/**
 * The format for a line written before (or without) a logger, e.g. a configuration error or a
 * crash: the same choice resolveConfig makes, from the raw arguments and environment, because the
 * configuration itself may be what failed.
 */
export function fallbackLogFormat(argv: readonly string[], env: NodeJS.ProcessEnv, stderrIsTty: boolean): LogFormat {
  const index = argv.findIndex((arg) => arg === '--log-format' || arg.startsWith('--log-format='));
  const flag = index < 0 ? undefined : argv[index]?.includes('=') ? argv[index]?.slice('--log-format='.length) : argv[index + 1];
  const chosen = flag ?? env[ENV.logFormat];
  return (LOG_FORMATS as readonly string[]).includes(chosen ?? '') ? (chosen as LogFormat) : defaultLogFormat(env, stderrIsTty);
}

/**
 * One error line outside the logger: plain text on a terminal or in JSON-lines logs (where people
 * grep for `error:`), a Cloud Logging entry with severity ERROR and the stack — so Error Reporting
 * groups it — under `gcp`.
 */
export function errorLine(format: LogFormat, message: string, error?: unknown): string {
  if (format !== 'gcp') return `error: ${message}\n`;
  const entry: Record<string, unknown> = { severity: 'ERROR', time: new Date().toISOString(), message: `error: ${message}` };
  if (error instanceof Error && error.stack) entry.stack_trace = error.stack;
  return `${JSON.stringify(entry)}\n`;
}
