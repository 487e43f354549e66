/**
 * Error types shared across the project. Every message says what failed, the offending value and
 * what to do; unknown errors are wrapped with `coerceError` so their cause is never lost.
 *
 * Every failure that reaches the engine has a kind (`failureKind`), which is the whole retry and
 * parking contract between the engine and its source, stage and warehouse:
 * - `transient`: the service or the machine was unavailable (network, 5xx, throttling, a full disk).
 *   Retried where it happened, then recorded for the wallet, retried by the next run, never counted
 *   towards parking, and counted by the circuit breaker.
 * - `permanent`: something about this wallet or request (malformed rows, a response over the byte
 *   cap, a rejected query). Not retried; fails the wallet and counts towards parking.
 */

export type FailureKind = 'transient' | 'permanent';

export interface BackfillErrorOptions {
  cause?: unknown;
  /** What the operator can do about it; appended to the message. */
  hint?: string;
  /** Default: the kind of the cause, else permanent. */
  kind?: FailureKind;
}

export class BackfillError extends Error {
  readonly hint: string | undefined;
  readonly kind: FailureKind | undefined;
  constructor(message: string, options: BackfillErrorOptions = {}) {
    super(options.hint ? `${message}. ${options.hint}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.kind = options.kind;
  }
}

/** Bad configuration or command-line input: the run cannot start. */
export class ConfigError extends BackfillError {}

/** Busy right now (another process holds what is needed), nothing was done: try again shortly. */
export class BusyError extends BackfillError {
  constructor(message: string, options: Omit<BackfillErrorOptions, 'kind'> = {}) {
    super(message, { ...options, kind: 'transient' });
  }
}

/** Input data (an address, an API row) that cannot be used; the wallet concerned fails, the run goes on. */
export class InvalidInputError extends BackfillError {
  constructor(message: string, options: Omit<BackfillErrorOptions, 'kind'> = {}) {
    super(message, { ...options, kind: 'permanent' });
  }
}

/** The first explicit kind along the cause chain; permanent when nothing says otherwise. */
export function failureKind(error: unknown): FailureKind {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    const kind = (current as { kind?: unknown }).kind;
    if (kind === 'transient' || kind === 'permanent') return kind;
    current = (current as { cause?: unknown }).cause;
  }
  return 'permanent';
}

export const isTransient = (error: unknown): boolean => failureKind(error) === 'transient';

/**
 * The path the machine cannot write at all (a full disk, a read-only mount) when that is what
 * failed, anywhere along the cause chain; such a run stops instead of failing every wallet.
 */
export function unwritablePath(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    const e = current as { unwritable?: unknown; path?: unknown; cause?: unknown };
    if (e.unwritable === true && typeof e.path === 'string') return e.path;
    current = e.cause;
  }
  return undefined;
}

/** Turns anything thrown into an Error, keeping the original as `cause`. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return new Error(`Non-error thrown: ${text}`, { cause: value });
}

/** One line for logs and checkpoint rows: the message plus the chain of causes. */
export function describeError(value: unknown): string {
  const parts: string[] = [];
  let current: unknown = value;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    const error = coerceError(current);
    if (!parts.includes(error.message)) parts.push(error.message);
    current = (error as { cause?: unknown }).cause;
  }
  return parts.join(' <- caused by: ');
}
