import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ZetaSQLClient } from '@fivetrandevelopers/zetasql/lib/ZetaSQLClient.js';
import { ErrorMessageMode } from '@fivetrandevelopers/zetasql/lib/types/zetasql/ErrorMessageMode.js';
import { LanguageFeature } from '@fivetrandevelopers/zetasql/lib/types/zetasql/LanguageFeature.js';
import { ProductMode } from '@fivetrandevelopers/zetasql/lib/types/zetasql/ProductMode.js';
import { ResolvedNodeKind } from '@fivetrandevelopers/zetasql/lib/types/zetasql/ResolvedNodeKind.js';
import { TypeKind } from '@fivetrandevelopers/zetasql/lib/types/zetasql/TypeKind.js';
import type { AnalyzerOptionsProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/AnalyzerOptionsProto.js';
import type { LanguageOptionsProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/LanguageOptionsProto.js';
import type { SimpleCatalogProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/SimpleCatalogProto.js';
import type { SimpleTableProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/SimpleTableProto.js';
import type { TypeProto } from '@fivetrandevelopers/zetasql/lib/types/zetasql/TypeProto.js';
import type { ZetaSqlLocalServiceClient } from '@fivetrandevelopers/zetasql/lib/types/zetasql/local_service/ZetaSqlLocalService.js';

/**
 * Google's ZetaSQL analyzer (the front end BigQuery's GoogleSQL is built on) run offline, so tests
 * can check that our BigQuery statements resolve — names, types, functions, parameters — without a
 * GCP project. The analyzer is a native gRPC server shipped by the dev dependency
 * @fivetrandevelopers/zetasql; one server answers a whole test file (start-up is the slow part).
 *
 * What it cannot check: anything needing data or BigQuery's service (quotas, DML concurrency,
 * partition pruning), and statements that depend on earlier statements of a script (each call is
 * analysed alone against the registered catalog, so a CREATE TEMP TABLE is not visible afterwards).
 */

/** A column type of our tables, as BigQuery spells it. */
export type ColumnType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'JSON' | 'DATE' | 'BYTES';

/**
 * A GoogleSQL type in BigQuery's notation, e.g. `STRING`, `ARRAY<STRING>`,
 * `ARRAY<STRUCT<wallet_address STRING, trade_count INT64>>`; see parseZetaType.
 */
export type ZetaType = string;

export interface TableDescription {
  /** `trades`, `my_dataset.trades` or `my-project.my_dataset.trades`. */
  name: string;
  columns: { name: string; type: ColumnType }[];
}

export type AnalyzeResult = { ok: true } | { ok: false; error: string };

export interface StatementToAnalyze {
  sql: string;
  params?: Record<string, ZetaType>;
}

export interface BigQueryAnalyzer {
  /** Resolves one statement; `{ ok: false }` carries the analyzer's message, e.g. `Unrecognized name: x [at 1:8]`. */
  analyze(sql: string, params?: Record<string, ZetaType>): Promise<AnalyzeResult>;
  /** Resolves each statement in turn (one at a time: the machine's cores are shared). */
  analyzeAll(statements: Record<string, StatementToAnalyze>): Promise<Record<string, AnalyzeResult>>;
}

export interface ZetaSqlServer {
  readonly binary: string;
  readonly port: number;
  /** The server process, so a test can check it is gone after close(). */
  readonly pid: number;
  /** Spawn to first answered gRPC call. */
  readonly startupMs: number;
  /** Registers a catalog of these tables on the server; the analyzer resolves names against it. */
  analyzer(tables: TableDescription[]): Promise<BigQueryAnalyzer>;
  /** Stops the server process (idempotent). */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Another executable in place of the packaged analyzer: for tests of the start-up failure path. */
  binary?: string;
  /** Bound on spawn-to-answer, including retries on a port taken meanwhile. */
  startTimeoutMs?: number;
  /** Bound on each gRPC call, so a wedged server fails the test instead of hanging it. */
  callTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Types: BigQuery's type notation to TypeProto.

const SIMPLE_TYPES: Record<string, TypeKind> = {
  STRING: TypeKind.TYPE_STRING,
  INT64: TypeKind.TYPE_INT64,
  FLOAT64: TypeKind.TYPE_DOUBLE,
  BOOL: TypeKind.TYPE_BOOL,
  TIMESTAMP: TypeKind.TYPE_TIMESTAMP,
  JSON: TypeKind.TYPE_JSON,
  DATE: TypeKind.TYPE_DATE,
  BYTES: TypeKind.TYPE_BYTES,
  NUMERIC: TypeKind.TYPE_NUMERIC,
  BIGNUMERIC: TypeKind.TYPE_BIGNUMERIC,
  DATETIME: TypeKind.TYPE_DATETIME,
  TIME: TypeKind.TYPE_TIME,
  GEOGRAPHY: TypeKind.TYPE_GEOGRAPHY,
  INTERVAL: TypeKind.TYPE_INTERVAL,
};

/**
 * Parses `STRING`, `ARRAY<T>`, `STRUCT<name T, …>` (field names optional, as in BigQuery), case
 * insensitive. Only BigQuery's canonical names: an alias such as INTEGER is rejected rather than
 * guessed, so a typo in a test cannot silently declare a different type.
 */
export function parseZetaType(text: string): TypeProto {
  const tokens: { value: string; at: number }[] = [];
  const tokenRe = /\s*([A-Za-z_][A-Za-z0-9_]*|[<>,])/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    tokenRe.lastIndex = pos;
    const m = tokenRe.exec(text);
    if (!m) throw new TypeSyntaxError(text, pos, 'a type name, "<", ">" or ","');
    tokens.push({ value: m[1]!, at: pos + m[0].length - m[1]!.length });
    pos = tokenRe.lastIndex;
  }
  let i = 0;
  const peek = () => tokens[i];
  const expect = (value: string) => {
    const t = tokens[i];
    if (t?.value !== value) throw new TypeSyntaxError(text, t?.at ?? text.length, `"${value}"`);
    i++;
  };
  const parseType = (): TypeProto => {
    const t = tokens[i];
    if (!t || !/^[A-Za-z_]/.test(t.value)) throw new TypeSyntaxError(text, t?.at ?? text.length, 'a type name');
    i++;
    const name = t.value.toUpperCase();
    if (name === 'ARRAY') {
      expect('<');
      const element = parseType();
      expect('>');
      return { typeKind: TypeKind.TYPE_ARRAY, arrayType: { elementType: element } };
    }
    if (name === 'STRUCT') {
      expect('<');
      const field: { fieldName: string; fieldType: TypeProto }[] = [];
      for (;;) {
        // `name TYPE` or a bare `TYPE`: an identifier followed by `,` or `>` is the type itself.
        const first = tokens[i];
        const next = tokens[i + 1];
        if (first && /^[A-Za-z_]/.test(first.value) && next && next.value !== ',' && next.value !== '>' && next.value !== '<') {
          i++;
          field.push({ fieldName: first.value, fieldType: parseType() });
        } else {
          field.push({ fieldName: '', fieldType: parseType() });
        }
        if (peek()?.value === ',') {
          i++;
          continue;
        }
        expect('>');
        return { typeKind: TypeKind.TYPE_STRUCT, structType: { field } };
      }
    }
    const kind = SIMPLE_TYPES[name];
    if (kind === undefined) {
      throw new Error(
        `Unknown type "${t.value}" in "${text}": use one of ${Object.keys(SIMPLE_TYPES).join(', ')}, ARRAY<…> or STRUCT<…>`,
      );
    }
    return { typeKind: kind };
  };
  const type = parseType();
  if (i < tokens.length) throw new TypeSyntaxError(text, tokens[i]!.at, 'the end of the type');
  return type;
}

class TypeSyntaxError extends Error {
  constructor(text: string, at: number, expected: string) {
    const where = at >= text.length ? 'at its end' : `at offset ${at} ("${text.slice(at, at + 12)}")`;
    super(`Cannot parse type "${text}" ${where}: expected ${expected}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Catalog: our tables, reachable under every spelling BigQuery accepts for them.

interface CatalogNode {
  catalogs: Map<string, { name: string; node: CatalogNode }>;
  tables: Map<string, SimpleTableProto>;
}

const newNode = (): CatalogNode => ({ catalogs: new Map(), tables: new Map() });

/**
 * Every way of cutting a dotted name into contiguous groups: a.b.c → [a,b,c], [a.b,c], [a,b.c], [a.b.c].
 * ZetaSQL, unlike BigQuery, treats one backticked `p.d.t` as a single identifier, and `p`.d.t as a
 * path of three; registering each cut (a table under nested catalogs) makes them all resolve as they
 * would on BigQuery.
 */
function cuts(parts: string[]): string[][] {
  if (parts.length <= 1) return [parts];
  const out: string[][] = [];
  for (let k = 1; k <= parts.length; k++) {
    const head = parts.slice(0, k).join('.');
    if (k === parts.length) out.push([head]);
    else for (const rest of cuts(parts.slice(k))) out.push([head, ...rest]);
  }
  return out;
}

export function buildCatalog(tables: TableDescription[], builtinLanguageOptions: LanguageOptionsProto): SimpleCatalogProto {
  const root = newNode();
  for (const table of tables) {
    const parts = table.name.split('.');
    if (parts.some((p) => p === '' || p.includes('`'))) {
      throw new Error(`Table name "${table.name}" is not a dotted path like project.dataset.table (no backticks, no empty parts)`);
    }
    if (table.columns.length === 0) throw new Error(`Table "${table.name}" is described without columns`);
    const seen = new Set<string>();
    const column = table.columns.map((c) => {
      if (seen.has(c.name.toLowerCase())) throw new Error(`Table "${table.name}" describes column "${c.name}" twice`);
      seen.add(c.name.toLowerCase());
      return { name: c.name, type: parseZetaType(c.type) };
    });
    for (const path of cuts(parts)) {
      let node = root;
      for (const segment of path.slice(0, -1)) {
        const key = segment.toLowerCase();
        let child = node.catalogs.get(key);
        if (!child) node.catalogs.set(key, (child = { name: segment, node: newNode() }));
        node = child.node;
      }
      const tableName = path[path.length - 1]!;
      // ZetaSQL looks names up case-insensitively, so two descriptions differing in case collide.
      if (node.tables.has(tableName.toLowerCase())) throw new Error(`Table "${table.name}" is described twice`);
      node.tables.set(tableName.toLowerCase(), { name: tableName, fullName: table.name, column });
    }
  }
  const toProto = (name: string, node: CatalogNode): SimpleCatalogProto => ({
    name,
    table: [...node.tables.values()],
    catalog: [...node.catalogs.values()].map((c) => toProto(c.name, c.node)),
  });
  return { ...toProto('bigquery', root), builtinFunctionOptions: { languageOptions: builtinLanguageOptions } };
}

// ---------------------------------------------------------------------------------------------
// Language options.

/**
 * Features BigQuery has that this ZetaSQL build leaves out of "maximum" (it only counts released,
 * ideally-enabled features). DISALLOW_GROUP_BY_FLOAT is BigQuery's rule that FLOAT64 cannot be
 * grouped by.
 */
const EXTRA_FEATURES = [LanguageFeature.FEATURE_DISALLOW_GROUP_BY_FLOAT, LanguageFeature.FEATURE_INTERVAL_TYPE];

/**
 * The statements a BigQuery job runs. Without this list the analyzer would accept every kind it
 * knows (CREATE INDEX, CREATE DATABASE …); with it, any other kind is rejected.
 */
const STATEMENT_KINDS = [
  ResolvedNodeKind.RESOLVED_QUERY_STMT,
  ResolvedNodeKind.RESOLVED_INSERT_STMT,
  ResolvedNodeKind.RESOLVED_UPDATE_STMT,
  ResolvedNodeKind.RESOLVED_DELETE_STMT,
  ResolvedNodeKind.RESOLVED_MERGE_STMT,
  ResolvedNodeKind.RESOLVED_TRUNCATE_STMT,
  ResolvedNodeKind.RESOLVED_CREATE_TABLE_STMT,
  ResolvedNodeKind.RESOLVED_CREATE_TABLE_AS_SELECT_STMT,
  ResolvedNodeKind.RESOLVED_CREATE_VIEW_STMT,
  ResolvedNodeKind.RESOLVED_CREATE_SCHEMA_STMT,
  ResolvedNodeKind.RESOLVED_ALTER_TABLE_STMT,
  ResolvedNodeKind.RESOLVED_DROP_STMT,
  ResolvedNodeKind.RESOLVED_BEGIN_STMT,
  ResolvedNodeKind.RESOLVED_COMMIT_STMT,
  ResolvedNodeKind.RESOLVED_ROLLBACK_STMT,
  ResolvedNodeKind.RESOLVED_EXPORT_DATA_STMT,
  ResolvedNodeKind.RESOLVED_ASSERT_STMT,
];

function bigQueryLanguageOptions(max: LanguageOptionsProto): LanguageOptionsProto {
  return {
    ...max,
    // EXTERNAL is the mode of Google Cloud products: no INT32/UINT64/FLOAT/PROTO types or functions.
    productMode: ProductMode.PRODUCT_EXTERNAL,
    enabledLanguageFeatures: [...new Set([...(max.enabledLanguageFeatures ?? []), ...EXTRA_FEATURES])],
    supportedStatementKinds: STATEMENT_KINDS,
  };
}

// ---------------------------------------------------------------------------------------------
// Server process.

const PACKAGE = '@fivetrandevelopers/zetasql';

/** The prebuilt binary for this platform, as the package's own runServer() picks it. */
export function analyzerBinary(): string {
  const dir = join(dirname(createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`)), 'lib', 'zetasql');
  const arch = process.arch === 'x64' ? '' : process.arch === 'arm64' ? '_arm' : undefined;
  const os = process.platform === 'linux' ? '.so' : process.platform === 'darwin' ? '' : undefined;
  if (arch === undefined || os === undefined) {
    throw new Error(
      `${PACKAGE} ships the ZetaSQL analyzer only for linux and darwin on x64/arm64, not ${process.platform}/${process.arch}: run these tests on such a machine (or in the project's Docker image)`,
    );
  }
  return join(dir, `remote_server${arch}${os}`);
}

/** Resolves once a TCP connection to the port succeeds, so the gRPC client's first attempt finds a listener. */
async function portAnswers(port: number, until: number, gone: () => boolean): Promise<boolean> {
  while (Date.now() < until && !gone()) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, 'localhost');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => (socket.destroy(), resolve(false)));
    });
    if (open) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    // The server binary and the package's client both use "localhost"; probe the same address.
    probe.listen(0, 'localhost', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

interface GrpcError {
  code?: number;
  details?: string;
  message: string;
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNAVAILABLE = 14;

type Unary<Req, Res> = (request: Req, options: { deadline: number; waitForReady?: boolean }, callback: (error: GrpcError | null, response?: Res) => void) => unknown;

function call<Req, Res>(method: Unary<Req, Res>, request: Req, timeoutMs: number, waitForReady = false): Promise<Res | undefined> {
  return new Promise((resolve, reject) =>
    method(request, { deadline: Date.now() + timeoutMs, waitForReady }, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

/** The binary as a child process: its last output, a promise of its end, and a stop that waits for it. */
interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with how it ended (including "could not be spawned"); never rejects. */
  ended: Promise<string>;
  hasEnded: () => boolean;
  stop: () => Promise<void>;
}

function spawnServer(binary: string, port: number): ServerProcess {
  const child = spawn(binary, ['localhost', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let hasEnded = false;
  const ended = new Promise<string>((resolve) => {
    // A binary that cannot be executed emits 'error' and never 'exit'.
    child.once('error', (e) => resolve(`could not be spawned: ${e.message}`));
    child.once('exit', (code, signal) => resolve(`exited (code ${code}, signal ${signal})`));
  }).finally(() => (hasEnded = true));
  // Vitest ends a worker with process.exit(); without this the server would outlive the test run.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (hasEnded) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await ended;
    clearTimeout(force);
  };
  return { child, output: () => output, ended, hasEnded: () => hasEnded, stop };
}

/**
 * Starts the analyzer on a free loopback port and waits until it answers a gRPC call. Fails (never
 * resolves to a half-working server, never leaves the process behind) with the binary's path, its
 * output and what to do.
 */
export async function startZetaSqlServer(options: StartOptions = {}): Promise<ZetaSqlServer> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const callTimeoutMs = options.callTimeoutMs ?? 15_000;
  const binary = options.binary ?? analyzerBinary();
  const started = performance.now();
  const deadline = Date.now() + startTimeoutMs;
  const failures: string[] = [];

  // A port picked free can be taken before the binary binds it (other agents share the machine);
  // the binary then dies ("Address already in use"), and a fresh port is tried.
  for (let attempt = 1; attempt <= 3 && Date.now() < deadline; attempt++) {
    const port = await freePort();
    const server = spawnServer(binary, port);
    // ZetaSQLClient keeps one static client; keep our own reference so a later init() (another
    // server in the same process) cannot redirect this server's calls. init() loads the protos
    // synchronously (~0.5 s), while the binary starts.
    ZetaSQLClient.init(port);
    const api: ZetaSqlLocalServiceClient = ZetaSQLClient.API;
    const stop = async () => {
      api.close();
      await server.stop();
    };
    // A gRPC call made before the port listens would put the channel into reconnect back-off
    // (about a second); a plain TCP probe first keeps start-up near the binary's own.
    await portAnswers(port, deadline, server.hasEnded);

    const remaining = Math.max(1, deadline - Date.now());
    const probe = call(api.getLanguageOptions.bind(api) as Unary<object, LanguageOptionsProto>, { maximumFeatures: true }, remaining, true);
    const outcome = await Promise.race([
      probe.then(
        (max) => ({ kind: 'up' as const, max }),
        (e: GrpcError) => ({ kind: 'no-answer' as const, why: `gRPC ${e.code ?? '?'}: ${e.details ?? e.message}` }),
      ),
      server.ended.then((why) => ({ kind: 'ended' as const, why })),
    ]);
    if (outcome.kind === 'up' && outcome.max) {
      return makeServer(binary, port, server.child.pid, performance.now() - started, api, bigQueryLanguageOptions(outcome.max), callTimeoutMs, stop);
    }
    await stop();
    const why = outcome.kind === 'up' ? 'answered GetLanguageOptions with nothing' : outcome.why;
    failures.push(`attempt ${attempt} on localhost:${port}: ${why}; output: ${server.output().trim() || '(none)'}`);
    if (!(outcome.kind === 'ended' && server.output().includes('Address already in use'))) break;
  }
  throw new Error(
    `The ZetaSQL analyzer ${binary} did not start and answer within ${startTimeoutMs} ms.\n${failures.join('\n')}\n` +
      `It comes with the dev dependency ${PACKAGE}: run \`npm ci\`, check the file is executable (chmod +x) and its ` +
      `shared libraries load (\`ldd ${binary}\`), and that nothing blocks listening on loopback ports.`,
  );
}

function makeServer(
  binary: string,
  port: number,
  pid: number | undefined,
  startupMs: number,
  api: ZetaSqlLocalServiceClient,
  languageOptions: LanguageOptionsProto,
  callTimeoutMs: number,
  stop: () => Promise<void>,
): ZetaSqlServer {
  let closed = false;
  const analyzeMethod = api.analyze.bind(api) as Unary<object, unknown>;
  return {
    binary,
    port,
    pid: pid ?? -1,
    startupMs,
    async analyzer(tables) {
      const registered = await call(
        api.registerCatalog.bind(api) as Unary<object, { registeredId: unknown }>,
        { simpleCatalog: buildCatalog(tables, languageOptions) },
        callTimeoutMs,
      );
      if (!registered) throw new Error(`The ZetaSQL analyzer on localhost:${port} registered the catalog without returning its id`);
      const analyze = async (sql: string, params: Record<string, ZetaType> = {}): Promise<AnalyzeResult> => {
        if (closed) throw new Error('The ZetaSQL server is closed: analyze() was called after close() (afterAll ran too early?)');
        const analyzerOptions: AnalyzerOptionsProto = {
          languageOptions,
          queryParameters: Object.entries(params).map(([name, type]) => ({ name, type: parseZetaType(type) })),
          errorMessageMode: ErrorMessageMode.ERROR_MESSAGE_ONE_LINE,
          // BigQuery's default time zone: TIMESTAMP_TRUNC(x, MONTH) and friends are UTC unless told otherwise.
          defaultTimezone: 'UTC',
          allowUndeclaredParameters: false,
        };
        try {
          await call(analyzeMethod, { registeredCatalogId: registered.registeredId, options: analyzerOptions, sqlStatement: sql }, callTimeoutMs);
          return { ok: true };
        } catch (e) {
          const error = e as GrpcError;
          // INVALID_ARGUMENT is the analyzer's verdict on the SQL; anything else (server gone,
          // deadline) is a broken harness and must not pass for a rejected statement.
          if (error.code === GRPC_INVALID_ARGUMENT) return { ok: false, error: error.details ?? error.message };
          const hint = error.code === GRPC_UNAVAILABLE ? ' (the server process is gone or not answering)' : '';
          throw new Error(
            `The ZetaSQL analyzer call failed${hint}: gRPC ${error.code ?? '?'}: ${error.details ?? error.message}; statement: ${sql.slice(0, 300)}`,
          );
        }
      };
      return {
        analyze,
        async analyzeAll(statements) {
          const results: Record<string, AnalyzeResult> = {};
          for (const [name, s] of Object.entries(statements)) results[name] = await analyze(s.sql, s.params);
          return results;
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
    },
  };
}
