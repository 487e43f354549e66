/**
 * Stops a run when the API is down instead of marking thousands of wallets failed: it trips once
 * most of the most recent wallet outcomes are outage failures (network errors, 5xx, throttling).
 */
export interface CircuitBreakerOptions {
  /** How many recent wallet outcomes are looked at. */
  window: number;
  /** Fraction of the window that must be outage failures to trip, e.g. 0.8. */
  threshold: number;
}

export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  readonly #recent: boolean[] = [];
  #outages = 0;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
  }

  /** Records one wallet outcome; returns true when the breaker trips. */
  record(outage: boolean): boolean {
    this.#recent.push(outage);
    if (outage) this.#outages += 1;
    if (this.#recent.length > this.#options.window && this.#recent.shift()) this.#outages -= 1;
    return this.#recent.length >= this.#options.window && this.#outages >= this.#options.threshold * this.#options.window;
  }

  describe(): string {
    return `${this.#outages} of the last ${this.#recent.length} wallets failed because the API was unavailable (network errors, 5xx or throttling)`;
  }
}
