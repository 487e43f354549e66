import { writeFile } from 'node:fs/promises';

import { Command } from 'commander';

import { parsePositiveInt } from '../../lib/duration.js';

interface SimOptions {
  seed: string;
  wallets: string;
  maxTrades: string;
  whale?: string[];
  port: string;
  host: string;
  latency?: string;
  faults?: string;
  gamma: string;
  groundTruth?: string;
  walletsFile?: string;
  chainDifferences?: string;
  rpcMaxBlockRange?: string;
  rpcMaxResults?: string;
  globalFeed?: string;
  misreport?: string;
}

export function simCommand(): Command {
  return new Command('sim')
    .description(
      'serve a deterministic Polymarket simulator (Data API v2 /v2/trades, /v2/activity, /v2/positions, /v2/user-pnl, /v2/leaderboard; Gamma /markets and /events, legacy and keyset)',
    )
    .option('--seed <n>', 'data seed', '1')
    .option('--wallets <n>', 'number of generated wallets', '100')
    .option('--max-trades <n>', 'cap on trades per generated wallet', '100000')
    .option('--whale <trades...>', 'extra wallets with exactly this many trades')
    .option('--port <n>', 'port (0 = any free port)', '0')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--latency <min-max>', 'added latency per response in ms, e.g. 50-150')
    .option('--faults <spec>', 'fault rates, e.g. 429=0.05,429-no-retry-after=0.02,503=0.02,500=0.01,html=0.01,truncated=0.01,reset=0.01')
    .option(
      '--gamma <listings>',
      'Gamma listings served: keyset (legacy /markets and /events answer 410 Gone), legacy (/markets/keyset and /events/keyset answer 404) or both',
      'both',
    )
    .option('--ground-truth <dir>', 'write the expected fills, markets and events as NDJSON into this directory')
    .option('--wallets-file <file>', 'write the wallet addresses, one per line, for `backfill traders import`')
    .option(
      '--chain-differences <spec>',
      'make the simulated chain (POST /rpc) differ from the API for chosen wallets, per wallet: wallets=N,missing=N (fills the API lacks),dust=N (under 0.01 shares),combo=N (undecodable logs),unchained=N (served, not on chain)',
    )
    .option('--rpc-max-block-range <n>', 'the simulated RPC refuses eth_getLogs over more blocks than this, as providers do (default: no cap)')
    .option('--rpc-max-results <n>', 'the simulated RPC refuses eth_getLogs returning more logs than this (default: no cap)')
    .option('--global-feed <mode>', 'how the global trade feed (/v2/trades without user) misbehaves: documented (default), or taker-only and/or window=DURATION, e.g. taker-only,window=7d')
    .option('--misreport <wallet=usdc>', "/v2/positions and /v2/user-pnl add this much to one wallet's realized profit (to see `backfill verify-pnl` catch it)")
    .action(async (options: SimOptions) => {
      // Loaded here, not with the CLI: the simulator (and viem, for its chain) is only this command's and demo's.
      const { parseChainPlan, parseFaultSpec, parseGammaPaging, parseGlobalFeedMode, parseLatencySpec, parseMisreportSpec, startSimulator, writeGroundTruth } =
        await import('../../simulator/index.js');
      const sim = await startSimulator({
        seed: Number(options.seed),
        wallets: parsePositiveInt(options.wallets, '--wallets'),
        maxTradesPerWallet: parsePositiveInt(options.maxTrades, '--max-trades'),
        whales: (options.whale ?? []).map((w) => parsePositiveInt(w, '--whale')),
        port: Number(options.port),
        host: options.host,
        ...(options.latency ? { latencyMs: parseLatencySpec(options.latency) } : {}),
        ...(options.faults ? { faults: parseFaultSpec(options.faults) } : {}),
        gamma: parseGammaPaging(options.gamma),
        ...(options.globalFeed ? { globalFeed: parseGlobalFeedMode(options.globalFeed) } : {}),
        chain: {
          ...(options.chainDifferences ? { plan: parseChainPlan(options.chainDifferences) } : {}),
          ...(options.rpcMaxBlockRange ? { maxBlockRange: parsePositiveInt(options.rpcMaxBlockRange, '--rpc-max-block-range') } : {}),
          ...(options.rpcMaxResults ? { maxResults: parsePositiveInt(options.rpcMaxResults, '--rpc-max-results') } : {}),
        },
        ...(options.misreport ? { misreport: parseMisreportSpec(options.misreport) } : {}),
      });
      if (options.walletsFile) await writeFile(options.walletsFile, `${sim.dataset.wallets().join('\n')}\n`);
      if (options.groundTruth) {
        const counts = await writeGroundTruth(sim.dataset, options.groundTruth);
        process.stderr.write(`ground truth written to ${options.groundTruth}: ${JSON.stringify(counts)}\n`);
      }
      process.stdout.write(`simulator listening on ${sim.url}\n`);
      process.stdout.write(
        `use: backfill run --data-api-url ${sim.url} --gamma-api-url ${sim.url}\n`,
      );
      process.stdout.write(`simulated Polygon JSON-RPC on ${sim.chain.url} (head ${sim.chain.head()}): backfill audit --rpc ${sim.chain.url}\n`);
      for (const p of sim.chain.planted()) {
        process.stdout.write(
          `chain differs for ${p.wallet}: ${p.missingFromApi.length} fill(s) missing from the API, ${p.underMinimum.length} under 0.01 shares, ` +
            `${p.heldNotOnChain.length} served but not on chain, ${p.comboLogsAt.length} combo log(s)\n`,
        );
      }
      const shutdown = () => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
