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
 *   UNIX_MICROS are macros over DuckDB built-ins; `TIMESTAMP_TRUNC(x, MONTH)` → `date_trunc('month', x)`;
 *   `UNNEST(JSON_VALUE_ARRAY(x)) AS a` → `(SELECT unnest(json_extract_string(x, '$[*]')) AS a)`.
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
  const schemas = new Map<string, TableResource>();

  const engine: DuckDbEngine = {
    executed,
    createTable: (table: TableResource) =>
      serial(async () => {
        schemas.set(table.tableReference.tableId, table);
        const cols = (table.schema?.fields ?? []).map((f) => `"${f.name}" ${duckType(f.type)}${f.mode === 'REQUIRED' ? ' NOT NULL' : ''}`);
        await c.run(`CREATE TABLE "${table.tableReference.tableId}" (${cols.join(', ')})`);
      }),
    addColumns: (table: TableResource, fields: FieldSchema[]) =>
      serial(async () => {
        for (const f of fields) await c.run(`ALTER TABLE "${table.tableReference.tableId}" ADD COLUMN "${f.name}" ${duckType(f.type)}`);
      }),
    dropTable: (table: TableResource) =>
      serial(async () => {
        schemas.delete(table.tableReference.tableId);
        await c.run(`DROP TABLE IF EXISTS "${table.tableReference.tableId}"`);
      }),
    tableBytes: (tableId: string) =>
      serial(async () => {
        const plan = bytePlans(`SELECT * FROM \`fake.fake.${tableId}\``, {}, schemas)[0];
        return plan ? Number((await c.runAndReadAll(plan)).getRows()[0]?.[0] ?? 0) : 0;
      }),
    bytes: (sql: string, params: Record<string, ParamValue>) =>
      serial(async () => {
        const out: number[] = [];
        for (const plan of bytePlans(sql, params, schemas)) {
          const reader = await c.runAndReadAll(plan);
          out.push(Number(reader.getRows()[0]?.[0] ?? 0));
        }
        return out;
      }),
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

/**
 * One query per table a statement reads, each summing the bytes BigQuery's on-demand model would
 * count: the referenced columns (STRING 2 + UTF-8 bytes, INT64/FLOAT64/TIMESTAMP 8, BOOL 1, NULL 0)
 * over the rows of the partitions the statement's constant time ranges touch (a month-partitioned
 * table; `timestamp >= @a AND … < @b` pairs or `BETWEEN @a AND @b`). Referenced columns: every
 * column of a `SELECT *` relation or of a MERGE target with UPDATE or DELETE (BigQuery bills the
 * whole target then), the target's `t.` columns of an insert-only MERGE, else the columns named.
 * Clustering is not modelled (an upper bound, as a fresh table's blocks would be).
 */
function bytePlans(sql: string, params: Record<string, ParamValue>, schemas: Map<string, TableResource>): string[] {
  const refs = [...new Set([...sql.matchAll(/`([^`]*\.[^`]*)`/g)].map((m) => m[1]!))];
  const named = new Set([...sql.matchAll(/`([^`.]+)`/g)].map((m) => m[1]!));
  const targetRef = /^\s*MERGE\s+INTO\s+`([^`]+)`/i.exec(sql)?.[1];
  const rewrites = /WHEN\s+MATCHED\b[^]*?\bTHEN\s+(UPDATE|DELETE)\b/i.test(sql);
  const plans: string[] = [];
  for (const ref of refs) {
    const name = ref.split('.').at(-1)!;
    const table = schemas.get(name);
    if (!table) continue;
    const fields = table.schema?.fields ?? [];
    const escaped = ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    let columns: typeof fields;
    if (ref === targetRef) {
      const own = new Set([...sql.matchAll(/\bt\.`([^`]+)`/g)].map((m) => m[1]!));
      columns = rewrites ? fields : fields.filter((f) => own.has(f.name));
    } else if (new RegExp(`SELECT\\s+\\*\\s+FROM\\s+\`${escaped}\``, 'i').test(sql)) {
      columns = fields;
    } else {
      columns = fields.filter((f) => named.has(f.name));
    }
    const size = columns.map((f) => {
      const col = `"${f.name}"`;
      const type = f.type.toUpperCase();
      if (type === 'STRING' || type === 'JSON') return `coalesce(2 + strlen(${col}), 0)`;
      if (type === 'BOOL' || type === 'BOOLEAN') return `CASE WHEN ${col} IS NULL THEN 0 ELSE 1 END`;
      return `CASE WHEN ${col} IS NULL THEN 0 ELSE 8 END`;
    });
    const where: string[] = [];
    const partition = table.timePartitioning?.field;
    if (partition) {
      const col = `\`${partition}\``;
      const ranges: string[] = [];
      for (const m of sql.matchAll(new RegExp(`${col}\\s*>=\\s*@(\\w+)\\s+AND\\s+(?:\\w+\\.)?${col}\\s*<\\s*@(\\w+)`, 'g'))) {
        ranges.push(`(date_trunc('month', "${partition}") >= date_trunc('month', ${literal(params[m[1]!]!)}) AND date_trunc('month', "${partition}") < ${literal(params[m[2]!]!)})`);
      }
      for (const m of sql.matchAll(new RegExp(`${col}\\s+BETWEEN\\s+@(\\w+)\\s+AND\\s+@(\\w+)`, 'g'))) {
        ranges.push(`(date_trunc('month', "${partition}") BETWEEN date_trunc('month', ${literal(params[m[1]!]!)}) AND date_trunc('month', ${literal(params[m[2]!]!)}))`);
      }
      if (ranges.length > 0) where.push(`(${ranges.join(' OR ')})`);
    }
    plans.push(`SELECT coalesce(sum(${size.length > 0 ? size.join(' + ') : '0'}), 0) FROM "${name}"${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`);
  }
  return plans;
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
    .replace(/\bTIMESTAMP_TRUNC\(((?:[^()]|\([^()]*\))*),\s*MONTH\)/g, "date_trunc('month', $1)")
    // A JSON array held as text, unnested in FROM: DuckDB reads its strings with json_extract_string.
    .replace(/\bUNNEST\(JSON_VALUE_ARRAY\(([^()]*)\)\)\s+AS\s+(\w+)/g, (_, expr: string, alias: string) => `(SELECT unnest(json_extract_string(${expr}, '$[*]')) AS ${alias})`)
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
