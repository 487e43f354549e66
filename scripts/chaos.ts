/**
 * `npm run chaos`: the full chaos run (see testkit/chaos.ts for what it does and checks).
 * The suite runs a short version of the same code (test/e2e/chaos-short.test.ts).
 */
import { parseArgs } from 'node:util';

import { formatReport, runChaos } from '../testkit/chaos.js';

const { values } = parseArgs({
  options: {
    wallets: { type: 'string', default: '1500' },
    'max-trades': { type: 'string', default: '3000' },
    kills: { type: 'string', default: '25' },
    terms: { type: 'string', default: '5' },
    seed: { type: 'string', default: '99' },
  },
});
const report = await runChaos({
  wallets: Number(values.wallets),
  maxTrades: Number(values['max-trades']),
  kills: Number(values.kills),
  terms: Number(values.terms),
  seed: Number(values.seed),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${formatReport(report)}\n`);
process.exitCode = report.ok ? 0 : 1;
