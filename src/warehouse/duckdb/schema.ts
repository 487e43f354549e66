import type { SqlSession } from '../driver.js';
import { SCHEMA_MIGRATIONS_TABLE, WAREHOUSE_TABLES } from '../table-schemas.js';
import type { TableSpec } from '../table-schemas.js';
import { DUCKDB_TYPES } from './dialect.js';

/** The tables as DuckDB holds them; loaded tables carry `loaded_at`. Names come from the static specs. */
function columnsOf(table: TableSpec): { name: string; type: string; required: boolean }[] {
  const columns = table.columns.map((c) => ({ name: c.name, type: DUCKDB_TYPES[c.type], required: Boolean(c.required) }));
  return table.loadedAt ? [...columns, { name: 'loaded_at', type: 'TIMESTAMP', required: false }] : columns;
}

function createTableSql(table: TableSpec): string {
  const columns = columnsOf(table).map((c) => `"${c.name}" ${c.type}${c.required ? ' NOT NULL' : ''}`);
  if (table.primaryKey) columns.push(`PRIMARY KEY (${table.primaryKey.map((k) => `"${k}"`).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS "${table.name}" (${columns.join(', ')})`;
}

/**
 * Creates what is missing: tables, then columns added to the specs since the file was created
 * (nullable, as an upgrade must be). Existing columns are never changed.
 */
export async function ensureTables(session: SqlSession): Promise<void> {
  const tables = [SCHEMA_MIGRATIONS_TABLE, ...WAREHOUSE_TABLES];
  const existing = await session.query<{ table_name: string; column_name: string }>(
    'read schema',
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'",
  );
  const have = new Set(existing.map((r) => `${r.table_name}.${r.column_name}`));
  const haveTable = new Set(existing.map((r) => r.table_name));
  for (const table of tables) {
    if (!haveTable.has(table.name)) {
      await session.execute(`create table ${table.name}`, createTableSql(table));
      continue;
    }
    for (const column of columnsOf(table)) {
      if (have.has(`${table.name}.${column.name}`)) continue;
      await session.execute(`add column ${table.name}.${column.name}`, `ALTER TABLE "${table.name}" ADD COLUMN "${column.name}" ${column.type}`);
    }
  }
}

/** The DDL of every table, for documentation and the schema test. */
export function tableDdl(): string[] {
  return [SCHEMA_MIGRATIONS_TABLE, ...WAREHOUSE_TABLES].map(createTableSql);
}
