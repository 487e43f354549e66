/**
 * `npm test` starts with scripts/test-prerequisites.sh, so that README's test command passes on a
 * fresh Debian machine by itself. These tests run the real script with a PATH of stand-ins (id,
 * sudo, apt-get, shellcheck), to prove each branch: nothing to do, installing as root, installing
 * through passwordless sudo, and stopping at once with the command when neither is possible.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { withTempDir } from '../../testkit/temp-dir.js';

const SCRIPT = resolve('scripts/test-prerequisites.sh');

interface Machine {
  uid: number;
  sudo?: 'passwordless' | 'asks-password';
  shellcheck?: boolean;
  chromium?: boolean;
  aptGet?: boolean;
}

function run(machine: Machine) {
  return withTempDir(async (dir) => runIn(dir, machine));
}

function runIn(dir: string, machine: Machine) {
  const bin = join(dir, 'bin');
  const calls = join(dir, 'calls.log');
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  mkdirSync(bin);
  symlinkSync('/usr/bin/env', join(bin, 'env'));
  tool('id', `echo ${machine.uid}`);
  if (machine.shellcheck) tool('shellcheck', 'exit 0');
  if (machine.aptGet !== false) tool('apt-get', `echo "apt-get $*" >> ${calls}`);
  if (machine.sudo === 'passwordless') tool('sudo', `[[ "$1" == -n ]] && shift; [[ "$*" == true ]] && exit 0; echo "sudo:" >> ${calls}; "$@"`);
  if (machine.sudo === 'asks-password') tool('sudo', 'echo "[sudo] password:" >&2; exit 1');
  const chromium = join(dir, 'chromium');
  if (machine.chromium) tool('../chromium', 'exit 0');
  const result = spawnSync('/bin/bash', [SCRIPT], {
    encoding: 'utf8',
    env: { PATH: bin, TEST_PREREQ_CHROMIUM: chromium },
  });
  return { status: result.status, stderr: result.stderr, calls: existsSync(calls) ? readFileSync(calls, 'utf8') : '' };
}

describe('scripts/test-prerequisites.sh (the first step of npm test)', () => {
  it('does nothing and says nothing when shellcheck and chromium are there', async () => {
    const result = await run({ uid: 1000, shellcheck: true, chromium: true });
    expect(result).toEqual({ status: 0, stderr: '', calls: '' });
  });

  it('as root, installs exactly the missing packages with apt-get', async () => {
    const result = await run({ uid: 0, shellcheck: true, chromium: false });
    expect(result.status).toBe(0);
    expect(result.calls).toBe('apt-get update -qq\napt-get install -y -qq --no-install-recommends chromium\n');
  });

  it('without root, installs through sudo when sudo needs no password', async () => {
    const result = await run({ uid: 1000, sudo: 'passwordless' });
    expect(result.status).toBe(0);
    expect(result.calls).toContain('apt-get install -y -qq --no-install-recommends shellcheck chromium');
    expect(result.calls.startsWith('sudo:\n')).toBe(true);
  });

  it('without root and with a sudo that asks for a password, stops at once (exit 1) with the one command to run, installing nothing', async () => {
    const result = await run({ uid: 1000, sudo: 'asks-password', chromium: true });
    expect(result.status).toBe(1);
    expect(result.calls).toBe('');
    expect(result.stderr).toContain("Run:  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends shellcheck'");
  });

  it('on a machine without apt-get, names the packages and stops (exit 1)', async () => {
    const result = await run({ uid: 0, aptGet: false });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('needs the Debian packages shellcheck chromium, and this machine has no apt-get');
  });
});
