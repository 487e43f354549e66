import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEPLOY_DIR = resolve('deploy');
const FAKE_CLI = resolve('test/deploy/fake-cloud-cli.sh');

export type Tool = 'gcloud' | 'bq' | 'git';

/** One answer of the fake tools (see fake-cloud-cli.sh); the first matching rule answers. */
export interface Rule {
  tool: Tool;
  /** Every string must occur in the space-joined arguments; a leading ^ anchors it at the start. */
  match: string[];
  stdout?: string;
  stderr?: string;
  exit?: number;
  /** Answer only this many times, then let later rules answer. */
  times?: number;
}

export interface Call {
  tool: Tool;
  argv: string[];
  /** Contents of the files given to --config / --policy-from-file, copied when the call was made. */
  files: Record<string, string>;
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  calls: Call[];
}

/**
 * Runs deploy/<script> with fake gcloud, bq and git first on PATH, answering from `rules`, and
 * returns its exit code, output and every call the fakes received, in order. The environment is
 * minimal (no PROJECT etc. leaks in from the machine) and retries never wait.
 */
export async function runScript(script: string, rules: Rule[], env: Record<string, string> = {}): Promise<ScriptRun> {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-test-'));
  try {
    const fakes = join(dir, 'fakes');
    writeScenario(fakes, rules);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['gcloud', 'bq', 'git'] satisfies Tool[]) symlinkSync(FAKE_CLI, join(bin, tool));
    const child = spawn(join(DEPLOY_DIR, script), [], {
      env: {
        PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
        HOME: dir,
        TMPDIR: dir,
        LC_ALL: 'C',
        PROJECT: 'demo-proj',
        DEPLOY_RETRY_SLEEP: '0',
        FAKE_CLOUD_DIR: fakes,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    return { code, stdout, stderr, calls: readCalls(join(fakes, 'calls')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeScenario(fakes: string, rules: Rule[]): void {
  mkdirSync(join(fakes, 'calls'), { recursive: true });
  const lines = rules.map((rule, i) => {
    const n = i + 1;
    if (rule.stdout !== undefined) writeFileSync(join(fakes, `rule.${n}.stdout`), rule.stdout);
    if (rule.stderr !== undefined) writeFileSync(join(fakes, `rule.${n}.stderr`), rule.stderr);
    if (rule.match.some((m) => ['\t', '\n', '\x1f'].some((c) => m.includes(c)))) throw new Error(`rule ${n}: match strings cannot hold tabs or newlines`);
    return [rule.tool, rule.times ?? '-', rule.exit ?? 0, rule.match.join('\x1f')].join('\t');
  });
  writeFileSync(join(fakes, 'rules.tsv'), lines.map((l) => `${l}\n`).join(''));
}

function readCalls(callsDir: string): Call[] {
  return readdirSync(callsDir)
    .filter((name) => /^\d+$/.test(name))
    .sort()
    .map((name) => {
      const [tool, ...argv] = readFileSync(join(callsDir, name), 'utf8').split('\0').slice(0, -1);
      const files: Record<string, string> = {};
      for (const flag of ['--config', '--policy-from-file']) {
        const copy = join(callsDir, `${name}.${flag.slice(2)}`);
        if (existsSync(copy)) files[flag] = readFileSync(copy, 'utf8');
      }
      return { tool: tool as Tool, argv, files };
    });
}

/** The calls to `tool` whose joined arguments contain every string of `match`. */
export function callsTo(run: ScriptRun, tool: Tool, ...match: string[]): Call[] {
  return run.calls.filter((c) => c.tool === tool && match.every((m) => c.argv.join(' ').includes(m)));
}

/** Index of the first call matching, in the order the fakes received them (-1 when none). */
export function indexOfCall(run: ScriptRun, tool: Tool, ...match: string[]): number {
  return run.calls.findIndex((c) => c.tool === tool && match.every((m) => c.argv.join(' ').includes(m)));
}

/** The value after `flag` in a call's arguments (`--flag value` or `--flag=value`). */
export function flagValue(call: Call, flag: string): string | undefined {
  for (let i = 0; i < call.argv.length; i++) {
    const arg = call.argv[i]!;
    if (arg === flag) return call.argv[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}
