import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { CLI } from '../../testkit/cli.js';
import { withTempDir } from '../../testkit/temp-dir.js';

const run = promisify(execFile);

/**
 * Every command starts by loading the CLI's modules, and a scheduled job, the tests and a user's shell start it
 * many times: what only one command needs (viem for `audit`, the simulator for `sim`/`demo`, the Google SDKs for
 * the cloud backends) must be loaded by that command, not by every start. viem alone is ~400 modules, about half a
 * second of each start on this machine.
 */
describe('CLI start', () => {
  /** The module URLs the CLI resolves for `args`, recorded by a resolve hook in the child. */
  function resolvedBy(args: string[]): Promise<string[]> {
    return withTempDir(async (dir) => {
      const hooks = join(dir, 'hooks.mjs');
    const register = join(dir, 'register.mjs');
    await writeFile(hooks, "export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug('resolved ' + r.url); return r; }\n");
    await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const { stderr } = await run(process.execPath, ['--import', pathToFileURL(register).href, CLI, ...args], { cwd: process.cwd() });
    return stderr.split('\n').filter((line) => line.startsWith('resolved ')).map((line) => line.slice('resolved '.length));
    });
  }

  it('loads neither viem, the simulator nor a Google SDK for a command that needs none of them', async () => {
    const urls = await resolvedBy(['run', '--help']);
    // The hook works: the CLI's own modules are seen.
    expect(urls.some((url) => url.endsWith('/dist/cli/main.js'))).toBe(true);
    const needless = urls.filter((url) => /\/node_modules\/(viem|ox|abitype|@google-cloud|google-auth-library)\/|\/dist\/(simulator|chain\/(exchanges|order-filled|audit-wallet))/.test(url));
    expect(needless).toEqual([]);
  });
});
