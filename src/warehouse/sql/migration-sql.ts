import type { Dialect } from './dialect.js';

export function appliedMigrationsSql(d: Dialect): string {
  return `SELECT DISTINCT version FROM ${d.table('schema_migrations')} ORDER BY version`;
}

/** MERGE, not INSERT: two runners migrating at once record the version once. Parameters: version, description. */
export function recordMigrationSql(d: Dialect): string {
  return `MERGE INTO ${d.table('schema_migrations')} AS t
USING (SELECT ${d.param('version')} AS version, ${d.param('description')} AS description) AS s
ON t.version = s.version
WHEN NOT MATCHED THEN INSERT (version, description, applied_at) VALUES (s.version, s.description, ${d.now()})`;
}
