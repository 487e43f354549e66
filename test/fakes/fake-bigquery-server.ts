import { googleError, listen, readBody, sendJson, takeFault } from './http-util.js';
import type { FaultRule, RunningServer } from './http-util.js';

/**
 * The subset of the BigQuery REST API (v2) that `@google-cloud/bigquery` uses for this product:
 * datasets get/insert, tables get/insert/patch/delete, jobs insert/get (query and load jobs; 409
 * `duplicate` on a repeated job id), and getQueryResults with paging (`maxResults`/`pageToken`).
 * Every request is recorded. A query job's result comes from the test (`onQuery`), else from a
 * pluggable engine (the DuckDB one executes the SQL for real), else it is empty. Job failures are
 * injected as a DONE job with `errorResult` — and without any effect, as in BigQuery — and request
 * failures as HTTP errors.
 */

export interface BqRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** e.g. `datasets.get`, `tables.insert`, `jobs.insert`, `jobs.get`, `queries.get`. */
  op: string;
  status?: number;
}

export interface ParamValue {
  type: string;
  value: unknown;
  /** For ARRAY: the element type; for STRUCT: the field types. */
  arrayType?: ParamTypeDescriptor;
  structTypes?: { name: string; type: ParamTypeDescriptor }[];
}

export interface ParamTypeDescriptor {
  type: string;
  arrayType?: ParamTypeDescriptor;
  structTypes?: { name: string; type: ParamTypeDescriptor }[];
}

export interface FieldSchema {
  name: string;
  type: string;
  mode?: string;
}

export interface QueryOutcome {
  rows?: Record<string, unknown>[];
  /** Result schema; inferred from the first row when omitted. */
  schema?: FieldSchema[];
  affectedRows?: number;
  error?: JobErrorProto;
}

export interface JobErrorProto {
  reason: string;
  message: string;
}

export interface TableResource {
  tableReference: { projectId: string; datasetId: string; tableId: string };
  schema?: { fields: FieldSchema[] };
  timePartitioning?: { type: string; field?: string };
  clustering?: { fields: string[] };
  expirationTime?: string;
  creationTime: string;
  labels?: Record<string, string>;
  description?: string;
  [key: string]: unknown;
}

export interface FakeJob {
  jobId: string;
  projectId: string;
  location: string;
  kind: 'query' | 'load';
  configuration: Record<string, unknown> & {
    query?: { query: string; maximumBytesBilled?: string; queryParameters?: unknown[]; useLegacySql?: boolean };
    load?: LoadConfig;
  };
  sql?: string;
  params: Record<string, ParamValue>;
  outcome: QueryOutcome;
  pollsLeft: number;
  /** Bytes read per referenced table (query jobs with an engine that reports them). */
  bytesPerTable?: number[];
}

export interface LoadConfig {
  sourceUris: string[];
  sourceFormat: string;
  schema: { fields: FieldSchema[] };
  destinationTable: { projectId: string; datasetId: string; tableId: string };
  writeDisposition?: string;
  createDisposition?: string;
}

/** Executes SQL and loads for the fake (see duckdb-query-engine.ts). */
export interface QueryEngine {
  createTable(table: TableResource): Promise<void>;
  addColumns(table: TableResource, fields: FieldSchema[]): Promise<void>;
  dropTable(table: TableResource): Promise<void>;
  query(sql: string, params: Record<string, ParamValue>): Promise<QueryOutcome>;
  load(config: LoadConfig): Promise<QueryOutcome>;
  /**
   * Bytes a query reads as BigQuery on-demand would bill them, computed before it runs: the
   * referenced columns of each table it reads, only the partitions its constant time ranges touch.
   */
  bytes?(sql: string, params: Record<string, ParamValue>): Promise<number[]>;
  /** A table's stored bytes (every column of every row), reported as `numBytes` by tables.get. */
  tableBytes?(tableId: string): Promise<number>;
}

/** On-demand billing of the bytes read per table: rounded up to the MiB, at least 10 MiB per table read. */
export function billedBytes(perTable: readonly number[]): number {
  const MiB = 2 ** 20;
  return perTable.reduce((sum, b) => sum + Math.max(10 * MiB, Math.ceil(b / MiB) * MiB), 0);
}

export interface FakeBigQueryOptions {
  engine?: QueryEngine;
  /** GETs of a job that answer RUNNING before DONE (exercises polling). Default 1. */
  pollsBeforeDone?: number;
}

interface JobFault extends FaultRule<FakeJob> {
  error: JobErrorProto;
}

interface RequestFault extends FaultRule<BqRequest> {
  status: number;
  reason: string;
}

export interface FakeBigQuery {
  readonly url: string;
  readonly requests: BqRequest[];
  readonly jobs: Map<string, FakeJob>;
  readonly tables: Map<string, TableResource>;
  readonly datasets: Map<string, Record<string, unknown>>;
  /** Query jobs in insertion order (failed and attached ones included). */
  queryJobs(): FakeJob[];
  loadJobs(): FakeJob[];
  /** A test's answer for query jobs; return undefined to fall through to the engine. */
  onQuery(handler: ((job: FakeJob) => QueryOutcome | undefined | Promise<QueryOutcome | undefined>) | undefined): void;
  /** The next `times` jobs matching `match` end DONE with this errorResult and do nothing. */
  failJobs(times: number, match: (job: FakeJob) => boolean, error: JobErrorProto): void;
  /** The next `times` matching requests get an HTTP error. */
  failRequests(times: number, match: (r: BqRequest) => boolean, status?: number, reason?: string): void;
  /** The next `times` matching requests are carried out, then answered with an HTTP error (a lost answer). */
  failAfterProcessing(times: number, match: (r: BqRequest) => boolean, status?: number, reason?: string): void;
  /** Test setup: a dataset or table that exists before the product starts. */
  createDataset(projectId: string, datasetId: string, location: string): void;
  createTable(projectId: string, datasetId: string, tableId: string, fields: FieldSchema[]): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeBigQuery(options: FakeBigQueryOptions = {}): Promise<FakeBigQuery> {
  const requests: BqRequest[] = [];
  const jobs = new Map<string, FakeJob>();
  const order: FakeJob[] = [];
  const tables = new Map<string, TableResource>();
  const datasets = new Map<string, Record<string, unknown>>();
  const jobFaults: JobFault[] = [];
  const requestFaults: RequestFault[] = [];
  const lostAnswers: RequestFault[] = [];
  let queryHandler: ((job: FakeJob) => QueryOutcome | undefined | Promise<QueryOutcome | undefined>) | undefined;
  const pollsBeforeDone = options.pollsBeforeDone ?? 1;
  const tableKey = (p: string, d: string, t: string) => `${p}.${d}.${t}`;

  const jobResource = (job: FakeJob) => {
    const done = job.pollsLeft <= 0;
    const error = job.outcome.error;
    return {
      kind: 'bigquery#job',
      id: `${job.projectId}:${job.location}.${job.jobId}`,
      jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
      configuration: job.configuration,
      status: done ? { state: 'DONE', ...(error ? { errorResult: error, errors: [error] } : {}) } : { state: 'RUNNING' },
      statistics: {
        creationTime: String(Date.now()),
        ...(job.kind === 'query' && done && !error
          ? {
              totalBytesProcessed: String((job.bytesPerTable ?? []).reduce((a, b) => a + b, 0)),
              query: {
                statementType: statementType(job.sql ?? ''),
                totalBytesProcessed: String((job.bytesPerTable ?? []).reduce((a, b) => a + b, 0)),
                totalBytesBilled: String(billedBytes(job.bytesPerTable ?? [])),
                ...(job.outcome.affectedRows !== undefined ? { numDmlAffectedRows: String(job.outcome.affectedRows) } : {}),
              },
            }
          : {}),
        ...(job.kind === 'load' && done && !error ? { load: { outputRows: String(job.outcome.affectedRows ?? 0) } } : {}),
      },
    };
  };

  const execute = async (job: FakeJob): Promise<QueryOutcome> => {
    const fault = takeFault(jobFaults, job);
    if (fault) return { error: fault.error };
    try {
      if (job.kind === 'load') {
        const load = job.configuration.load!;
        const dest = load.destinationTable;
        if (!tables.has(tableKey(dest.projectId, dest.datasetId, dest.tableId)) && load.createDisposition === 'CREATE_NEVER') {
          return { error: { reason: 'notFound', message: `Not found: Table ${dest.projectId}:${dest.datasetId}.${dest.tableId}` } };
        }
        return options.engine ? await options.engine.load(load) : { affectedRows: 0 };
      }
      const answered = await queryHandler?.(job);
      if (answered) return answered;
      if (!options.engine) return { rows: [] };
      // Billed as the statement starts, before a DML changes what it reads.
      job.bytesPerTable = (await options.engine.bytes?.(job.sql!, job.params)) ?? [];
      return await options.engine.query(job.sql!, job.params);
    } catch (error) {
      return { error: { reason: 'invalidQuery', message: error instanceof Error ? error.message : String(error) } };
    }
  };

  type Reply = [number, unknown];

  const route = async (r: BqRequest): Promise<Reply> => {
    const parts = r.path.replace(/^\/bigquery\/v2\//, '').split('/').map(decodeURIComponent);
    const body = (r.body ?? {}) as Record<string, unknown>;
    // projects/:p/...
    const [, project, collection, id, sub, subId] = parts;
    if (parts[0] !== 'projects' || !project) return [404, googleError(404, 'notFound', `fake BigQuery: no route ${r.method} ${r.path}`)];

    if (collection === 'datasets' && !sub) {
      if (r.method === 'POST' && !id) {
        const ref = (body.datasetReference ?? {}) as { datasetId?: string };
        const key = `${project}.${ref.datasetId}`;
        if (datasets.has(key)) return [409, googleError(409, 'duplicate', `Already Exists: Dataset ${project}:${ref.datasetId}`)];
        const resource = { kind: 'bigquery#dataset', ...body, id: `${project}:${ref.datasetId}`, location: body.location ?? 'US' };
        datasets.set(key, resource);
        return [200, resource];
      }
      if (r.method === 'GET' && id) {
        const found = datasets.get(`${project}.${id}`);
        return found ? [200, found] : [404, googleError(404, 'notFound', `Not found: Dataset ${project}:${id}`)];
      }
    }
    if (collection === 'datasets' && id && sub === 'tables') {
      if (!datasets.has(`${project}.${id}`)) return [404, googleError(404, 'notFound', `Not found: Dataset ${project}:${id}`)];
      if (r.method === 'POST' && !subId) {
        const ref = body.tableReference as { tableId: string };
        const key = tableKey(project, id, ref.tableId);
        if (tables.has(key)) return [409, googleError(409, 'duplicate', `Already Exists: Table ${project}:${id}.${ref.tableId}`)];
        const resource: TableResource = {
          kind: 'bigquery#table',
          ...body,
          tableReference: { projectId: project, datasetId: id, tableId: ref.tableId },
          id: `${project}:${id}.${ref.tableId}`,
          creationTime: String(Date.now() + tables.size),
        } as TableResource;
        await options.engine?.createTable(resource);
        tables.set(key, resource);
        return [200, resource];
      }
      const key = tableKey(project, id, subId ?? '');
      const found = tables.get(key);
      if (!found) return [404, googleError(404, 'notFound', `Not found: Table ${project}:${id}.${subId}`)];
      if (r.method === 'GET') {
        const numBytes = await options.engine?.tableBytes?.(found.tableReference.tableId);
        return [200, numBytes === undefined ? found : { ...found, numBytes: String(numBytes) }];
      }
      if (r.method === 'DELETE') {
        await options.engine?.dropTable(found);
        tables.delete(key);
        return [204, ''];
      }
      if (r.method === 'PATCH' || r.method === 'PUT') {
        const fields = ((body.schema as { fields?: FieldSchema[] } | undefined)?.fields ?? []) as FieldSchema[];
        const before = new Set((found.schema?.fields ?? []).map((f) => f.name));
        const added = fields.filter((f) => !before.has(f.name));
        if (fields.length > 0) {
          if (fields.length < before.size) return [400, googleError(400, 'invalid', 'Provided Schema does not match Table: fields cannot be removed')];
          await options.engine?.addColumns(found, added);
          found.schema = { fields };
        }
        return [200, found];
      }
    }
    if (collection === 'jobs' && r.method === 'POST' && !id) {
      const ref = (body.jobReference ?? {}) as { jobId: string; location?: string };
      if (jobs.has(ref.jobId)) {
        return [409, googleError(409, 'duplicate', `Already Exists: Job ${project}:${ref.location ?? 'US'}.${ref.jobId}`)];
      }
      const configuration = body.configuration as FakeJob['configuration'];
      const kind = configuration.load ? 'load' : 'query';
      const job: FakeJob = {
        jobId: ref.jobId,
        projectId: project,
        location: ref.location ?? 'US',
        kind,
        configuration,
        sql: configuration.query?.query,
        params: decodeParameters(configuration.query?.queryParameters ?? []),
        outcome: {},
        pollsLeft: pollsBeforeDone,
      };
      jobs.set(job.jobId, job);
      order.push(job);
      job.outcome = await execute(job);
      return [200, jobResource(job)];
    }
    if (collection === 'jobs' && r.method === 'GET' && id) {
      const job = jobs.get(id);
      if (!job) return [404, googleError(404, 'notFound', `Not found: Job ${project}:${id}`)];
      job.pollsLeft -= 1;
      return [200, jobResource(job)];
    }
    if (collection === 'queries' && r.method === 'GET' && id) {
      const job = jobs.get(id);
      if (!job) return [404, googleError(404, 'notFound', `Not found: Job ${project}:${id}`)];
      if (job.outcome.error) return [400, googleError(400, job.outcome.error.reason, job.outcome.error.message)];
      const rows = job.outcome.rows ?? [];
      const schema = job.outcome.schema ?? inferSchema(rows);
      const start = r.query.pageToken ? Number(r.query.pageToken) : 0;
      const size = r.query.maxResults ? Number(r.query.maxResults) : rows.length || 1;
      const page = rows.slice(start, start + size);
      return [
        200,
        {
          kind: 'bigquery#getQueryResultsResponse',
          jobReference: { projectId: project, jobId: id, location: job.location },
          jobComplete: true,
          schema: { fields: schema },
          totalRows: String(rows.length),
          rows: page.map((row) => ({ f: schema.map((f) => ({ v: encodeValue(row[f.name], f.type) })) })),
          ...(start + size < rows.length ? { pageToken: String(start + size) } : {}),
          ...(job.outcome.affectedRows !== undefined ? { numDmlAffectedRows: String(job.outcome.affectedRows) } : {}),
        },
      ];
    }
    return [404, googleError(404, 'notFound', `fake BigQuery: no route ${r.method} ${r.path}`)];
  };

  // Requests are handled one at a time, as a single BigQuery table would serialise DML: the
  // engine's single connection must not see two statements at once.
  let chain: Promise<unknown> = Promise.resolve();

  const running: RunningServer = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    void readBody(req).then((raw) => {
      const record: BqRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        body: raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined,
        op: operation(req.method ?? 'GET', url.pathname),
      };
      requests.push(record);
      const next = chain.then(async () => {
        const fault = takeFault(requestFaults, record);
        let reply: Reply;
        if (fault) reply = [fault.status, googleError(fault.status, fault.reason, 'injected fault')];
        else {
          try {
            reply = await route(record);
          } catch (error) {
            reply = [500, googleError(500, 'internalError', `fake BigQuery: ${String(error)}`)];
          }
          const lost = takeFault(lostAnswers, record);
          if (lost) reply = [lost.status, googleError(lost.status, lost.reason, 'injected fault after the request was carried out')];
        }
        record.status = reply[0];
        if (reply[0] === 204) {
          res.writeHead(204);
          res.end();
        } else sendJson(res, reply[0], reply[1]);
      });
      chain = next.catch(() => undefined);
    });
  });

  return {
    url: running.url,
    requests,
    jobs,
    tables,
    datasets,
    queryJobs: () => order.filter((j) => j.kind === 'query'),
    loadJobs: () => order.filter((j) => j.kind === 'load'),
    onQuery(handler) {
      queryHandler = handler;
    },
    failJobs(times, match, error) {
      jobFaults.push({ times, match, error });
    },
    failRequests(times, match, status = 503, reason = 'backendError') {
      requestFaults.push({ times, match, status, reason });
    },
    failAfterProcessing(times, match, status = 503, reason = 'backendError') {
      lostAnswers.push({ times, match, status, reason });
    },
    createDataset(projectId, datasetId, location) {
      datasets.set(`${projectId}.${datasetId}`, { kind: 'bigquery#dataset', id: `${projectId}:${datasetId}`, datasetReference: { projectId, datasetId }, location });
    },
    async createTable(projectId, datasetId, tableId, fields) {
      const resource: TableResource = {
        kind: 'bigquery#table',
        tableReference: { projectId, datasetId, tableId },
        schema: { fields },
        creationTime: String(Date.now()),
      };
      await options.engine?.createTable(resource);
      tables.set(tableKey(projectId, datasetId, tableId), resource);
    },
    close: () => running.close(),
  };
}

function operation(method: string, path: string): string {
  const parts = path.replace(/^\/bigquery\/v2\//, '').split('/');
  const collection = parts.length > 4 ? parts[4] : parts[2];
  const hasId = parts.length > 4 ? parts.length > 5 : parts.length > 3;
  const verb = method === 'POST' ? (hasId ? 'post' : 'insert') : method === 'GET' ? (hasId ? 'get' : 'list') : method.toLowerCase();
  return `${collection}.${verb}`;
}

function statementType(sql: string): string {
  const word = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SELECT';
  return word === 'WITH' ? 'SELECT' : word;
}

export function decodeParameters(parameters: unknown[]): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const p of parameters as { name: string; parameterType: ParamTypeDescriptor; parameterValue: unknown }[]) {
    out[p.name] = decodeValue(p.parameterType, p.parameterValue);
  }
  return out;
}

function decodeValue(type: ParamTypeDescriptor, value: unknown): ParamValue {
  const v = (value ?? {}) as { value?: unknown; arrayValues?: unknown[]; structValues?: Record<string, unknown> };
  if (type.type === 'ARRAY') {
    return { type: 'ARRAY', arrayType: type.arrayType, value: (v.arrayValues ?? []).map((item) => decodeValue(type.arrayType!, item)) };
  }
  if (type.type === 'STRUCT') {
    const fields: Record<string, ParamValue> = {};
    for (const field of type.structTypes ?? []) fields[field.name] = decodeValue(field.type, v.structValues?.[field.name]);
    return { type: 'STRUCT', structTypes: type.structTypes, value: fields };
  }
  return { type: type.type, value: v.value === undefined ? null : v.value };
}

function inferSchema(rows: Record<string, unknown>[]): FieldSchema[] {
  const first = rows[0];
  if (!first) return [];
  return Object.entries(first).map(([name, value]) => ({
    name,
    type: typeof value === 'number' ? (Number.isInteger(value) ? 'INTEGER' : 'FLOAT') : typeof value === 'boolean' ? 'BOOLEAN' : typeof value === 'bigint' ? 'INTEGER' : 'STRING',
    mode: 'NULLABLE',
  }));
}

/** Values as the REST API sends them: strings, booleans as "true"/"false", NULL as null. */
function encodeValue(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'TIMESTAMP') {
    if (value instanceof Date) return String(BigInt(value.getTime()) * 1000n);
    return String(value);
  }
  if (type === 'BOOLEAN' || type === 'BOOL') return value ? 'true' : 'false';
  return String(value);
}
