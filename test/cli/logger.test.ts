import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { buildLogger } from '../../src/cli/logger.js';

/** What one warn line looks like in a format, written to a stream that is not a terminal. */
async function line(format: 'pretty' | 'json', message: string): Promise<string> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
  buildLogger('info', format, stream).warn({}, message);
  await new Promise((resolve) => setImmediate(resolve));
  return out;
}

describe('log lines quoting hostile values', () => {
  // An API error page or a warehouse value quoted in a message: clear the screen, set the title.
  const hostile = 'GET /trades failed: "\u001b[2J\u001b]0;owned\u0007" page \u009b31m';

  it('on a terminal (pretty) escape every control character, so the value cannot drive the terminal', async () => {
    const text = await line('pretty', hostile);
    // eslint-disable-next-line no-control-regex
    expect(text.replace(/\n$/, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(text).toContain('\\u001b[2J');
    expect(text).toContain('\\u009b31m');
  });

  it('in JSON keep the message exact (JSON escapes it)', async () => {
    const entry = JSON.parse(await line('json', hostile)) as { msg: string };
    expect(entry.msg).toBe(hostile);
  });
});
