import type { Dialect } from './dialect.js';

/**
 * Ids a look-up may be answered from: resolved rows plus ids known to be unresolvable. With
 * `among`, only those of the string-list parameter `ids` (an embedded backend asks per wallet);
 * without, all of them (a remote one reads a snapshot once per run).
 */
export function knownIdsSql(d: Dialect, kind: 'market' | 'event', options: { among?: boolean } = {}): string {
  const [table, column] = kind === 'market' ? ['markets', 'condition_id'] : ['events', 'event_id'];
  const among = (expr: string) => (options.among ? ` AND ${d.inList(expr, 'ids')}` : '');
  return `SELECT ${column} AS id FROM ${d.table(table)} WHERE TRUE${among(column)}
UNION DISTINCT SELECT id FROM ${d.table('unresolved_ids')} WHERE kind = ${d.literal(kind)}${among('id')}`;
}
