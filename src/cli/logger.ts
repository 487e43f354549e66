import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

import type { BackfillConfig, LogFormat } from '../library/config.js';

export type { Logger };

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
  const base: LoggerOptions = { level, base: undefined };
  if (format === 'pretty') {
    return pino(
      base,
      pretty({
        destination: stream,
        sync: true,
        colorize: Boolean((stream as { isTTY?: boolean }).isTTY),
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'pid,hostname,run_id',
        singleLine: true,
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
