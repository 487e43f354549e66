import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTempDir } from '../../testkit/temp-dir.js';
import { parseZetaType, startZetaSqlServer } from '../../testkit/zetasql-analyzer.js';
import type { BigQueryAnalyzer, TableDescription, ZetaSqlServer } from '../../testkit/zetasql-analyzer.js';

/**
 * Proves the ZetaSQL harness is a real analyzer: BigQuery statements our warehouse relies on are
 * accepted, and each kind of mistake a DuckDB-tested statement could carry into BigQuery is
 * rejected with the analyzer's own message. If the binary cannot start here, every test fails
 * with the reason (start-up errors are rethrown by each test, never skipped).
 */

const TRADES = '`my-project.my_dataset.trades`';
const STAGING = '`my-project.my_dataset.trades_staging`';
const CHECKPOINT = '`my-project.my_dataset.backfill_checkpoint`';

const TABLES: TableDescription[] = [
  {
    name: 'my-project.my_dataset.trades',
    columns: [
      { name: 'trade_id', type: 'STRING' },
      { name: 'proxy_wallet', type: 'STRING' },
      { name: 'timestamp', type: 'TIMESTAMP' },
      { name: 'size', type: 'FLOAT64' },
      { name: 'outcome_index', type: 'INT64' },
      { name: 'raw', type: 'JSON' },
      { name: 'fetched_at', type: 'TIMESTAMP' },
      { name: 'loaded_at', type: 'TIMESTAMP' },
    ],
  },
  {
    name: 'my-project.my_dataset.trades_staging',
    columns: [
      { name: 'trade_id', type: 'STRING' },
      { name: 'proxy_wallet', type: 'STRING' },
      { name: 'timestamp', type: 'TIMESTAMP' },
      { name: 'size', type: 'FLOAT64' },
      { name: 'outcome_index', type: 'INT64' },
      { name: 'raw', type: 'JSON' },
      { name: 'fetched_at', type: 'TIMESTAMP' },
    ],
  },
  {
    name: 'my-project.my_dataset.backfill_checkpoint',
    columns: [
      { name: 'wallet_address', type: 'STRING' },
      { name: 'completed', type: 'BOOL' },
      { name: 'upload_successful', type: 'BOOL' },
      { name: 'trade_count', type: 'INT64' },
      { name: 'processed_at', type: 'TIMESTAMP' },
      { name: 'error', type: 'STRING' },
      { name: 'attempts', type: 'INT64' },
      { name: 'day', type: 'DATE' },
      { name: 'digest', type: 'BYTES' },
    ],
  },
  { name: 'traders', columns: [{ name: 'wallet_address', type: 'STRING' }] },
];

const CHECKPOINT_ROWS = 'ARRAY<STRUCT<wallet_address STRING, trade_count INT64>>';

let server: ZetaSqlServer | undefined;
let analyzer: BigQueryAnalyzer | undefined;
let startError: unknown;

beforeAll(async () => {
  try {
    server = await startZetaSqlServer();
    analyzer = await server.analyzer(TABLES);
    console.info(`ZetaSQL analyzer: server up in ${server.startupMs.toFixed(0)} ms (${server.binary})`);
  } catch (e) {
    // Kept for every test to rethrow: a harness that cannot start must fail the suite, loudly.
    startError = e;
  }
});

afterAll(async () => {
  await server?.close();
});

function zeta(): BigQueryAnalyzer {
  if (!analyzer) throw startError ?? new Error('ZetaSQL analyzer not started: beforeAll did not run');
  return analyzer;
}

const expectAccepted = async (sql: string, params: Record<string, string> = {}) =>
  expect(await zeta().analyze(sql, params), sql).toEqual({ ok: true });

async function expectRejected(sql: string, message: RegExp, params: Record<string, string> = {}) {
  const result = await zeta().analyze(sql, params);
  expect(result.ok, `expected the analyzer to reject: ${sql}`).toBe(false);
  if (!result.ok) expect(result.error).toMatch(message);
}

describe('ZetaSQL harness: start-up and lifetime', () => {
  it('starts the packaged analyzer binary and answers one analyze call (timings logged)', async () => {
    const a = zeta();
    const t = performance.now();
    await expect(a.analyze(`SELECT trade_id FROM ${TRADES}`)).resolves.toEqual({ ok: true });
    const callMs = performance.now() - t;
    console.info(`ZetaSQL analyzer: one analyze call took ${callMs.toFixed(1)} ms`);
    // Generous bounds: the machine's two cores are shared; the point is one server per file is cheap.
    expect(server!.startupMs).toBeLessThan(30_000);
    expect(callMs).toBeLessThan(5_000);
  });

  it('fails start-up within its bound, naming the binary, and kills a binary that never answers', async () => {
    await withTempDir(async (dir) => {
      const pidFile = join(dir, 'pid');
      const fake = join(dir, 'silent-server');
      // Records its pid (exec keeps it) so the test can check the process is gone afterwards.
      await writeFile(fake, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`);
      await chmod(fake, 0o755);
      const error = await startZetaSqlServer({ binary: fake, startTimeoutMs: 1_500 }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toContain(fake);
      expect(error?.message).toMatch(/did not start and answer within 1500 ms/);
      expect(error?.message).toMatch(/npm ci/);
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    });
  });

  it('fails start-up at once with the reason when the binary cannot be executed', async () => {
    const missing = '/nonexistent/remote_server.so';
    const t = performance.now();
    await expect(startZetaSqlServer({ binary: missing, startTimeoutMs: 20_000 })).rejects.toThrow(
      /\/nonexistent\/remote_server\.so did not start[\s\S]*could not be spawned: spawn \/nonexistent\/remote_server\.so ENOENT/,
    );
    expect(performance.now() - t).toBeLessThan(10_000);
  });

  it('close() stops the server process', async () => {
    const own = await startZetaSqlServer();
    expect(() => process.kill(own.pid, 0)).not.toThrow();
    await own.close();
    expect(() => process.kill(own.pid, 0)).toThrow(/ESRCH/);
    await own.close(); // idempotent
  });
});

describe('ZetaSQL harness: parameter type notation', () => {
  it('parses ARRAY<STRUCT<name TYPE, …>> into the nested TypeProto', () => {
    expect(parseZetaType('array<STRUCT<wallet_address STRING, trade_count INT64>>')).toEqual({
      typeKind: 16,
      arrayType: {
        elementType: {
          typeKind: 17,
          structType: {
            field: [
              { fieldName: 'wallet_address', fieldType: { typeKind: 8 } },
              { fieldName: 'trade_count', fieldType: { typeKind: 2 } },
            ],
          },
        },
      },
    });
    expect(parseZetaType('STRUCT<INT64, x ARRAY<TIMESTAMP>>')).toEqual({
      typeKind: 17,
      structType: {
        field: [
          { fieldName: '', fieldType: { typeKind: 2 } },
          { fieldName: 'x', fieldType: { typeKind: 16, arrayType: { elementType: { typeKind: 19 } } } },
        ],
      },
    });
  });

  it('rejects unknown type names and malformed notation with the offending text', () => {
    expect(() => parseZetaType('ARRAY<STRNG>')).toThrow(/Unknown type "STRNG" in "ARRAY<STRNG>"/);
    expect(() => parseZetaType('INTEGER')).toThrow(/Unknown type "INTEGER"/);
    expect(() => parseZetaType('ARRAY<STRING')).toThrow(/Cannot parse type "ARRAY<STRING" at its end: expected ">"/);
    expect(() => parseZetaType('STRING STRING')).toThrow(/at offset 7 \("STRING"\): expected the end of the type/);
    expect(() => parseZetaType('ARRAY<STRING>;')).toThrow(/at offset 13 \(";"\): expected a type name/);
  });
});

describe('ZetaSQL harness: accepts the BigQuery our warehouse writes', () => {
  it('accepts a MERGE with a QUALIFY-deduplicated source, UNNEST(@wallets) pruning and backticked project.dataset.table names', async () => {
    await expectAccepted(
      `MERGE INTO ${TRADES} AS t
USING (
  SELECT * FROM ${STAGING} WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY \`trade_id\` ORDER BY \`fetched_at\` DESC) = 1
) AS s
ON t.\`trade_id\` = s.\`trade_id\` AND t.\`timestamp\` BETWEEN @min_ts AND @max_ts AND t.\`proxy_wallet\` IN UNNEST(@wallets)
WHEN MATCHED THEN UPDATE SET \`size\` = s.\`size\`, \`loaded_at\` = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (\`trade_id\`, \`proxy_wallet\`, \`timestamp\`, \`size\`, \`loaded_at\`)
  VALUES (s.\`trade_id\`, s.\`proxy_wallet\`, s.\`timestamp\`, s.\`size\`, CURRENT_TIMESTAMP())`,
      { min_ts: 'TIMESTAMP', max_ts: 'TIMESTAMP', wallets: 'ARRAY<STRING>' },
    );
  });

  it('accepts a MERGE whose source is UNNEST(@rows) of ARRAY<STRUCT<…>>', async () => {
    await expectAccepted(
      `MERGE INTO ${CHECKPOINT} AS t
USING (SELECT * FROM UNNEST(@rows)) AS s
ON t.wallet_address = s.wallet_address
WHEN MATCHED THEN UPDATE SET trade_count = s.trade_count, attempts = t.attempts + 1, processed_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (wallet_address, completed, upload_successful, trade_count, processed_at, attempts)
  VALUES (s.wallet_address, TRUE, TRUE, s.trade_count, CURRENT_TIMESTAMP(), 1)`,
      { rows: CHECKPOINT_ROWS },
    );
  });

  it('accepts BigQuery functions: REGEXP_CONTAINS, FARM_FINGERPRINT, FORMAT_TIMESTAMP, UNIX_MICROS, TIMESTAMP_TRUNC(…, MONTH), SAFE, JSON, GENERATE_ARRAY', async () => {
    await expectAccepted(
      `SELECT
  REGEXP_CONTAINS(LOWER(TRIM(proxy_wallet, CONCAT(' ', CHR(9), CHR(10), CHR(13)))), r'^0x[0-9a-f]{40}$') AS valid,
  ABS(MOD(FARM_FINGERPRINT(proxy_wallet), @shard_count)) = @shard_index AS in_shard,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', timestamp) AS iso,
  UNIX_MICROS(timestamp) AS us,
  TIMESTAMP_TRUNC(timestamp, MONTH) AS month,
  TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 DAY) AS yesterday,
  SAFE_CAST(trade_id AS INT64) AS n, SAFE.PARSE_TIMESTAMP('%s', trade_id) AS parsed, SAFE_DIVIDE(size, 0) AS ratio,
  JSON_VALUE(raw, '$.side') AS side, LAX_INT64(raw.outcome) AS outcome, TO_JSON_STRING(raw) AS raw_text, PARSE_JSON('{}') AS empty,
  GENERATE_ARRAY(1, 10) AS ten
FROM ${TRADES}`,
      { shard_count: 'INT64', shard_index: 'INT64' },
    );
  });

  it('accepts CREATE TABLE … PARTITION BY TIMESTAMP_TRUNC(ts, MONTH) CLUSTER BY … OPTIONS(…), CREATE TEMP TABLE and DROP TABLE', async () => {
    const results = await zeta().analyzeAll({
      createPartitioned: {
        sql: `CREATE TABLE IF NOT EXISTS \`my-project.my_dataset.trades_v2\` (
  trade_id STRING NOT NULL, proxy_wallet STRING, timestamp TIMESTAMP, raw JSON
) PARTITION BY TIMESTAMP_TRUNC(timestamp, MONTH) CLUSTER BY proxy_wallet, trade_id
OPTIONS (description = 'trades', require_partition_filter = FALSE)`,
      },
      createTemp: { sql: `CREATE TEMP TABLE batch AS SELECT * FROM ${STAGING} WHERE proxy_wallet IN UNNEST(@wallets)`, params: { wallets: 'ARRAY<STRING>' } },
      drop: { sql: 'DROP TABLE IF EXISTS `my-project.my_dataset.trades_staging`' },
    });
    expect(results).toEqual({ createPartitioned: { ok: true }, createTemp: { ok: true }, drop: { ok: true } });
  });

  it('resolves a table under every BigQuery spelling of its path, and a single-part name', async () => {
    const results = await zeta().analyzeAll({
      oneBacktick: { sql: 'SELECT trade_id FROM `my-project.my_dataset.trades`' },
      eachPart: { sql: 'SELECT trade_id FROM `my-project`.`my_dataset`.`trades`' },
      projectOnly: { sql: 'SELECT trade_id FROM `my-project`.my_dataset.trades' },
      unquotedDashes: { sql: 'SELECT trade_id FROM my-project.my_dataset.trades' },
      single: { sql: 'SELECT wallet_address FROM traders' },
    });
    for (const [spelling, result] of Object.entries(results)) expect(result, spelling).toEqual({ ok: true });
  });
});

describe('ZetaSQL harness: negative controls, each rejected with the analyzer message', () => {
  it('rejects an unknown column', async () => {
    await expectRejected(`SELECT trade_idd FROM ${TRADES}`, /^Unrecognized name: trade_idd/);
  });

  it('rejects an unknown table', async () => {
    await expectRejected('SELECT 1 FROM `my-project.my_dataset.tradez`', /^Table not found: `my-project\.my_dataset\.tradez`/);
  });

  it('rejects a table without its project (the job\'s default project is not assumed)', async () => {
    await expectRejected('SELECT 1 FROM my_dataset.trades', /^Table not found: my_dataset\.trades/);
  });

  it('rejects DuckDB-only functions: regexp_full_match, epoch_us, strftime', async () => {
    await expectRejected(`SELECT regexp_full_match(proxy_wallet, '^0x') FROM ${TRADES}`, /^Function not found: regexp_full_match/);
    await expectRejected(`SELECT epoch_us(timestamp) FROM ${TRADES}`, /^Function not found: epoch_us/);
    await expectRejected(`SELECT strftime(timestamp, '%Y') FROM ${TRADES}`, /^Function not found: strftime/);
  });

  it("rejects DuckDB's $param syntax", async () => {
    await expectRejected(`SELECT 1 FROM ${TRADES} WHERE proxy_wallet = $wallet`, /Unexpected macro/);
    await expectRejected(`SELECT 1 FROM ${TRADES} WHERE proxy_wallet = $1`, /Unexpected macro/);
  });

  it('rejects a type error: STRING compared to INT64', async () => {
    await expectRejected(`SELECT 1 FROM ${TRADES} WHERE trade_id = 1`, /No matching signature for operator = for argument types: STRING, INT64/);
  });

  it('rejects an undeclared @param, and a declared one of the wrong type', async () => {
    await expectRejected(`SELECT 1 FROM ${TRADES} WHERE proxy_wallet = @wallet`, /^Query parameter 'wallet' not found/);
    await expectRejected(`SELECT 1 FROM ${TRADES} WHERE proxy_wallet IN UNNEST(@wallets)`, /No matching signature for operator IN UNNEST/, {
      wallets: 'ARRAY<INT64>',
    });
  });

  it('rejects a MERGE that inserts into an unknown column', async () => {
    await expectRejected(
      `MERGE INTO ${CHECKPOINT} AS t USING (SELECT * FROM UNNEST(@rows)) AS s ON t.wallet_address = s.wallet_address
WHEN NOT MATCHED THEN INSERT (wallet_address, trades_count) VALUES (s.wallet_address, s.trade_count)`,
      /^Column trades_count is not present in target table/,
      { rows: CHECKPOINT_ROWS },
    );
  });

  it('rejects a CREATE TABLE partitioned on an unknown column', async () => {
    await expectRejected(
      'CREATE TABLE `my-project.my_dataset.t` (ts TIMESTAMP) PARTITION BY TIMESTAMP_TRUNC(tss, MONTH)',
      /^Unrecognized name: tss/,
    );
  });

  it("enforces BigQuery's rule against GROUP BY a FLOAT64, and rejects statement kinds BigQuery lacks", async () => {
    await expectRejected(`SELECT size, COUNT(*) FROM ${TRADES} GROUP BY size`, /Grouping by expressions of type FLOAT64 is not allowed/);
    await expectRejected(`CREATE INDEX i ON ${TRADES} (trade_id)`, /^Statement not supported: CreateIndexStatement/);
  });

  it('does NOT enforce BigQuery\'s "QUALIFY needs WHERE, GROUP BY or HAVING" rule: keep the WHERE TRUE by review', async () => {
    // ZetaSQL accepts a bare QUALIFY; BigQuery has documented rejecting it. If a future analyzer
    // enforces the rule this test flips, and it can become a negative control.
    await expectAccepted(`SELECT * FROM ${STAGING} QUALIFY ROW_NUMBER() OVER (PARTITION BY trade_id ORDER BY fetched_at DESC) = 1`);
  });
});
