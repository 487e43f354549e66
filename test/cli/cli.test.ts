import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { runCli } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';

describe('the backfill CLI', () => {
  it('prints help for every command and lists the exit codes', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Exit codes');
    for (const command of ['run', 'reload', 'status', 'failed', 'sim', 'demo', 'traders']) {
      const help = await runCli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain('Usage: backfill');
    }
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
});
