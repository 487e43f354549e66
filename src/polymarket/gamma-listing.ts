/**
 * Which Gamma listing answers id look-ups, chosen once per source and kind. Keyset (`/markets/keyset`,
 * `/events/keyset`) first, since the legacy listings were announced for retirement; legacy (`/markets`,
 * `/events`) when keyset answers 404, 405, 410 or 503 "keyset pagination is not configured"; and back to keyset
 * when legacy answers 404, 410 or a body that is not an array. The choice sticks for the life of the source and
 * is logged once; the first request decides it while the others wait, so a run does not probe once per batch.
 */
import type { HttpClient, SourceLogger } from './http-client.js';
import { HttpStatusError, UnexpectedResponseError } from './http-errors.js';
import type { GammaKind } from './gamma-keyset.js';
import { keysetRows } from './gamma-keyset.js';
import { PageGuard } from './page-guard.js';

export type GammaPaging = 'keyset' | 'legacy';

const KEYSET_GONE = new Set([404, 405, 410]);
const LEGACY_GONE = new Set([404, 410]);
const NOT_CONFIGURED = /keyset pagination is not configured/i;

/** A legacy answer that is not the bare array Gamma documents: maybe the listing was replaced. */
class NotAnArrayError extends UnexpectedResponseError {}

function otherPaging(paging: GammaPaging): GammaPaging {
  return paging === 'keyset' ? 'legacy' : 'keyset';
}

/** Why `error` says this listing is not there (rather than that the request failed), or undefined. */
function unavailable(paging: GammaPaging, error: unknown): string | undefined {
  if (error instanceof NotAnArrayError && paging === 'legacy') return error.message;
  if (!(error instanceof HttpStatusError) || error.status === undefined) return undefined;
  const gone = paging === 'keyset' ? KEYSET_GONE : LEGACY_GONE;
  if (gone.has(error.status)) return `HTTP ${error.status}`;
  // Retried as an outage by the client first; a 503 that says this is configuration, not load, settles it.
  if (paging === 'keyset' && error.status === 503 && NOT_CONFIGURED.test(error.message)) {
    return 'HTTP 503 keyset pagination is not configured';
  }
  return undefined;
}

export interface GammaListingOptions {
  http: HttpClient;
  gammaApiUrl: string;
  kind: GammaKind;
  endpointKey: string;
  /** The legacy request for one batch and `closed` value; returns the parsed body, array or not. */
  legacy: (ids: readonly string[], closed: boolean, signal: AbortSignal | undefined) => Promise<{ url: string; body: unknown }>;
  logger?: SourceLogger;
}

export class GammaListing {
  readonly #options: GammaListingOptions;
  #preferred: GammaPaging = 'keyset';
  #confirmed: GammaPaging | undefined;
  #firstRequest: Promise<unknown> | undefined;

  constructor(options: GammaListingOptions) {
    this.#options = options;
  }

  /** The listing that last answered, or undefined before the first answer. */
  get paging(): GammaPaging | undefined {
    return this.#confirmed;
  }

  /** Every row the listing returns for these ids and this `closed` value. */
  async rows(ids: readonly string[], closed: boolean, signal: AbortSignal | undefined): Promise<unknown[]> {
    if (this.#confirmed === undefined) {
      if (this.#firstRequest) {
        // Whatever it ended in, the first request has settled the choice if anything could.
        await this.#firstRequest.catch(() => undefined);
      } else {
        const first = this.#fetch(ids, closed, signal);
        this.#firstRequest = first;
        return first;
      }
    }
    return this.#fetch(ids, closed, signal);
  }

  async #fetch(ids: readonly string[], closed: boolean, signal: AbortSignal | undefined): Promise<unknown[]> {
    let paging = this.#preferred;
    // Per request, so a listing that disappears mid-run sends us back to one that failed long ago.
    const reasons = new Map<GammaPaging, string>();
    for (;;) {
      try {
        const rows = await this.#request(paging, ids, closed, signal);
        this.#confirm(paging);
        return rows;
      } catch (error) {
        const reason = unavailable(paging, error);
        if (reason === undefined) throw error;
        reasons.set(paging, reason);
        const other = otherPaging(paging);
        if (reasons.has(other)) throw this.#bothGone(reasons, error);
        this.#fallBack(paging, other, reason);
        paging = other;
      }
    }
  }

  async #request(paging: GammaPaging, ids: readonly string[], closed: boolean, signal: AbortSignal | undefined): Promise<unknown[]> {
    const { http, gammaApiUrl, kind, endpointKey, logger } = this.#options;
    if (paging === 'keyset') return keysetRows(http, gammaApiUrl, kind, endpointKey, ids, closed, signal, logger);
    const { url, body } = await this.#options.legacy(ids, closed, signal);
    if (!Array.isArray(body)) {
      const what = body === null ? 'null' : typeof body === 'object' ? 'object' : typeof body;
      throw new NotAnArrayError(`GET ${url} returned a JSON ${what}, not the bare array Gamma documents`, {
        hint: 'The Gamma response changed shape; report it',
      });
    }
    // A one-page walk (its `limit` covers the batch), through the same guard as every walk: a page longer
    // than asked says the listing ignores its paging, and ids it leaves out would pass as unknown to Gamma.
    new PageGuard({
      limit: ids.length,
      maxPages: 1,
      consequence: `The Gamma ${kind} look-up of this batch fails rather than trusting a listing that ignores its page size`,
    }).check(1, body as unknown[], undefined, url);
    return body as unknown[];
  }

  #confirm(paging: GammaPaging): void {
    if (this.#confirmed === paging) return;
    this.#confirmed = paging;
    const path = `/${this.#options.kind}${paging === 'keyset' ? '/keyset' : ''}`;
    this.#options.logger?.info({ kind: this.#options.kind, paging, path }, `Gamma ${this.#options.kind} look-ups use ${path}`);
  }

  #fallBack(from: GammaPaging, to: GammaPaging, reason: string): void {
    if (this.#preferred !== from) return;
    this.#preferred = to;
    const kind = this.#options.kind;
    const fromPath = `/${kind}${from === 'keyset' ? '/keyset' : ''}`;
    const toPath = `/${kind}${to === 'keyset' ? '/keyset' : ''}`;
    this.#options.logger?.warn(
      { kind, from: fromPath, to: toPath, reason },
      `Gamma ${fromPath} is not available (${reason}); using ${toPath} for the rest of the run`,
    );
  }

  #bothGone(reasons: ReadonlyMap<GammaPaging, string>, last: unknown): UnexpectedResponseError {
    const kind = this.#options.kind;
    const keyset = reasons.get('keyset') ?? 'unknown';
    const legacy = reasons.get('legacy') ?? 'unknown';
    return new UnexpectedResponseError(
      `Gamma ${kind} look-up failed: /${kind}/keyset answered ${keyset}, and /${kind} answered ${legacy}`,
      {
        cause: last,
        hint: 'Neither Gamma listing is usable; check --gamma-api-url, or whether Gamma moved its listings again',
      },
    );
  }
}
