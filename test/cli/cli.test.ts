import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { runCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';

describe('the backfill CLI', () => {
  it('prints help for every command and lists the exit codes', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Exit codes');
    const commands = ['run', 'reload', 'status', 'failed', 'sim', 'demo', 'traders', 'audit'];
    const helps = await Promise.all(commands.map((command) => runCli([command, '--help'])));
    commands.forEach((command, i) => {
      expect(helps[i]!.code, command).toBe(0);
      expect(helps[i]!.stdout, command).toContain('Usage: backfill');
    });
  });

  it('rejects bad configuration with exit 64 and a message naming the value, before doing anything', async () => {
    await withTempDir(async (dir) => {
      const common = ['--warehouse', `${dir}/w.duckdb`, '--stage', `${dir}/stage`];
      const badDuration = await runCli(['run', ...common, '--commit-interval', 'soon']);
      expect(badDuration.code).toBe(64);
      expect(badDuration.stderr).toContain('--commit-interval "soon" is not a duration');
      const badShard = await runCli(['run', ...common, '--shard', '3/2']);
      expect(badShard.code).toBe(64);
      expect(badShard.stderr).toContain('--shard "3/2"');
      const badLimit = await runCli(['run', ...common, '--rate-limit', 'data:trades=lots']);
      expect(badLimit.code).toBe(64);
      expect(badLimit.stderr).toContain('lots');
      const badAddress = await runCli(['traders', 'add', '0x123', ...common]);
      expect(badAddress.code).toBe(64);
      expect(badAddress.stderr).toContain('invalid wallet address "0x123"');
      const unknown = await runCli(['frobnicate']);
      expect(unknown.code).toBe(64);
      // Rejected before the lease is taken or the warehouse is opened: nothing was created.
      expect(existsSync(`${dir}/w.duckdb`)).toBe(false);
      expect(existsSync(`${dir}/stage`)).toBe(false);
    });
  });

  it('refuses a bad audit setting with exit 64 before opening anything, and never echoes the RPC URL\'s key', async () => {
    await withTempDir(async (dir) => {
      const common = ['audit', '--warehouse', `${dir}/w.duckdb`, '--stage', `${dir}/stage`];
      const noRpc = await runCli(common, { BACKFILL_RPC_URL: '' });
      expect(noRpc.code).toBe(64);
      expect(noRpc.stderr).toContain('backfill audit needs a Polygon JSON-RPC endpoint: --rpc URL (or BACKFILL_RPC_URL)');
      const secret = 's3cr3t-api-key';
      const ws = await runCli([...common, '--rpc', `wss://polygon.example/v2/${secret}`]);
      expect(ws.code).toBe(64);
      expect(ws.stderr).toContain('--rpc wss://polygon.example/*** is not an http(s) URL');
      expect(ws.stderr).not.toContain(secret);
      const both = await runCli([...common, '--rpc', 'https://polygon.example', '--sample', '3', '--wallets', `${dir}/w.txt`]);
      expect(both.code).toBe(64);
      expect(both.stderr).toContain('--wallets and --sample both given');
      const badLimit = await runCli([...common, '--rpc', 'https://polygon.example', '--rate-limit', 'rpc=fast']);
      expect(badLimit.code).toBe(64);
      expect(badLimit.stderr).toContain('"rpc=fast"');
      expect(existsSync(`${dir}/w.duckdb`)).toBe(false);
    });
  });
});
