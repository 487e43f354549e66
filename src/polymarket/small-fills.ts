/**
 * Fills under 0.01 shares: the Data API's `filter_amount` "defaults to 0.01, and 0 means the same", so
 * every walk asks for a positive value below the smallest possible fill. Should the API refuse that
 * (a 400 naming `filter_amount`), the run falls back to the documented default instead of failing
 * every wallet: later walks omit the parameter, the warning is logged once, and each walk says
 * whether it ran without the small fills so its checkpoint can record it.
 */
import type { SourceLogger } from './http-client.js';
import { HttpStatusError, describeApiError } from './http-errors.js';

const FILTER_AMOUNT = /\bfilter_?amount\b/i;

/**
 * True when `error` is the Data API refusing `filter_amount`: a 400 whose v2 error body names it as
 * its `parameter`, or, without a `parameter`, whose `error` text names it. The URL is never read (it
 * always carries the parameter), nor a body that is not a v2 error.
 */
export function refusesFilterAmount(error: unknown): error is HttpStatusError {
  if (!(error instanceof HttpStatusError) || error.status !== 400 || error.apiError === undefined) return false;
  const { parameter, error: text } = error.apiError;
  return parameter !== undefined ? /^filter_?amount$/i.test(parameter.trim()) : FILTER_AMOUNT.test(text);
}

/** One per source, hence per run: whether this run's walks still ask for the small fills. */
export class SmallFillsFilter {
  readonly #logger: SourceLogger | undefined;
  #refusal: HttpStatusError | undefined;

  constructor(logger?: SourceLogger) {
    this.#logger = logger;
  }

  /** True once the API refused `filter_amount` in this run: walks started from then on omit it. */
  get excluded(): boolean {
    return this.#refusal !== undefined;
  }

  /** Switches the run to the documented default; only the first refusal is logged. */
  fallBack(refusal: HttpStatusError, filterAmount: string): void {
    if (this.#refusal) return;
    this.#refusal = refusal;
    const why = refusal.apiError ? describeApiError(refusal.apiError) : `HTTP ${refusal.status}`;
    this.#logger?.warn(
      { url: refusal.url, filterAmount, status: refusal.status, traceId: refusal.apiError?.traceId },
      `The Data API refused filter_amount=${filterAmount} (GET ${refusal.url}: HTTP ${refusal.status}, ${why}); for the rest ` +
        'of this run /v2/trades is asked without it, at the documented default minimum of 0.01 shares, so smaller fills are ' +
        'not fetched. The checkpoints of the wallets loaded meanwhile record it (backfill_checkpoint.small_fills_excluded = true)',
    );
  }
}
