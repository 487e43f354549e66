import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

import type { FieldSchema, LoadConfig, ParamTypeDescriptor, ParamValue, QueryEngine, QueryOutcome, TableResource } from './fake-bigquery-server.js';

/**
 * Runs the BigQuery warehouse's own SQL on a real engine (DuckDB) behind the fake BigQuery server,
 * so MERGE, plan and checkpoint logic are proven by execution, not by string matching. Only a tiny
 * translation is applied, and only where the dialects differ in spelling:
 * - `` `project.dataset.table` `` → `"table"` (one dataset per fake), `` `col` `` → `"col"`;
 * - `@param` → a typed literal of the decoded REST parameter; `UNNEST(@array)` in FROM/IN →
 *   DuckDB's `(SELECT UNNEST(…))` forms;
 * - `CURRENT_TIMESTAMP()` → `now()`; REGEXP_CONTAINS, FARM_FINGERPRINT, FORMAT_TIMESTAMP and
 *   UNIX_MICROS are macros over DuckDB built-ins.
 * What DuckDB accepts and BigQuery would not (or the reverse) is exactly what stays unverified
 * until a run on a real project; docs/google-cloud.md lists it.
 */
export interface DuckDbEngine extends QueryEngine {
  /** Plain DuckDB SQL against the same tables (bare names), for assertions. */
  sql<T = Record<string, unknown>>(text: string): Promise<T[]>;
  /** Every statement as translated and executed. */
  readonly executed: string[];
  close(): Promise<void>;
}

export async function createDuckDbEngine(readObject: (uri: string) => Buffer | undefined): Promise<DuckDbEngine> {
  const instance = await DuckDBInstance.create(':memory:');
  const c: DuckDBConnection = await instance.connect();
  const scratch = await mkdtemp(join(tmpdir(), 'fake-bq-load-'));
  await c.run("SET TimeZone = 'UTC'");
  for (const macro of [
    'CREATE MACRO regexp_contains(s, p) AS regexp_matches(s, p)',
    // Any deterministic signed 64-bit hash will do: shards only need to be stable within one engine.
    'CREATE MACRO farm_fingerprint(s) AS CAST(hash(s) % 9223372036854775807 AS BIGINT)',
    // BigQuery's %E6S (seconds with six fractional digits) is %S.%f in DuckDB.
    "CREATE MACRO format_timestamp(f, ts) AS strftime(ts, replace(f, '%E6S', '%S.%f'))",
    "CREATE MACRO timestamp_trunc_month(ts) AS date_trunc('month', ts)",
    'CREATE MACRO unix_micros(ts) AS epoch_us(ts)',
  ]) {
    await c.run(macro);
  }
  const executed: string[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };
  let loads = 0;

  const engine: DuckDbEngine = {
    executed,
    createTable: (table: TableResource) =>
      serial(async () => {
        const cols = (table.schema?.fields ?? []).map((f) => `"${f.name}" ${duckType(f.type)}${f.mode === 'REQUIRED' ? ' NOT NULL' : ''}`);
        await c.run(`CREATE TABLE "${table.tableReference.tableId}" (${cols.join(', ')})`);
      }),
    addColumns: (table: TableResource, fields: FieldSchema[]) =>
      serial(async () => {
        for (const f of fields) await c.run(`ALTER TABLE "${table.tableReference.tableId}" ADD COLUMN "${f.name}" ${duckType(f.type)}`);
      }),
    dropTable: (table: TableResource) => serial(async () => c.run(`DROP TABLE IF EXISTS "${table.tableReference.tableId}"`).then(() => undefined)),
    query: (sql: string, params: Record<string, ParamValue>) =>
      serial(async (): Promise<QueryOutcome> => {
        const text = translateBigQuerySql(sql, params);
        executed.push(text);
        if (/^\s*(MERGE|INSERT|UPDATE|DELETE)\b/i.test(text)) {
          const result = await c.run(text);
          return { affectedRows: Number(result.rowsChanged) };
        }
        const reader = await c.runAndReadAll(text);
        const names = reader.columnNames();
        const types = reader.columnTypes();
        const schema = names.map((name, i) => ({ name, type: bigQueryType(String(types[i])), mode: 'NULLABLE' }));
        return { rows: reader.getRowObjectsJS() as Record<string, unknown>[], schema };
      }),
    load: (config: LoadConfig) =>
      serial(async (): Promise<QueryOutcome> => {
        const files: string[] = [];
        for (const uri of config.sourceUris) {
          const data = readObject(uri);
          if (!data) throw new Error(`Not found: URI ${uri}`);
          const path = join(scratch, `${(loads += 1)}.ndjson.gz`);
          await writeFile(path, data);
          files.push(path);
        }
        const table = `"${config.destinationTable.tableId}"`;
        if (config.writeDisposition === 'WRITE_TRUNCATE') await c.run(`DELETE FROM ${table}`);
        const columns = config.schema.fields.map((f) => `"${f.name}": '${duckType(f.type)}'`).join(', ');
        const list = files.map((f) => `'${f}'`).join(', ');
        const result = await c.run(
          `INSERT INTO ${table} BY NAME SELECT * FROM read_json([${list}], format = 'newline_delimited', compression = 'gzip', columns = {${columns}})`,
        );
        return { affectedRows: Number(result.rowsChanged) };
      }),
    sql: <T>(text: string) => serial(async () => (await c.runAndReadAll(text)).getRowObjectsJS() as T[]),
    close: async () => {
      await queue;
      c.closeSync();
      instance.closeSync();
      await rm(scratch, { recursive: true, force: true });
    },
  };
  return engine;
}

const DUCK_TYPES: Record<string, string> = {
  STRING: 'VARCHAR',
  JSON: 'VARCHAR',
  FLOAT: 'DOUBLE',
  FLOAT64: 'DOUBLE',
  INTEGER: 'BIGINT',
  INT64: 'BIGINT',
  BOOLEAN: 'BOOLEAN',
  BOOL: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
};

function duckType(type: string): string {
  const mapped = DUCK_TYPES[type.toUpperCase()];
  if (!mapped) throw new Error(`fake BigQuery: unsupported column type ${type}`);
  return mapped;
}

function bigQueryType(duck: string): string {
  if (duck === 'VARCHAR') return 'STRING';
  if (duck === 'BOOLEAN') return 'BOOLEAN';
  if (duck.startsWith('TIMESTAMP')) return 'TIMESTAMP';
  if (/^(BIGINT|INTEGER|HUGEINT|UBIGINT|SMALLINT|TINYINT|UINTEGER)$/.test(duck)) return 'INTEGER';
  if (/^(DOUBLE|FLOAT|DECIMAL)/.test(duck)) return 'FLOAT';
  return 'STRING';
}

function descriptorType(d: ParamTypeDescriptor): string {
  if (d.type === 'ARRAY') return `${descriptorType(d.arrayType!)}[]`;
  if (d.type === 'STRUCT') return `STRUCT(${(d.structTypes ?? []).map((f) => `"${f.name}" ${descriptorType(f.type)}`).join(', ')})`;
  return duckType(d.type);
}

function literal(p: ParamValue): string {
  if (p.type === 'ARRAY') {
    const items = (p.value as ParamValue[]).map(literal);
    return `CAST([${items.join(', ')}] AS ${descriptorType({ type: 'ARRAY', arrayType: p.arrayType })})`;
  }
  if (p.type === 'STRUCT') {
    const fields = p.value as Record<string, ParamValue>;
    return `struct_pack(${(p.structTypes ?? []).map((f) => `"${f.name}" := ${literal(fields[f.name]!)}`).join(', ')})`;
  }
  const type = duckType(p.type);
  if (p.value === null || p.value === undefined) return `CAST(NULL AS ${type})`;
  if (type === 'BOOLEAN') return String(p.value === true || p.value === 'true');
  if (type === 'BIGINT' || type === 'DOUBLE') {
    const n = Number(p.value);
    if (!Number.isFinite(n)) throw new Error(`bad numeric parameter ${String(p.value)}`);
    return `CAST(${String(p.value)} AS ${type})`;
  }
  return `CAST('${String(p.value).replace(/'/g, "''")}' AS ${type})`;
}

export function translateBigQuerySql(sql: string, params: Record<string, ParamValue>): string {
  const param = (name: string): ParamValue => {
    const p = params[name];
    if (!p) throw new Error(`Query parameter '${name}' not found`);
    return p;
  };
  const isStructArray = (p: ParamValue) => p.type === 'ARRAY' && p.arrayType?.type === 'STRUCT';
  // Parameters in one pass over the original text, so a value containing "@x" is never re-read.
  return sql
    .replace(/`([^`]+)`/g, (_, name: string) => `"${name.split('.').at(-1)}"`)
    .replace(/\bCURRENT_TIMESTAMP\(\)/g, 'CAST(now() AS TIMESTAMP)')
    .replace(
      /\bIN\s+UNNEST\(@(\w+)\)|\bUNNEST\(@(\w+)\)(?:\s+AS\s+(\w+))?|@(\w+)/g,
      (_, inName: string | undefined, unnestName: string | undefined, alias: string | undefined, plain: string | undefined) => {
        if (inName) return `IN (SELECT UNNEST(${literal(param(inName))}))`;
        if (unnestName) {
          const p = param(unnestName);
          const unnest = isStructArray(p)
            ? `(SELECT UNNEST(${literal(p)}, recursive := true))`
            : `(SELECT UNNEST(${literal(p)}) AS ${alias ?? 'value'})`;
          return alias ? `${unnest} AS ${alias}` : unnest;
        }
        return literal(param(plain!));
      },
    );
}
