/**
 * Builds the Polygon logs a set of fills would have left, encoded with the real event ABIs (viem's
 * encodeEventTopics / encodeAbiParameters), for the simulated JSON-RPC endpoint (chain-rpc.ts).
 *
 * Each fill of wallet W (shaped like the simulator's GroundTruthFill) becomes one match in its
 * transaction, as the exchanges emit it:
 * - W the taker: N maker legs `OrderFilled(h_i, M_i, W, …)` at the opposite side, then W's taker summary
 *   `OrderFilled(h, W, <exchange>, …)` at the fill's total, then OrdersMatched;
 * - W a maker: the legs of the other makers and W's own `OrderFilled(h, W, T, …)`, then the taker's
 *   summary `OrderFilled(h, T, <exchange>, …)`, then OrdersMatched.
 * So the chain holds W's own row (topic 2 = W) beside logs of counterparties that W's filter must
 * leave out. Counterparties, order hashes, the role (40% taker) and the number of makers (1 to 3) are
 * derived from the transaction hash: the same fills give the same logs.
 *
 * The exchange follows the fill's time: before the first exchange's deployment nothing (the AMM era,
 * FPMM trades, no OrderFilled); then v1 (NegRisk v1 for neg-risk markets once it exists); from the V2
 * cutover V2; fills of combo markets (62-hex condition ids) go to the combo exchange, whose log layout
 * is not public, so the audit must count them undecodable. Eras are placed on the Polygon clock (about
 * 2 s a block); blocks on the clock given, so a test can squeeze years into few blocks.
 */
import { encodeAbiParameters, encodeEventTopics, keccak256, toHex } from 'viem';
import type { AbiEvent, Hex } from 'viem';
import { CTF_EXCHANGE_V1_START_BLOCK } from '../chain/chain-facts.js';
import {
  EXCHANGES,
  ORDERS_MATCHED_V1,
  ORDERS_MATCHED_V2,
  ORDER_FILLED_V1,
  ORDER_FILLED_V2,
} from '../chain/exchanges.js';
import type { Exchange } from '../chain/exchanges.js';
import type { HeldTrade } from '../chain/fill-match.js';
import type { RpcLog } from '../chain/order-filled.js';
import { tradeId } from '../polymarket/trade-key.js';

/** A fill as the simulator's ground truth has it (GroundTruthFill), plus what the chain needs to know. */
export interface SimLikeFill {
  proxy_wallet: string;
  transaction_hash: string;
  /** Decimal token id. */
  asset: string;
  side: string;
  size: number;
  price: number;
  /** Epoch seconds. */
  timestamp: number;
  /** 0x + 62 hex marks a combo market. */
  condition_id?: string;
  /** Default: derived from the transaction hash (40% taker). */
  role?: 'maker' | 'taker';
  /** Neg-risk markets trade on the NegRisk exchanges. Default false. */
  negRisk?: boolean;
}

/** Block numbers against epoch seconds. */
export interface ChainClock {
  /** The block a fill at `seconds` lands in. */
  blockOf(seconds: number): number;
  /** The block's time: at most the time of every fill in it. */
  secondsOf(block: number): number;
}

/** `secondsPerBlock` a block, `anchor.block` at `anchor.seconds`. */
export function linearClock(anchor: { block: number; seconds: number }, secondsPerBlock: number): ChainClock {
  if (!(Number.isInteger(secondsPerBlock) && secondsPerBlock >= 1)) throw new RangeError(`secondsPerBlock must be a whole number >= 1, got ${secondsPerBlock}`);
  return {
    blockOf: (seconds) => anchor.block + Math.floor((seconds - anchor.seconds) / secondsPerBlock),
    secondsOf: (block) => anchor.seconds + (block - anchor.block) * secondsPerBlock,
  };
}

/** Polygon, roughly: CTFExchangeV2's deployment block on 2026-03-31, 2 s a block. */
export const POLYGON_CLOCK = linearClock({ block: 84_902_353, seconds: Date.UTC(2026, 2, 31) / 1000 }, 2);

/** 2026-04-28 11:00 UTC: trading moved to the V2 exchanges. */
export const V2_CUTOVER_SECONDS = Date.UTC(2026, 3, 28, 11) / 1000;
/** The first exchange's deployment on the Polygon clock: fills before it are AMM trades, not OrderFilled. */
export const CLOB_START_SECONDS = POLYGON_CLOCK.secondsOf(CTF_EXCHANGE_V1_START_BLOCK);

const exchangeNamed = (name: string): Exchange => {
  const exchange = EXCHANGES.find((candidate) => candidate.name === name);
  if (!exchange) throw new Error(`no exchange named ${name}`);
  return exchange;
};
const CTF_V1 = exchangeNamed('CTF Exchange v1');
const NEG_RISK_V1 = exchangeNamed('NegRisk CTF Exchange v1');
const CTF_V2 = exchangeNamed('CTFExchangeV2');
const NEG_RISK_V2 = exchangeNamed('NegRiskCtfExchangeV2');
const COMBO = exchangeNamed('Combo exchange (ExchangeV3)');
const NEG_RISK_V1_START_SECONDS = POLYGON_CLOCK.secondsOf(NEG_RISK_V1.startBlock ?? 0);

/** Where a fill is on the chain, if anywhere. */
export type Placement = 'order-filled' | 'combo' | 'amm-era';

export function isComboFill(fill: Pick<SimLikeFill, 'condition_id'>): boolean {
  return /^0x[0-9a-f]{62}$/i.test(fill.condition_id ?? '');
}

/** The exchange a fill trades on, or undefined in the AMM era. */
export function exchangeOf(fill: SimLikeFill): Exchange | undefined {
  if (isComboFill(fill)) return COMBO;
  if (fill.timestamp < CLOB_START_SECONDS) return undefined;
  if (fill.timestamp < V2_CUTOVER_SECONDS) return fill.negRisk && fill.timestamp >= NEG_RISK_V1_START_SECONDS ? NEG_RISK_V1 : CTF_V1;
  return fill.negRisk ? NEG_RISK_V2 : CTF_V2;
}

/** Deterministic 32 bytes from a label (hashes, order hashes and addresses of the simulated chain). */
export function derived(label: string): Hex {
  return keccak256(toHex(label));
}

function derivedAddress(label: string): Hex {
  return `0x${derived(label).slice(-40)}` as Hex;
}

/** The fill's role: as given, else 40% taker by its transaction hash. */
export function roleOf(fill: SimLikeFill): 'maker' | 'taker' {
  if (fill.role) return fill.role;
  return Number.parseInt(derived(`role:${fill.transaction_hash}`).slice(-2), 16) % 5 < 2 ? 'taker' : 'maker';
}

/** On-chain amounts of a fill: shares to the 6-decimal unit, USDC = price × shares rounded to the unit. */
export function rawAmounts(size: number, price: number): { sharesRaw: bigint; usdcRaw: bigint } {
  const shares = Math.round(size * 1_000_000);
  return { sharesRaw: BigInt(shares), usdcRaw: BigInt(Math.round(price * shares)) };
}

interface Leg {
  orderHash: Hex;
  maker: Hex;
  taker: Hex;
  side: 'BUY' | 'SELL';
  tokenId: bigint;
  sharesRaw: bigint;
  usdcRaw: bigint;
  feeRaw: bigint;
}

/** A log before its block position is known. */
interface PendingLog {
  address: string;
  topics: Hex[];
  data: Hex;
}

const nonIndexed = (event: AbiEvent) => event.inputs.filter((input) => !input.indexed);

function orderFilled(exchange: Exchange, leg: Leg): PendingLog {
  const event = exchange.version === 'v1' ? ORDER_FILLED_V1 : ORDER_FILLED_V2;
  const topics = encodeEventTopics({ abi: [event], eventName: 'OrderFilled', args: { orderHash: leg.orderHash, maker: leg.maker, taker: leg.taker } }) as Hex[];
  const makerAmount = leg.side === 'BUY' ? leg.usdcRaw : leg.sharesRaw;
  const takerAmount = leg.side === 'BUY' ? leg.sharesRaw : leg.usdcRaw;
  const data =
    exchange.version === 'v1'
      ? encodeAbiParameters(nonIndexed(ORDER_FILLED_V1), [
          leg.side === 'BUY' ? 0n : leg.tokenId,
          leg.side === 'BUY' ? leg.tokenId : 0n,
          makerAmount,
          takerAmount,
          leg.feeRaw,
        ])
      : encodeAbiParameters(nonIndexed(ORDER_FILLED_V2), [
          leg.side === 'BUY' ? 0 : 1,
          leg.tokenId,
          makerAmount,
          takerAmount,
          leg.feeRaw,
          `0x${'0'.repeat(64)}`,
          `0x${'0'.repeat(64)}`,
        ]);
  return { address: exchange.address, topics, data };
}

function ordersMatched(exchange: Exchange, summary: Leg): PendingLog {
  const event = exchange.version === 'v1' ? ORDERS_MATCHED_V1 : ORDERS_MATCHED_V2;
  const topics = encodeEventTopics({ abi: [event], eventName: 'OrdersMatched', args: { takerOrderHash: summary.orderHash, takerOrderMaker: summary.maker } }) as Hex[];
  const makerAmount = summary.side === 'BUY' ? summary.usdcRaw : summary.sharesRaw;
  const takerAmount = summary.side === 'BUY' ? summary.sharesRaw : summary.usdcRaw;
  const data =
    exchange.version === 'v1'
      ? encodeAbiParameters(nonIndexed(ORDERS_MATCHED_V1), [summary.side === 'BUY' ? 0n : summary.tokenId, summary.side === 'BUY' ? summary.tokenId : 0n, makerAmount, takerAmount])
      : encodeAbiParameters(nonIndexed(ORDERS_MATCHED_V2), [summary.side === 'BUY' ? 0 : 1, summary.tokenId, makerAmount, takerAmount]);
  return { address: exchange.address, topics, data };
}

const opposite = (side: 'BUY' | 'SELL'): 'BUY' | 'SELL' => (side === 'BUY' ? 'SELL' : 'BUY');

/** Splits `total` into `parts` positive amounts (fewer when total is smaller), the remainder on the first. */
function split(total: bigint, parts: number): bigint[] {
  const n = BigInt(Math.max(1, Math.min(parts, Number(total > 0n ? total : 1n))));
  const base = total / n;
  return Array.from({ length: Number(n) }, (_, i) => (i === 0 ? base + (total - base * n) : base));
}

export interface ChainLogBuilderOptions {
  /** Where blocks fall; default POLYGON_CLOCK. */
  clock?: ChainClock;
}

/** Accumulates transactions, then lays them out in blocks with transaction and log indices. */
export class ChainLogBuilder {
  readonly clock: ChainClock;
  /** Transaction hash → its block and logs, in emission order. */
  readonly #txs = new Map<string, { block: number; seconds: number; logs: PendingLog[] }>();
  #sequence = 0;

  constructor(options: ChainLogBuilderOptions = {}) {
    this.clock = options.clock ?? POLYGON_CLOCK;
  }

  #tx(hash: string, seconds: number): PendingLog[] {
    const key = hash.toLowerCase();
    let tx = this.#txs.get(key);
    if (!tx) {
      tx = { block: this.clock.blockOf(seconds), seconds, logs: [] };
      this.#txs.set(key, tx);
    }
    return tx.logs;
  }

  /** Adds each fill's match to its transaction; returns where each went. */
  addFills(fills: Iterable<SimLikeFill>): Placement[] {
    const placements: Placement[] = [];
    for (const fill of fills) placements.push(this.addFill(fill));
    return placements;
  }

  addFill(fill: SimLikeFill): Placement {
    const exchange = exchangeOf(fill);
    if (!exchange) return 'amm-era';
    const logs = this.#tx(fill.transaction_hash, fill.timestamp);
    const n = (this.#sequence += 1);
    const label = `${fill.transaction_hash}:${n}`;
    const wallet = fill.proxy_wallet.toLowerCase() as Hex;
    if (exchange.version === 'combo') {
      logs.push(comboLog(wallet, label));
      return 'combo';
    }
    const side = fill.side.toUpperCase() === 'SELL' ? 'SELL' : 'BUY';
    const { sharesRaw, usdcRaw } = rawAmounts(fill.size, fill.price);
    const tokenId = BigInt(fill.asset);
    const makers = 1 + (Number.parseInt(derived(`makers:${label}`).slice(-2), 16) % 3);
    const price = fill.price;
    const legsAt = (legSide: 'BUY' | 'SELL', taker: Hex, makerOf: (i: number) => Hex, shares: bigint[]): Leg[] =>
      shares.map((legShares, i) => ({
        orderHash: derived(`order:${label}:${i}`),
        maker: makerOf(i),
        taker,
        side: legSide,
        tokenId,
        sharesRaw: legShares,
        usdcRaw: BigInt(Math.round(price * Number(legShares))),
        feeRaw: 0n,
      }));
    const exchangeAddress = exchange.address as Hex;
    if (roleOf(fill) === 'taker') {
      const legs = legsAt(opposite(side), wallet, (i) => derivedAddress(`maker:${label}:${i}`), split(sharesRaw, makers));
      const summary: Leg = { orderHash: derived(`order:${label}:taker`), maker: wallet, taker: exchangeAddress, side, tokenId, sharesRaw, usdcRaw, feeRaw: 0n };
      for (const leg of legs) logs.push(orderFilled(exchange, leg));
      logs.push(orderFilled(exchange, summary), ordersMatched(exchange, summary));
    } else {
      const taker = derivedAddress(`taker:${label}`);
      // W's leg last among the makers; the others trade the same amount beside it.
      const legs = legsAt(side, taker, (i) => (i === makers - 1 ? wallet : derivedAddress(`maker:${label}:${i}`)), Array.from({ length: makers }, () => sharesRaw));
      const total = legs.reduce((sum, leg) => ({ shares: sum.shares + leg.sharesRaw, usdc: sum.usdc + leg.usdcRaw }), { shares: 0n, usdc: 0n });
      const summary: Leg = { orderHash: derived(`order:${label}:taker`), maker: taker, taker: exchangeAddress, side: opposite(side), tokenId, sharesRaw: total.shares, usdcRaw: total.usdc, feeRaw: 0n };
      for (const leg of legs) logs.push(orderFilled(exchange, leg));
      logs.push(orderFilled(exchange, summary), ordersMatched(exchange, summary));
    }
    return 'order-filled';
  }

  /** Plants a combo-exchange log of `wallet` (a fill the audit cannot decode) in a new transaction at `seconds`; returns its hash. */
  addComboLog(wallet: string, seconds: number): string {
    const hash = derived(`combo-tx:${wallet}:${(this.#sequence += 1)}`);
    this.#tx(hash, seconds).push(comboLog(wallet.toLowerCase() as Hex, hash));
    return hash;
  }

  /** Every log, by block, transaction and log index. */
  logs(): RpcLog[] {
    const txs = [...this.#txs].sort(([hashA, a], [hashB, b]) => a.block - b.block || (hashA < hashB ? -1 : hashA > hashB ? 1 : 0));
    const out: RpcLog[] = [];
    let block = Number.NaN;
    let txIndex = 0;
    let logIndex = 0;
    for (const [hash, tx] of txs) {
      if (tx.block !== block) {
        block = tx.block;
        txIndex = 0;
        logIndex = 0;
      }
      const blockHash = derived(`block:${block}`);
      for (const log of tx.logs) {
        out.push({
          address: log.address,
          topics: log.topics,
          data: log.data,
          blockNumber: toHex(block),
          transactionHash: hash,
          transactionIndex: toHex(txIndex),
          blockHash,
          blockTimestamp: toHex(this.clock.secondsOf(block)),
          logIndex: toHex(logIndex),
          removed: false,
        });
        logIndex += 1;
      }
      txIndex += 1;
    }
    return out;
  }
}

/**
 * A combo-exchange log naming `wallet` as topic 2 under the V2 OrderFilled topic0, so the audit's filter
 * finds it; its data is in a layout of its own (three words), which the decoder must not try to read.
 */
function comboLog(wallet: Hex, label: string): PendingLog {
  const topics = encodeEventTopics({ abi: [ORDER_FILLED_V2], eventName: 'OrderFilled', args: { orderHash: derived(`combo:${label}`), maker: wallet, taker: COMBO.address as Hex } }) as Hex[];
  const data = encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }, { type: 'bytes32' }], [1n, 2n, derived(`combo-legs:${label}`)]);
  return { address: COMBO.address, topics, data };
}

/** The held rows of fills, as the trades table has them (fill_seq numbering identical rows of a transaction). */
export function heldRowsOf(fills: Iterable<SimLikeFill>): HeldTrade[] {
  const seen = new Map<string, number>();
  const rows: HeldTrade[] = [];
  for (const fill of fills) {
    const identity = JSON.stringify([fill.proxy_wallet, fill.transaction_hash, fill.asset, fill.side, fill.price, fill.size]);
    const seq = seen.get(identity) ?? 0;
    seen.set(identity, seq + 1);
    rows.push({
      trade_id: tradeId({ ...fill, fill_seq: seq }),
      proxy_wallet: fill.proxy_wallet.toLowerCase(),
      transaction_hash: fill.transaction_hash.toLowerCase(),
      asset: fill.asset,
      side: fill.side,
      size: fill.size,
      price: fill.price,
      timestamp: new Date(fill.timestamp * 1000).toISOString(),
    });
  }
  return rows;
}

/** What `plantDifferences` did, fill by fill. */
export interface PlantedDifferences {
  /** The fills whose logs the chain has. */
  chain: SimLikeFill[];
  /** The fills the warehouse holds. */
  held: SimLikeFill[];
  /** On the chain, at least 0.01 shares, not held. */
  missingFromApi: SimLikeFill[];
  /** Held, not on the chain. */
  heldNotOnChain: SimLikeFill[];
  /** On the chain, under 0.01 shares, not held (new fills in new transactions). */
  underMinimum: SimLikeFill[];
}

/** A deterministic order of fills, by a hash of their position and `seed`. */
function shuffled<T>(items: readonly T[], seed: string): T[] {
  return items
    .map((item, i) => ({ item, key: derived(`${seed}:${i}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ item }) => item);
}

/**
 * Takes a wallet's fills (all on chain and held) and plants differences: `missingFromApi` fills
 * dropped from the held side, `heldNotOnChain` dropped from the chain side, `underMinimum` new
 * sub-0.01-share fills on the chain side only. Only fills that reach the chain as OrderFilled, have
 * at least 0.01 shares and share no transaction with a combo fill are picked, and never one of a set
 * of twins (identical fills of one transaction), so each planted difference is one the audit can name.
 */
export function plantDifferences(
  fills: readonly SimLikeFill[],
  plan: { missingFromApi?: number; heldNotOnChain?: number; underMinimum?: number; seed?: string },
): PlantedDifferences {
  const seed = plan.seed ?? 'plant';
  const identity = (fill: SimLikeFill): string => JSON.stringify([fill.transaction_hash, fill.asset, fill.side, fill.price, fill.size]);
  const copies = new Map<string, number>();
  for (const fill of fills) copies.set(identity(fill), (copies.get(identity(fill)) ?? 0) + 1);
  // A held row beside a combo log of its transaction is unverifiable, not "not on chain": keep away from those.
  const comboTxs = new Set(fills.filter(isComboFill).map((fill) => fill.transaction_hash));
  const eligible = shuffled(
    fills.filter(
      (fill) => exchangeOf(fill) !== undefined && !comboTxs.has(fill.transaction_hash) && fill.size >= 0.01 && copies.get(identity(fill)) === 1,
    ),
    seed,
  );
  const wanted = (plan.missingFromApi ?? 0) + (plan.heldNotOnChain ?? 0);
  if (eligible.length < wanted) throw new RangeError(`only ${eligible.length} fills can carry a planted difference; ${wanted} asked for`);
  const missingFromApi = eligible.slice(0, plan.missingFromApi ?? 0);
  const heldNotOnChain = eligible.slice(missingFromApi.length, wanted);
  const anchors = eligible.length > 0 ? eligible : fills;
  const underMinimum = Array.from({ length: plan.underMinimum ?? 0 }, (_, i): SimLikeFill => {
    const anchor = anchors[i % Math.max(1, anchors.length)];
    if (!anchor) throw new RangeError('no fill to place a sub-0.01 fill beside');
    return {
      ...anchor,
      transaction_hash: derived(`dust:${seed}:${i}`),
      // 0.009, 0.005, 0.001, …: the top of the range included, where a wrong threshold would show.
      size: (9 - ((i * 4) % 9)) / 1000,
      price: anchor.price,
    };
  });
  const dropHeld = new Set(missingFromApi);
  const dropChain = new Set(heldNotOnChain);
  return {
    chain: [...fills.filter((fill) => !dropChain.has(fill)), ...underMinimum],
    held: fills.filter((fill) => !dropHeld.has(fill)),
    missingFromApi,
    heldNotOnChain,
    underMinimum,
  };
}
