import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CLI = 'dist/cli/main.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  result: Promise<CliResult>;
  /** What the child has written so far (its log lines go to stderr, as JSON lines when not on a terminal). */
  output(): { stdout: string; stderr: string };
}

/** Children still running: killed after each test (test/setup.ts), so a failed or timed-out test leaves no run working. */
const running = new Set<ChildProcess>();

/** SIGKILLs every CLI child still running; returns how many there were. */
export function killStrayChildren(): number {
  const stray = [...running];
  for (const child of stray) child.kill('SIGKILL');
  running.clear();
  return stray.length;
}

/** Starts the built CLI as a real child process (so signals and exit codes are the real ones). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, result, output: () => ({ stdout, stderr }) };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, env).result;
}

/** The arguments that point a `backfill run` at a test directory and a simulator, unthrottled. */
/**
 * Limits far above anything a test reaches, for every endpoint a run calls (`--rate-limit`): the defaults would pace a
 * test's runs at the API's budgets (the resolutions share, 100 per 10 s, alone adds seconds to a run of a few hundred
 * markets), and a test measures behaviour, not throttling.
 */
export const UNTHROTTLED_SPEC = [
  'data:trades',
  'data:activity',
  'data:activity-combos',
  'data:resolutions',
  'gamma:markets',
  'gamma:events',
].map((key) => `${key}=100000/10s`).join(',');

export function runArgs(paths: { warehouse: string; stage: string }, url: string, extra: string[] = []): string[] {
  return [
    'run',
    '--warehouse', paths.warehouse,
    '--stage', paths.stage,
    '--data-api-url', url,
    '--gamma-api-url', url,
    '--rate-limit', UNTHROTTLED_SPEC,
    '--log-level', 'error',
    // Refreshes (`run --refresh`, or `refresh` with these args) go per wallet: the simulator's data clock is not ours,
    // so the feed's window and the wallets' horizons (wall-clock times) would not line up (see feed-refresh.test.ts).
    // A simulator whose `clockSeconds` is placed near ours can be refreshed by the feed: feedRefreshArgs below.
    '--via', 'wallets',
    ...extra,
  ];
}

/** `backfill refresh --via feed` with runArgs' paths and limits; `extra` comes last (a repeated flag's last value wins). */
export function feedRefreshArgs(paths: { warehouse: string; stage: string }, url: string, extra: string[] = []): string[] {
  const args = runArgs(paths, url, ['--via', 'feed', ...extra]);
  args[0] = 'refresh';
  return args;
}

/** The JSON log lines (`--log-format json`, the default off a terminal) of `stderr` whose `event` is `event`. */
export function logEvents(stderr: string, event: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.event === event) found.push(entry);
    } catch {
      // A line cut short by a kill, or not a log line.
    }
  }
  return found;
}

/**
 * Resolves once `predicate` holds, polling every 5 ms; rejects after `timeoutMs` naming `what` it waited for, or at
 * once when `gaveUp` says the wait is pointless (say, the child it watches has exited).
 */
export function waitUntil(predicate: () => boolean, what: string, options: { timeoutMs?: number; gaveUp?: () => string | undefined } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 40_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve();
        return;
      }
      const reason = options.gaveUp?.() ?? (Date.now() - started > timeoutMs ? `${timeoutMs} ms passed` : undefined);
      if (reason !== undefined) {
        clearInterval(timer);
        reject(new Error(`gave up waiting for ${what}: ${reason}`));
      }
    }, 5);
  });
}

/** Resolves once `predicate` holds, polling every 5 ms (bounded by the test timeout). */
export function waitFor(predicate: () => boolean): Promise<void> {
  return waitUntil(predicate, 'a condition', { timeoutMs: Number.POSITIVE_INFINITY });
}
