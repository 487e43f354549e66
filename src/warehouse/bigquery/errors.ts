import { BackfillError } from '../../lib/errors.js';

/**
 * What a BigQuery failure means, by error class. The policy is data (BIGQUERY_ERROR_RULES): each
 * class says whether the failure is transient (the engine's retry budgets apply: loads 3 attempts,
 * checkpoints 5) or permanent (fails the batch at once), and how long to back off. The job runner
 * retries nothing itself beyond re-sending a jobs.insert whose outcome is unknown under the same
 * id (RETRY_BUDGETS.bigqueryJobInsert); the budgets of every layer are in src/lib/retry-budgets.ts.
 *
 * Two places a failure can come from:
 * - the HTTP request (jobs.insert, jobs.get …): the client library has already retried
 *   408/429/5xx and `rateLimitExceeded` (autoRetry). Whether a failed jobs.insert created the job
 *   is unknown, so it is re-sent with the SAME job id: a 409 then attaches to the job.
 * - the job itself (`status.errorResult` of a DONE job): the job is confirmed failed, so a retry
 *   needs a NEW job id (the old id stays taken by the failed job).
 *
 * Sources: cloud.google.com/bigquery/docs/error-messages (jobBackendError, jobInternalError and
 * jobRateLimitExceeded: "retry the job with a new jobId"; backendError/internalError: retry with
 * backoff), troubleshoot-queries (serialization and aborted-transaction errors, HTTP 400
 * invalidQuery, so no generic predicate retries them), data-manipulation-language (2 running +
 * 20 pending mutating DML per table).
 */

export type ErrorClass =
  | 'concurrent-update'
  | 'dml-queue-full'
  | 'job-backend'
  | 'job-rate-limit'
  | 'rate-limit'
  | 'backend'
  | 'bytes-billed-limit'
  | 'fatal';

export interface ErrorRule {
  class: ErrorClass;
  /** Any of these `reason`s (errorResult.reason or errors[].reason) matches… */
  reasons?: readonly string[];
  /** …or a message matching this pattern (the serialization error's reason is the generic invalidQuery). */
  message?: RegExp;
  retry: boolean;
  /** Backoff before the next attempt: full jitter up to min(max, base·2^(attempt-1)). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Shown with the final error. */
  hint?: string;
}

/** First match wins; message rules come first because their reasons are generic. */
export const BIGQUERY_ERROR_RULES: readonly ErrorRule[] = [
  {
    class: 'concurrent-update',
    message: /Could not serialize access to .* due to concurrent update|Transaction is aborted due to concurrent update/i,
    retry: true,
    baseDelayMs: 1_000,
    maxDelayMs: 20_000,
  },
  {
    class: 'dml-queue-full',
    message: /Too many DML statements outstanding against/i,
    retry: true,
    baseDelayMs: 5_000,
    maxDelayMs: 60_000,
    hint: 'More runners MERGE into one table than its DML queue holds (2 running + 20 pending); lower --tasks/parallelism',
  },
  {
    class: 'bytes-billed-limit',
    reasons: ['bytesBilledLimitExceeded'],
    message: /exceeded limit for bytes billed/i,
    retry: false,
    baseDelayMs: 0,
    maxDelayMs: 0,
    hint: 'The query would bill more than maximumBytesBilled; raise it in the warehouse URI (…?maximumBytesBilled=N) after checking why',
  },
  { class: 'job-backend', reasons: ['jobBackendError', 'jobInternalError'], retry: true, baseDelayMs: 1_000, maxDelayMs: 30_000 },
  { class: 'job-rate-limit', reasons: ['jobRateLimitExceeded'], retry: true, baseDelayMs: 5_000, maxDelayMs: 60_000 },
  { class: 'rate-limit', reasons: ['rateLimitExceeded', 'userRateLimitExceeded'], retry: true, baseDelayMs: 2_000, maxDelayMs: 60_000 },
  { class: 'backend', reasons: ['backendError', 'internalError'], retry: true, baseDelayMs: 1_000, maxDelayMs: 30_000 },
];

const FATAL: ErrorRule = { class: 'fatal', retry: false, baseDelayMs: 0, maxDelayMs: 0 };

export interface BigQueryErrorInfo {
  reason: string | undefined;
  message: string;
  /** HTTP status of a request failure; undefined for a job's errorResult. */
  status: number | undefined;
}

interface ErrorProto {
  reason?: string;
  message?: string;
}

/** Reason and message of a job errorResult, or of a client ApiError (`code`, `errors[]`). */
export function errorInfo(error: unknown): BigQueryErrorInfo {
  const e = (error ?? {}) as { code?: unknown; message?: unknown; reason?: unknown; errors?: ErrorProto[] };
  const reasons = [typeof e.reason === 'string' ? e.reason : undefined, ...(e.errors ?? []).map((x) => x.reason)].filter(
    (r): r is string => typeof r === 'string',
  );
  const messages = [typeof e.message === 'string' ? e.message : undefined, ...(e.errors ?? []).map((x) => x.message)].filter(
    (m): m is string => typeof m === 'string' && m.length > 0,
  );
  return {
    reason: reasons[0],
    message: [...new Set(messages)].join('; ') || String(error),
    status: typeof e.code === 'number' ? e.code : undefined,
  };
}

export function classifyBigQueryError(error: unknown): ErrorRule & { info: BigQueryErrorInfo } {
  const info = errorInfo(error);
  const e = (error ?? {}) as { reason?: unknown; errors?: ErrorProto[] };
  const reasons = new Set([typeof e.reason === 'string' ? e.reason : '', ...(e.errors ?? []).map((x) => x.reason ?? '')]);
  for (const rule of BIGQUERY_ERROR_RULES) {
    if (rule.message?.test(info.message) || rule.reasons?.some((r) => reasons.has(r))) return { ...rule, info };
  }
  // A request the client gave up on with a 5xx is worth another round of our own.
  if (info.status !== undefined && info.status >= 500) return { ...BIGQUERY_ERROR_RULES.find((r) => r.class === 'backend')!, info };
  return { ...FATAL, info };
}

/**
 * A failed job or job request: the job id, BigQuery's reason and message, the class, and the kind
 * the engine's retry reads. `retryAfterMs` carries the class's backoff (full jitter), so a DML
 * queue that is full is waited out longer than a backend blip.
 */
export class BigQueryJobError extends BackfillError {
  readonly jobId: string;
  readonly reason: string | undefined;
  readonly errorClass: ErrorClass;
  readonly retryAfterMs: number | undefined;

  constructor(jobId: string, what: string, error: unknown, attempts: number, random: () => number = Math.random) {
    const rule = classifyBigQueryError(error);
    const tried = attempts > 1 ? ` after ${attempts} attempts` : '';
    super(`BigQuery ${what} failed${tried} (job ${jobId}, ${rule.info.reason ?? 'no reason'}): ${rule.info.message}`, {
      cause: error,
      ...(rule.hint ? { hint: rule.hint } : {}),
      kind: rule.retry ? 'transient' : 'permanent',
    });
    this.jobId = jobId;
    this.reason = rule.info.reason;
    this.errorClass = rule.class;
    this.retryAfterMs = rule.retry ? Math.floor(rule.baseDelayMs + random() * (rule.maxDelayMs - rule.baseDelayMs) * 0.5) : undefined;
  }
}
