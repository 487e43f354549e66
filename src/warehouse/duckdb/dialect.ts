import type { Dialect } from '../sql/dialect.js';
import type { LogicalType } from '../table-schemas.js';

/** DuckDB column type for each logical type. Timestamps are naive and always UTC (the driver sets TimeZone). */
export const DUCKDB_TYPES: Readonly<Record<LogicalType, string>> = {
  string: 'VARCHAR',
  float: 'DOUBLE',
  int: 'BIGINT',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'VARCHAR',
};

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`invalid identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

function literal(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(value)) throw new Error(`constant ${JSON.stringify(value)} must be spelled with chr()`);
  return `'${value.replace(/'/g, "''")}'`;
}

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  table: identifier,
  id: identifier,
  param: (name) => `$${name}`,
  inList: (expr, param) => `${expr} IN (SELECT unnest($${param}))`,
  list: (param, column) => `(SELECT unnest($${param}) AS ${column})`,
  rows: (param) => `(SELECT unnest($${param}, recursive := true))`,
  jsonStrings: (expr, column) => `(SELECT unnest(json_extract_string(${expr}, '$[*]')) AS ${column})`,
  matches: (expr, pattern) => `regexp_full_match(${expr}, ${literal(pattern)})`,
  regexpMatches: (expr, pattern, column) => `unnest(regexp_extract_all(${expr}, ${literal(pattern)}, 1)) AS ${identifier(`${column}_matches`)}(${identifier(column)})`,
  trim: (expr, chars) => `trim(${expr}, ${[...chars].map((c) => `chr(${c.codePointAt(0)})`).join(' || ')})`,
  // hash() is a UBIGINT, so the remainder is never negative.
  shard: (expr, countParam) => `hash(${expr}) % $${countParam}`,
  now: () => `(now() AT TIME ZONE 'UTC')`,
  isoSeconds: (expr) => `strftime(${expr}, '%Y-%m-%dT%H:%M:%SZ')`,
  isoMicros: (expr) => `strftime(${expr}, '%Y-%m-%dT%H:%M:%S.%fZ')`,
  epochSeconds: (expr) => `CAST(epoch(${expr}) AS BIGINT)`,
  monthStart: (expr) => `date_trunc('month', ${expr})`,
  literal,
  insertOnly: 'not-exists',
  types: DUCKDB_TYPES,
};
