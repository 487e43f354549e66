/** Small shared pieces of the warehouse's statements: chunking lists, capping text, shard parameters. */
import { ConfigError } from '../lib/errors.js';
import { param } from './sql/dialect.js';
import type { Params } from './sql/dialect.js';

export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The shard parameters of the plan queries (everything when unsharded); a bad shard is refused. */
export function shardParams(shard: { index: number; count: number } = { index: 0, count: 1 }): Params {
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new ConfigError(`invalid shard ${shard.index}/${shard.count}`, { hint: 'The shard index runs from 0 to count-1' });
  }
  return { shard_count: param.int(shard.count), shard_index: param.int(shard.index) };
}
