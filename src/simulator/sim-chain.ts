/**
 * The simulator's Polygon: every fill the Data API serves, as the OrderFilled logs the exchanges
 * would have emitted (chain-logs.ts), served at `POST /rpc` (chain-rpc.ts) so `backfill audit` can
 * run against the simulator. With a plan, chosen wallets' chains differ from what the API serves:
 * - missing from the API: fills on the chain the API does not serve (a copy of one of the wallet's
 *   fills in a transaction of its own, as the API would show a dropped row);
 * - under 0.01 shares: dust fills on the chain only (the Data API's default floor);
 * - held but not on chain: fills the API serves with no log;
 * - combo logs: logs of the combo exchange, which the audit counts as undecodable.
 *
 * Blocks come half an hour apart from the first exchange's deployment block, so the four years of
 * the generated history fit in ~70,000 blocks: an audit walks them in a few dozen requests per wallet
 * where mainnet (2 s blocks) needs thousands. The head runs DEFAULT_CONFIRMATIONS blocks past the
 * data clock, so a default audit (head less its confirmations) covers every fill served.
 *
 * A wallet's logs are built when they are first asked for (a wallet of 20,000 fills takes about a
 * second) and laid out on their own: log indices count the wallet's own transactions in a block.
 */
import { CTF_EXCHANGE_V1_START_BLOCK, DEFAULT_CONFIRMATIONS } from '../chain/chain-facts.js';
import type { RpcLog } from '../chain/order-filled.js';
import { CLOB_START_SECONDS, ChainLogBuilder, derived, exchangeOf, linearClock, plantDifferences } from './chain-logs.js';
import type { ChainClock, SimLikeFill } from './chain-logs.js';
import type { ChainLogSource } from './chain-rpc.js';
import type { SimDataset } from './types.js';

/** Half an hour a block from the first exchange's deployment: the simulator's chain clock. */
export const SIM_CHAIN_CLOCK: ChainClock = linearClock({ block: CTF_EXCHANGE_V1_START_BLOCK, seconds: CLOB_START_SECONDS }, 1_800);

/** Per planted wallet, how its chain differs from what the API serves. Counts are per wallet. */
export interface ChainPlan {
  /** Wallets that carry the differences: the first ones (in index order) with fills enough to carry them. Default 1. */
  wallets?: number;
  missingFromApi?: number;
  underMinimum?: number;
  heldNotOnChain?: number;
  /** Combo-exchange logs (undecodable) per wallet. */
  combo?: number;
}

/** What was planted in one wallet's chain; fills named as the API serves them (or would, for chain-only ones). */
export interface PlantedChain {
  wallet: string;
  missingFromApi: SimLikeFill[];
  underMinimum: SimLikeFill[];
  heldNotOnChain: SimLikeFill[];
  /** When the combo logs were placed (epoch seconds), one per log, each in a transaction of its own. */
  comboLogsAt: number[];
}

/** Wallets whose logs are kept built; more are built again when asked. */
const CACHED_WALLETS = 256;

export class SimChain implements ChainLogSource {
  readonly clock = SIM_CHAIN_CLOCK;
  readonly #dataset: SimDataset;
  readonly #plan: Required<ChainPlan>;
  readonly #logs = new Map<string, RpcLog[]>();
  #builtAt = Number.NaN;
  #planted: Map<string, PlantedChain> | undefined;

  constructor(dataset: SimDataset, plan: ChainPlan = {}) {
    this.#dataset = dataset;
    this.#plan = { wallets: 1, missingFromApi: 0, underMinimum: 0, heldNotOnChain: 0, combo: 0, ...plan };
    for (const [name, value] of Object.entries(this.#plan)) {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`chain plan ${name} must be a whole number >= 0, got ${String(value)}`);
    }
  }

  head(): number {
    return this.clock.blockOf(this.#dataset.clockSeconds) + DEFAULT_CONFIRMATIONS;
  }

  allLogs(): undefined {
    return undefined;
  }

  /** The planted wallets and what their chains hold that the API does not (and the reverse). */
  planted(): PlantedChain[] {
    return [...this.#plantedWallets().values()];
  }

  logsWithTopic2(topic: string): readonly RpcLog[] {
    this.#freshen();
    const wallet = /^0x0{24}[0-9a-f]{40}$/.test(topic) ? `0x${topic.slice(26)}` : undefined;
    if (wallet === undefined || this.#dataset.tradeCount(wallet) === 0) return [];
    let logs = this.#logs.get(wallet);
    if (!logs) {
      if (this.#logs.size >= CACHED_WALLETS) this.#logs.clear();
      logs = this.#build(wallet);
      this.#logs.set(wallet, logs);
    }
    return logs;
  }

  /** An `advance` changes fills: what was built or planted before is built again. */
  #freshen(): void {
    if (this.#builtAt === this.#dataset.clockSeconds) return;
    this.#builtAt = this.#dataset.clockSeconds;
    this.#logs.clear();
    this.#planted = undefined;
  }

  #fills(wallet: string): SimLikeFill[] {
    return [...this.#dataset.fills(wallet)].map((fill) => ({
      ...fill,
      negRisk: (this.#dataset.market(fill.condition_id) as { negRisk?: boolean } | undefined)?.negRisk === true,
    }));
  }

  #plantedWallets(): Map<string, PlantedChain> {
    this.#freshen();
    if (this.#planted) return this.#planted;
    const plan = this.#plan;
    const planted = new Map<string, PlantedChain>();
    const wanted = plan.missingFromApi + plan.underMinimum + plan.heldNotOnChain + plan.combo > 0 ? plan.wallets : 0;
    for (const wallet of this.#dataset.wallets()) {
      if (planted.size >= wanted) break;
      const fills = this.#fills(wallet);
      // Combo logs go beside the wallet's newest fill on an exchange (inside any audited range).
      const onExchange = fills.filter((fill) => exchangeOf(fill) !== undefined);
      if (onExchange.length === 0) continue;
      let differences;
      try {
        differences = plantDifferences(fills, { missingFromApi: plan.missingFromApi, heldNotOnChain: plan.heldNotOnChain, underMinimum: plan.underMinimum, seed: `sim-chain:${wallet}` });
      } catch {
        continue; // Too few fills to carry them: the next wallet.
      }
      const newest = Math.max(...onExchange.map((fill) => fill.timestamp));
      planted.set(wallet, {
        wallet,
        // The API keeps serving these; the chain gets a copy of each in a transaction the API does not know.
        missingFromApi: differences.missingFromApi.map((fill, i) => ({ ...fill, transaction_hash: derived(`api-missing:${wallet}:${i}`) })),
        underMinimum: differences.underMinimum,
        heldNotOnChain: differences.heldNotOnChain,
        comboLogsAt: Array.from({ length: plan.combo }, (_, k) => newest - 3_600 * (k + 1)),
      });
    }
    this.#planted = planted;
    return planted;
  }

  #build(wallet: string): RpcLog[] {
    const planted = this.#plantedWallets().get(wallet);
    const builder = new ChainLogBuilder({ clock: this.clock });
    let fills = this.#fills(wallet);
    if (planted) {
      const dropped = new Set(planted.heldNotOnChain.map((fill) => JSON.stringify(fill)));
      fills = [...fills.filter((fill) => !dropped.has(JSON.stringify(fill))), ...planted.missingFromApi, ...planted.underMinimum];
    }
    builder.addFills(fills);
    for (const seconds of planted?.comboLogsAt ?? []) builder.addComboLog(wallet, seconds);
    return builder.logs();
  }
}
