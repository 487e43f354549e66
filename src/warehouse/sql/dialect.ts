import type { LogicalType } from '../table-schemas.js';

/**
 * What differs between the backends' SQL, and nothing else: quoting, parameters, a few function
 * spellings. The domain statements (plan, checkpoints, status, MERGE…) are written once in this
 * folder against this interface; each backend folder supplies one implementation.
 *
 * Every value reaches SQL as a typed parameter. The only text interpolated is identifiers from the
 * static table specs, table names checked by the backend, and constants of this code base.
 */
export interface Dialect {
  readonly name: 'duckdb' | 'bigquery';
  /** One of our tables, qualified and quoted as the backend needs (`"trades"`, `` `p.d.trades` ``). */
  table(name: string): string;
  /** A column name, quoted. */
  id(name: string): string;
  /** A named parameter reference. */
  param(name: string): string;
  /** `expr IN (<the string-list parameter>)`. */
  inList(expr: string, param: string): string;
  /** A relation with one row per element of a string-list parameter, in column `column`. */
  list(param: string, column: string): string;
  /** A relation with one row per element of a `rows` parameter (an array of structs), its fields as columns. */
  rows(param: string): string;
  /**
   * A relation with one row per string of the JSON array text `expr` (none when it is NULL), in column `column`; `expr`
   * may name a column of an outer query (a correlated subquery's FROM).
   */
  jsonStrings(expr: string, column: string): string;
  /** True when `expr` matches `pattern` as a whole (RE2 and DuckDB syntax agree on the patterns we use). */
  matches(expr: string, pattern: string): string;
  /**
   * A FROM item, after the one whose columns `expr` reads (a lateral join), with one row per match in `expr` of the
   * constant `pattern`'s one capturing group, the matched text in column `column`.
   */
  regexpMatches(expr: string, pattern: string, column: string): string;
  /** `expr` without leading or trailing characters of the constant set `chars`. */
  trim(expr: string, chars: string): string;
  /** A stable bucket in [0, count) of a string expression, for sharding. */
  shard(expr: string, countParam: string): string;
  /** The statement's current time as a TIMESTAMP. */
  now(): string;
  /** A TIMESTAMP as ISO-8601 UTC text with whole seconds, e.g. `2026-11-30T12:00:00Z`. */
  isoSeconds(expr: string): string;
  /** A TIMESTAMP as ISO-8601 UTC text with microseconds, exact enough to be a pruning constant. */
  isoMicros(expr: string): string;
  /** A TIMESTAMP as whole epoch seconds (INT64). */
  epochSeconds(expr: string): string;
  /** The first instant of the month of a TIMESTAMP. */
  monthStart(expr: string): string;
  /** A constant string literal of this code base (never used for input: that is what parameters are for). */
  literal(value: string): string;
  /**
   * How an insert-only target restricted to a batch's wallets takes new rows: a `MERGE`, or an
   * `INSERT … WHERE NOT EXISTS` over the batch's wallets (DuckDB: its MERGE joins the whole
   * target, while the filtered subquery is pruned by zone maps).
   */
  readonly insertOnly: 'merge' | 'not-exists';
  /** Column type names for the logical types of table-schemas.ts. */
  readonly types: Readonly<Record<LogicalType, string>>;
}

/** A typed parameter: each driver maps these onto its client's typed parameters. */
export type ParamType = LogicalType | 'string[]' | { rows: Readonly<Record<string, LogicalType>> };

export interface Param {
  type: ParamType;
  value: unknown;
}

export type Params = Record<string, Param>;

/** Builders for typed parameters, so call sites read `{ wallets: param.strings(list) }`. */
export const param = {
  string: (value: string | null): Param => ({ type: 'string', value }),
  int: (value: number): Param => ({ type: 'int', value }),
  bool: (value: boolean): Param => ({ type: 'bool', value }),
  /** ISO-8601 UTC. */
  timestamp: (value: string): Param => ({ type: 'timestamp', value }),
  strings: (value: readonly string[]): Param => ({ type: 'string[]', value }),
  rows: (fields: Readonly<Record<string, LogicalType>>, value: readonly Record<string, unknown>[]): Param => ({ type: { rows: fields }, value }),
};
