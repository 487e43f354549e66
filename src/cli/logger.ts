import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Logs go to stderr so stdout stays clean for `--json` output. */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}
