/**
 * The class of a wallet's failure, decided where it happens from what the engine knows — the stage
 * and the error's type and kind — and stored with the checkpoint, so nothing downstream reads it
 * back out of the error text.
 */
import { failureKind } from '../lib/errors.js';
import { PaginationError, ResponseTooLargeError } from '../polymarket/http-errors.js';
import type { FailureClass } from '../warehouse/warehouse.js';

function anyCause(error: unknown, test: (e: unknown) => boolean): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth += 1) {
    if (test(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** A fetch or stage failure: a server that pages or sizes its answers against the contract, an outage, or bad data. */
export function fetchFailureClass(error: unknown): FailureClass {
  if (anyCause(error, (e) => e instanceof ResponseTooLargeError || e instanceof PaginationError)) return 'hostile response';
  if (failureKind(error) === 'transient') return 'API unavailable';
  return 'data';
}
