/**
 * Error types shared across the project. Every message says what failed, the offending value and
 * what to do; unknown errors are wrapped with `coerceError` so their cause is never lost.
 */

export interface BackfillErrorOptions {
  cause?: unknown;
  /** What the operator can do about it; appended to the message. */
  hint?: string;
}

export class BackfillError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, options: BackfillErrorOptions = {}) {
    super(options.hint ? `${message}. ${options.hint}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad configuration or command-line input: the run cannot start. */
export class ConfigError extends BackfillError {}

/** Input data (an address, an API row) that cannot be used; the wallet concerned fails, the run goes on. */
export class InvalidInputError extends BackfillError {}

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
