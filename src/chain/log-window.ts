/**
 * The block window of an `eth_getLogs` walk. Providers cap a request's block span (5 to 10,000 blocks,
 * by plan) and its result count (10,000 logs), and neither cap is announced: the walk starts wide,
 * halves on a cap error, and doubles again after successes, since a wallet's fills are dense in some
 * months and absent for years.
 *
 * A span cap is a fixed number, so the window learns it: the widest span served and the narrowest
 * refused bracket it, a refused probe falls back to the widest span served (not to half the probe),
 * and growth bisects the bracket down to the cap itself, then stays there. That costs about a dozen
 * refused requests per provider, not one per growth; settling a few percent under the cap instead
 * would cost that few percent of a full audit's thousands of requests. A result cap depends on
 * how many logs the range holds, so it teaches nothing about spans: the window halves and grows back.
 */

export interface WindowOptions {
  /** Blocks asked for first. Default 10,000 (the widest span common paid plans serve). */
  initialBlocks?: number;
  /** The most the window grows to. Default `initialBlocks`. */
  maxBlocks?: number;
  /** Consecutive full-window successes before the window grows. Default 1. */
  growAfter?: number;
}

/** What is known of a provider's span cap: the widest span served, the narrowest refused for its span. */
export interface SpanKnowledge {
  served: number;
  refused: number;
}

export const DEFAULT_WINDOW_BLOCKS = 10_000;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of blocks >= 1, got ${String(value)}`);
  return value;
}

export class AdaptiveWindow {
  readonly #max: number;
  readonly #growAfter: number;
  #size: number;
  #served = 0;
  #refused = Number.POSITIVE_INFINITY;
  #streak = 0;

  /** `known`: what an earlier walk against the same provider learnt. */
  constructor(options: WindowOptions = {}, known?: SpanKnowledge) {
    const initial = positiveInteger('initialBlocks', options.initialBlocks ?? DEFAULT_WINDOW_BLOCKS);
    this.#max = positiveInteger('maxBlocks', options.maxBlocks ?? initial);
    if (initial > this.#max) throw new RangeError(`initialBlocks ${initial} is over maxBlocks ${this.#max}`);
    this.#growAfter = positiveInteger('growAfter', options.growAfter ?? 1);
    this.#size = initial;
    if (known) {
      this.#served = known.served;
      this.#refused = known.refused;
      if (initial >= known.refused) this.#size = Math.max(1, Math.min(initial, known.served || Math.floor(known.refused / 2)));
    }
  }

  /** The span the next request asks for. */
  get size(): number {
    return this.#size;
  }

  /** The widest span not refused as too wide (one under the narrowest refused), or undefined before any span cap. */
  get ceiling(): number | undefined {
    return Number.isFinite(this.#refused) ? this.#refused - 1 : undefined;
  }

  knowledge(): SpanKnowledge {
    return { served: this.#served, refused: this.#refused };
  }

  /** A request over `span` blocks came back. */
  succeeded(span: number): void {
    this.#served = Math.max(this.#served, span);
    // A short last range says nothing about wider ones; only full windows earn growth.
    if (span < this.#size) return;
    this.#streak += 1;
    if (this.#streak < this.#growAfter) return;
    this.#streak = 0;
    this.#size = Math.max(1, Math.min(this.#max, this.#size * 2, this.#target()));
  }

  /**
   * A request over `span` blocks was refused by a cap. Returns false when the window cannot shrink
   * (the span was one block): no range the provider serves holds that block's logs.
   */
  failed(span: number, cap: 'span' | 'results', suggestedSpan?: number): boolean {
    this.#streak = 0;
    if (span <= 1) return false;
    if (cap === 'span') {
      this.#refused = Math.min(this.#refused, span);
      // A refused probe above the widest span served goes back to that span, which is known to work.
      this.#size = this.#served > 0 && this.#served < span ? this.#served : Math.floor(span / 2);
      return true;
    }
    const next = suggestedSpan !== undefined && suggestedSpan >= 1 && suggestedSpan < span ? suggestedSpan : Math.floor(span / 2);
    this.#size = Math.max(1, next);
    return true;
  }

  /** How far growth may go: unbounded before a span cap; then the bracket's middle (its lower end once it is closed). */
  #target(): number {
    if (!Number.isFinite(this.#refused)) return Number.POSITIVE_INFINITY;
    return Math.max(this.#served, Math.floor((this.#served + this.#refused) / 2));
  }
}
