/**
 * Merges id look-ups from many concurrent wallets into few, full requests: small wallets touch a
 * handful of markets each, and one Gamma request can answer fifty.
 */
export interface BatchAnswer<R> {
  found: Map<string, R>;
  unresolved: Map<string, string>;
}

interface Waiter<R> {
  ids: string[];
  resolve: (answer: BatchAnswer<R>) => void;
  reject: (error: unknown) => void;
}

export interface CoalescingBatcherOptions<R> {
  fetch: (ids: string[]) => Promise<BatchAnswer<R>>;
  /** Flush as soon as this many ids wait. */
  maxIds: number;
  /** Otherwise flush this long after the first id arrived. */
  lingerMs: number;
}

export class CoalescingBatcher<R> {
  readonly #options: CoalescingBatcherOptions<R>;
  #waiting: Waiter<R>[] = [];
  #waitingIds = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: CoalescingBatcherOptions<R>) {
    this.#options = options;
  }

  request(ids: readonly string[]): Promise<BatchAnswer<R>> {
    if (ids.length === 0) return Promise.resolve({ found: new Map(), unresolved: new Map() });
    return new Promise((resolve, reject) => {
      this.#waiting.push({ ids: [...ids], resolve, reject });
      this.#waitingIds += ids.length;
      if (this.#waitingIds >= this.#options.maxIds) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#options.lingerMs);
    });
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiters = this.#waiting;
    this.#waiting = [];
    this.#waitingIds = 0;
    if (waiters.length === 0) return;
    const ids = [...new Set(waiters.flatMap((w) => w.ids))];
    this.#options.fetch(ids).then(
      (answer) => {
        for (const waiter of waiters) {
          const mine: BatchAnswer<R> = { found: new Map(), unresolved: new Map() };
          for (const id of waiter.ids) {
            const record = answer.found.get(id);
            if (record !== undefined) mine.found.set(id, record);
            else mine.unresolved.set(id, answer.unresolved.get(id) ?? 'not returned by Gamma');
          }
          waiter.resolve(mine);
        }
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}
