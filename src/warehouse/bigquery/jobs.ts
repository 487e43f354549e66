import { randomBytes } from 'node:crypto';

import { BigQuery } from '@google-cloud/bigquery';
import type { Job, JobMetadata } from '@google-cloud/bigquery';

import { sleep as defaultSleep } from '../../lib/sleep.js';
import { BigQueryJobError, classifyBigQueryError } from './errors.js';
import { RETRY_BUDGETS } from '../../lib/retry-budgets.js';
import type { ErrorRule } from './errors.js';
import type { WarehouseCosts } from '../warehouse.js';

type JobConfiguration = NonNullable<JobMetadata['configuration']>;
type QueryConfiguration = NonNullable<JobConfiguration['query']>;
type LoadConfiguration = NonNullable<JobConfiguration['load']>;

/** A query parameter type as the client takes it: 'STRING', ['STRING'], [{ field: 'INT64' }]. */
export type ParamType = string | ParamType[] | { [field: string]: ParamType };

export interface JobRunnerOptions {
  location: string;
  /** Put on every query job (origin lesson 7). */
  maximumBytesBilled: string;
  /** BigQuery cancels a job that runs longer (a stuck MERGE must not outlive the Cloud Run task). */
  jobTimeoutMs?: number;
  /** Sends of one jobs.insert whose outcome is unknown (same id each time). */
  attempts?: number;
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** Injected so tests never wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  labels?: Record<string, string>;
}

export interface FinishedJob {
  job: Job;
  metadata: JobMetadata;
  jobId: string;
  /** True when the job was created by an earlier request or run and we only waited for it. */
  attached: boolean;
}

// Job ids of earlier attempts that already failed are skipped; this bounds the walk.
const MAX_ID_WALK = 50;

/**
 * Submits jobs and waits for them:
 * - jobs.insert fails at the HTTP level (after the client's own retries): re-sent with the SAME id,
 *   because the job may exist; a 409 then attaches to it instead of running it twice;
 * - an attached job (same id as an earlier attempt's) that ended failed: the next id is used, now
 *   that the old job is confirmed DONE;
 * - our job ends with errorResult: thrown as a BigQueryJobError whose kind (BIGQUERY_ERROR_RULES)
 *   tells the engine whether its retry budget applies; nothing is retried here.
 */
export class JobRunner {
  readonly #bq: BigQuery;
  readonly #options: Required<JobRunnerOptions>;
  readonly #costs: WarehouseCosts = { bytesBilled: 0, bytesProcessed: 0, jobs: 0 };
  // A job attached to again (a lost answer, a re-submitted load) is counted once.
  readonly #counted = new Set<string>();

  constructor(bq: BigQuery, options: JobRunnerOptions) {
    this.#bq = bq;
    this.#options = {
      jobTimeoutMs: 20 * 60_000,
      attempts: RETRY_BUDGETS.bigqueryJobInsert.attempts,
      pollInitialMs: 250,
      pollMaxMs: 5_000,
      sleep: (ms) => defaultSleep(ms),
      random: Math.random,
      labels: {},
      ...options,
    };
  }

  /** A query (DML included) under a fresh random id per attempt: a repeated MERGE is harmless, so no id needs to survive a crash. */
  async query(
    what: string,
    sql: string,
    params: Record<string, unknown> = {},
    types: Record<string, ParamType> = {},
  ): Promise<FinishedJob> {
    const query: QueryConfiguration = {
      query: sql,
      useLegacySql: false,
      maximumBytesBilled: this.#options.maximumBytesBilled,
      ...queryParameters(params, types),
    };
    const base = `backfill_${slug(what)}_${randomBytes(6).toString('hex')}`;
    return this.#run(what, { query, labels: this.#labels(what) }, (attempt) => `${base}_${attempt}`);
  }

  /** A load job whose ids derive from `idBase`: the same staged files and staging table give the same ids. */
  async load(what: string, idBase: string, load: LoadConfiguration): Promise<FinishedJob> {
    return this.#run(what, { load, labels: this.#labels(what) }, (attempt) => `${idBase}_${attempt}`);
  }

  /** Bytes billed and processed by the jobs this runner has seen finish so far. */
  costs(): WarehouseCosts {
    return { ...this.#costs };
  }

  #record(jobId: string, metadata: JobMetadata): void {
    if (this.#counted.has(jobId)) return;
    this.#counted.add(jobId);
    const statistics = metadata.statistics;
    const bytes = (value: unknown) => {
      const n = Number(value ?? 0);
      return Number.isFinite(n) && n > 0 ? n : 0;
    };
    this.#costs.jobs += 1;
    this.#costs.bytesBilled += bytes(statistics?.query?.totalBytesBilled);
    this.#costs.bytesProcessed += bytes(statistics?.query?.totalBytesProcessed ?? statistics?.totalBytesProcessed);
  }

  /** All rows of a finished query (small results: ids, figures). */
  async rows<T>(finished: FinishedJob, pageSize = 10_000): Promise<T[]> {
    const out: T[] = [];
    for await (const page of this.pages<T>(finished, pageSize)) out.push(...page);
    return out;
  }

  /** Result pages of a finished query, fetched one at a time as the consumer asks for them. */
  async *pages<T>(finished: FinishedJob, pageSize: number): AsyncGenerator<T[]> {
    let pageToken: string | undefined;
    do {
      const [rows, next] = (await finished.job.getQueryResults({
        autoPaginate: false,
        maxResults: pageSize,
        ...(pageToken ? { pageToken } : {}),
      })) as unknown as [T[], { pageToken?: string } | null];
      pageToken = next?.pageToken;
      if (rows.length > 0) yield rows;
    } while (pageToken);
  }

  async #run(what: string, configuration: JobConfiguration, jobIdFor: (attempt: number) => string): Promise<FinishedJob> {
    let index = 0;
    let sends = 0;
    for (;;) {
      const jobId = jobIdFor(index);
      let inserted: { job: Job; attached: boolean };
      try {
        inserted = await this.#insert(jobId, configuration);
      } catch (error) {
        // Whether a failed jobs.insert created the job is unknown: it is re-sent under the SAME id,
        // which either creates it or answers 409 and attaches. This settles one submission; it
        // is not a retry of the work, which is the engine's.
        sends += 1;
        const rule = classifyBigQueryError(error);
        if (!rule.retry || sends >= this.#options.attempts) throw new BigQueryJobError(jobId, what, error, sends, this.#options.random);
        await this.#backoff(rule, sends);
        continue;
      }
      const metadata = await this.#wait(what, jobId, inserted.job);
      // Failed jobs are counted too: a query that fails late can still bill.
      this.#record(jobId, metadata);
      const failure = metadata.status?.errorResult;
      if (!failure) return { job: inserted.job, metadata, jobId, attached: inserted.attached };
      const error = { ...failure, errors: metadata.status?.errors ?? [] };
      // A failed job left by an earlier attempt or run (found through its deterministic id) is
      // confirmed DONE, so its id is spent: move to the next id and submit afresh. Our own
      // failure goes to the engine, whose retry submits under the next id the same way.
      if (inserted.attached && index + 1 < MAX_ID_WALK) {
        index += 1;
        continue;
      }
      throw new BigQueryJobError(jobId, what, error, 1, this.#options.random);
    }
  }

  async #insert(jobId: string, configuration: JobConfiguration): Promise<{ job: Job; attached: boolean }> {
    const location = this.#options.location;
    try {
      const [job] = await this.#bq.createJob({
        jobId,
        location,
        configuration: { ...configuration, jobTimeoutMs: String(this.#options.jobTimeoutMs) },
      });
      return { job, attached: false };
    } catch (error) {
      const e = error as { code?: number; response?: { jobReference?: { jobId?: string } } };
      // Our id is already taken: by this very job (an insert retried after a lost answer) or by
      // an earlier run's. Either way the job exists; wait for it instead of running it again.
      if (e.code === 409) return { job: this.#bq.job(jobId, { location }), attached: true };
      // The client reports a job that failed on arrival as an error carrying the job resource.
      if (e.response?.jobReference?.jobId === jobId) return { job: this.#bq.job(jobId, { location }), attached: false };
      throw error;
    }
  }

  async #wait(what: string, jobId: string, job: Job): Promise<JobMetadata> {
    let delay = this.#options.pollInitialMs;
    let failures = 0;
    for (;;) {
      let metadata: JobMetadata;
      try {
        [metadata] = await job.getMetadata();
      } catch (error) {
        failures += 1;
        const rule = classifyBigQueryError(error);
        if (!rule.retry || failures >= this.#options.attempts) throw new BigQueryJobError(jobId, `${what} (waiting for the job)`, error, failures, this.#options.random);
        await this.#backoff(rule, failures);
        continue;
      }
      if (metadata.status?.state === 'DONE') return metadata;
      await this.#options.sleep(delay);
      delay = Math.min(delay * 2, this.#options.pollMaxMs);
    }
  }

  #backoff(rule: ErrorRule, attempt: number): Promise<void> {
    const ceiling = Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** Math.max(0, attempt - 1));
    return this.#options.sleep(Math.floor(this.#options.random() * ceiling));
  }

  #labels(what: string): Record<string, string> {
    return { app: 'polycopy-backfill', step: slug(what).slice(0, 63), ...this.#options.labels };
  }
}

function slug(what: string): string {
  return what.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

/**
 * Named parameters in the REST form. Every parameter gets an explicit type: an empty array or a
 * NULL struct field has no type the client could infer.
 */
function queryParameters(params: Record<string, unknown>, types: Record<string, ParamType>): Partial<QueryConfiguration> {
  const names = Object.keys(params);
  if (names.length === 0) return {};
  return {
    parameterMode: 'NAMED',
    queryParameters: names.map((name) => {
      const type = types[name];
      if (type === undefined) throw new Error(`query parameter @${name} has no declared type`);
      // The client's own converter, so TIMESTAMP and STRUCT values are encoded as the client would.
      const parameter = BigQuery.valueToQueryParameter_(params[name], type as Parameters<typeof BigQuery.valueToQueryParameter_>[1]);
      return { ...parameter, name };
    }),
  };
}
