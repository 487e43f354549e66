import { randomUUID } from 'node:crypto';

/** Sortable and unique: `20261129T140501-1a2b3c4d`. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
}
