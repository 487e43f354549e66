import { SCHEMA_MIGRATIONS_TABLE, WAREHOUSE_TABLES } from '../table-schemas.js';
import type { ColumnSpec, LoadedTableSpec, LogicalType, TableSpec } from '../table-schemas.js';
import { SQL_TYPES } from './dialect.js';

/**
 * BigQuery table definitions derived from the shared specs in table-schemas.ts (no column is
 * declared twice).
 *
 * Types: string→STRING, float→FLOAT64, int→INT64, bool→BOOL, timestamp→TIMESTAMP, and
 * json→STRING. JSON values are staged as JSON *text* (`"raw":"{\"x\":1}"`), exactly as DuckDB
 * stores them (VARCHAR); a JSON column would load that text as a JSON string scalar, not as the
 * object, and would make the two warehouses differ. Readers use PARSE_JSON/JSON_VALUE on it.
 * REST table schemas use the legacy type names (FLOAT, INTEGER, BOOLEAN), which the API returns.
 */
export const SCHEMA_TYPES: Readonly<Record<LogicalType, string>> = {
  string: 'STRING',
  float: 'FLOAT',
  int: 'INTEGER',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'STRING',
};

export interface FieldSchema {
  name: string;
  type: string;
  mode: 'REQUIRED' | 'NULLABLE';
}

export interface TableDefinition {
  name: string;
  description: string;
  fields: FieldSchema[];
  timePartitioning?: { type: 'DAY' | 'MONTH'; field: string };
  clustering?: { fields: string[] };
  /** Shared with an existing deployment: missing columns are added instead of failing. */
  shared: boolean;
}

export const fieldsOf = (columns: readonly ColumnSpec[]): FieldSchema[] =>
  columns.map((c) => ({ name: c.name, type: SCHEMA_TYPES[c.type], mode: c.required ? 'REQUIRED' : 'NULLABLE' }));

const LOADED_AT: FieldSchema = { name: 'loaded_at', type: 'TIMESTAMP', mode: 'NULLABLE' };

export function definitionOf(table: TableSpec): TableDefinition {
  return {
    name: table.name,
    description: table.description,
    fields: [...fieldsOf(table.columns), ...(table.loadedAt ? [LOADED_AT] : [])],
    ...(table.monthPartition ? { timePartitioning: { type: 'MONTH' as const, field: table.monthPartition } } : {}),
    ...(table.clusterBy ? { clustering: { fields: [...table.clusterBy] } } : {}),
    shared: Boolean(table.shared),
  };
}

export const SCHEMA_MIGRATIONS_DEFINITION = definitionOf(SCHEMA_MIGRATIONS_TABLE);
export const TABLE_DEFINITIONS: readonly TableDefinition[] = WAREHOUSE_TABLES.map(definitionOf);

/** The per-batch staging table of one kind: the loaded columns only, no partitioning. */
export function stagingFields(spec: LoadedTableSpec): FieldSchema[] {
  return fieldsOf(spec.columns);
}

/**
 * The DDL equivalent of a table definition (the product creates tables through the REST API;
 * this text is what the ZetaSQL test analyses, and what an operator could run by hand).
 */
export function ddlOf(def: TableDefinition, tableName: string): string {
  const sqlType = (field: FieldSchema) => {
    const logical = (Object.keys(SCHEMA_TYPES) as LogicalType[]).find((t) => SCHEMA_TYPES[t] === field.type) ?? 'string';
    return SQL_TYPES[logical];
  };
  const columns = def.fields.map((f) => `\`${f.name}\` ${sqlType(f)}${f.mode === 'REQUIRED' ? ' NOT NULL' : ''}`);
  const partition = def.timePartitioning ? `\nPARTITION BY TIMESTAMP_TRUNC(\`${def.timePartitioning.field}\`, ${def.timePartitioning.type})` : '';
  const cluster = def.clustering ? `\nCLUSTER BY ${def.clustering.fields.map((f) => `\`${f}\``).join(', ')}` : '';
  return `CREATE TABLE IF NOT EXISTS ${tableName} (\n  ${columns.join(',\n  ')}\n)${partition}${cluster}`;
}
