import { BackfillError, BusyError, ConfigError } from '../../lib/errors.js';
import type { FailureKind } from '../../lib/errors.js';

/**
 * DuckDB failures by kind. The machine running out of disk or failing I/O is transient (the
 * wallet is retried, never parked for it); anything else — a staged file DuckDB cannot read or
 * convert, a constraint — is about the data and permanent.
 */
const TRANSIENT = /No space left on device|Disk (is )?full|ENOSPC|Input\/output error|EIO\b|Could not write (to )?file|Could not set lock/i;

export function duckDbKind(error: unknown): FailureKind {
  return TRANSIENT.test(messageOf(error)) ? 'transient' : 'permanent';
}

/** A failed statement: what it was, DuckDB's own message, the kind. */
export function duckDbError(what: string, error: unknown): BackfillError {
  const message = messageOf(error);
  const kind = duckDbKind(error);
  return new BackfillError(`DuckDB ${what} failed: ${message}`, {
    cause: error,
    kind,
    ...(kind === 'transient' ? { hint: 'The machine could not write the warehouse file: check free disk space and permissions' } : {}),
  });
}

/** Another process holds the file (DuckDB allows one writer process). */
export function isLockConflict(error: unknown): boolean {
  return /Could not set lock|Conflicting lock/i.test(messageOf(error));
}

/** The database file could not be opened: DuckDB's own reason, and what to do about that reason. */
export function openError(path: string, error: unknown): BackfillError {
  const message = messageOf(error);
  if (isLockConflict(error)) {
    return new BusyError(`Could not open DuckDB warehouse ${path}: ${message}`, {
      cause: error,
      hint: 'Another process holds the file open (DuckDB allows one writer process); while a run holds it, `backfill status` reads its live snapshot instead',
    });
  }
  if (/not a valid DuckDB database|corrupt|checksum|invalid|Serialization|unsupported version|Could not read enough bytes/i.test(message)) {
    return new ConfigError(`Could not open DuckDB warehouse ${path}: ${message}`, {
      cause: error,
      hint: 'The file is not a readable DuckDB database (damaged, truncated, or another program\'s file); restore it from a copy or point --warehouse at another path',
    });
  }
  return new BackfillError(`Could not open DuckDB warehouse ${path}: ${message}`, {
    cause: error,
    kind: duckDbKind(error),
    hint: 'Check the path, its permissions and the free disk space',
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
