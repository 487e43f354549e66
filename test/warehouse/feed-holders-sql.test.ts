import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { bigQueryDialect } from '../../src/warehouse/bigquery/dialect.js';
import { SCHEMA_MIGRATIONS_DEFINITION, TABLE_DEFINITIONS } from '../../src/warehouse/bigquery/schema.js';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { markHoldersActivityDueSql } from '../../src/warehouse/sql/feed-sql.js';
import { startZetaSqlServer } from '../../testkit/zetasql-analyzer.js';
import type { ColumnType } from '../../testkit/zetasql-analyzer.js';

/**
 * After a feed walk, the markets just resolved queue the activity of their holders (their redemptions): the wallets
 * with fills in them, and the wallets holding a combo with one of them as a leg (a combo's fills carry its own
 * condition id, so only its rows' `legs` name the legs), or a combo no row of theirs names the legs of.
 */
const cond = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const wallet = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const legs = (...ids: string[]) => JSON.stringify(ids.map((id, i) => ({ leg_index: i, leg_position_id: `${i}1`, leg_condition_id: id, leg_status: 'OPEN', market: { market_id: '1' } })));

describe('queueing the activity of the holders of markets just resolved', () => {
  it('marks the wallets with fills in a resolved market, those holding a combo with a resolved leg, and those holding a combo whose legs no row names; no one else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'feed-holders-'));
    const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'wh.duckdb') });
    try {
      await warehouse.migrate();
      const [direct, comboHolder, upperCaseLeg, otherLegs, unfinished, bystander, boughtCombo, boughtKnown, soldOut] = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(wallet);
      for (const w of [direct, comboHolder, upperCaseLeg, otherLegs, unfinished, bystander, boughtCombo, boughtKnown, soldOut]) {
        await warehouse.query('INSERT INTO backfill_checkpoint (wallet_address, completed, upload_successful, activity_due) VALUES ($w, $done, TRUE, FALSE)', { w: w!, done: w !== unfinished });
      }
      // Combo condition ids are not 64 hex digits (62 here, as the simulator's): a combo held by fills alone has no legs known.
      const comboId = (n: number) => `0x${n.toString(16).padStart(62, '0')}`;
      const fill = (id: string, w: string, c: string, side = 'BUY', size = 10) =>
        warehouse.query(`INSERT INTO trades (trade_id, proxy_wallet, condition_id, side, size, timestamp) VALUES ($id, $w, $c, $side, $size, now())`, { id, w, c, side, size });
      await fill('t1', direct!, cond(1));
      await fill('t2', bystander!, cond(9));
      await fill('t3', boughtCombo!, comboId(1));
      await fill('t4', boughtKnown!, comboId(2));
      // Bought and sold out again: it holds nothing its legs could redeem.
      await fill('t5', soldOut!, comboId(3));
      await fill('t6', soldOut!, comboId(3), 'SELL', 10);
      const combo = async (id: string, w: string, legsJson: string) =>
        warehouse.query(`INSERT INTO combo_activity (combo_activity_id, proxy_wallet, type, timestamp, legs) VALUES ($id, $w, 'SPLIT', now(), $legs)`, { id, w, legs: legsJson });
      await combo('0xa-1', comboHolder!, legs(cond(7), cond(1)));
      await combo('0xb-1', upperCaseLeg!, legs(`0x${cond(0xabc).slice(2).toUpperCase()}`, cond(8)));
      await combo('0xc-1', otherLegs!, legs(cond(7), cond(8)));
      await combo('0xd-1', unfinished!, legs(cond(1), cond(0xabc)));
      await warehouse.query(`INSERT INTO combo_activity (combo_activity_id, proxy_wallet, type, timestamp, combo_condition_id, legs) VALUES ('0xe-1', $w, 'SPLIT', now(), $c, $legs)`, {
        w: boughtKnown!,
        c: comboId(2),
        legs: legs(cond(7), cond(8)),
      });

      expect(await warehouse.markHoldersActivityDue([cond(1), cond(0xabc)])).toBe(4);
      const due = await warehouse.query<{ w: string }>('SELECT wallet_address AS w FROM backfill_checkpoint WHERE activity_due ORDER BY w');
      expect(due.map((r) => r.w)).toEqual([direct, comboHolder, upperCaseLeg, boughtCombo]);
    } finally {
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is a statement BigQuery accepts: its combo-leg join resolves in the ZetaSQL analyzer against the real tables', async () => {
    const server = await startZetaSqlServer();
    try {
      const types: Record<string, ColumnType> = { STRING: 'STRING', INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL', TIMESTAMP: 'TIMESTAMP' };
      const analyzer = await server.analyzer(
        [SCHEMA_MIGRATIONS_DEFINITION, ...TABLE_DEFINITIONS].map((def) => ({ name: `p.d.${def.name}`, columns: def.fields.map((f) => ({ name: f.name, type: types[f.type]! })) })),
      );
      const sql = markHoldersActivityDueSql(bigQueryDialect({ projectId: 'p', datasetId: 'd' }));
      expect(sql).toContain('REGEXP_EXTRACT_ALL');
      expect(await analyzer.analyze(sql, { ids: 'ARRAY<STRING>' })).toEqual({ ok: true });
    } finally {
      await server.close();
    }
  });
});
