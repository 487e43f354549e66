/**
 * One OrderFilled log as the fill of the wallet that is its order's maker (topic 2). Decoding is viem's
 * against the published event ABIs; what this module adds is the Polymarket reading of the decoded
 * values (notes: ../shared/reference/onchain-audit.md, "Mapping"):
 * - side: v1 BUY iff makerAssetId is 0 (the maker gives collateral); V2 word 0 (0 BUY, 1 SELL);
 * - token: v1 the asset id that is not 0; V2 word 1;
 * - amounts have 6 decimals; BUY gives USDC and gets shares, SELL the reverse; price = USDC / shares;
 * - role: taker when topic 3 is an exchange address (the taker summary of a match), else maker.
 *
 * A log that cannot be read that way (another event, the combo exchange, an unknown contract, a
 * layout that does not fit) is returned as Undecodable with its reason: counted apart, never guessed.
 */
import { decodeEventLog } from 'viem';
import type { Hex } from 'viem';

import { fromRaw } from './chain-facts.js';
import { ORDER_FILLED_V1, ORDER_FILLED_V1_TOPIC, ORDER_FILLED_V2, ORDER_FILLED_V2_TOPIC, exchangeAt } from './exchanges.js';

/** A log as `eth_getLogs` returns it (quantities hex); extra fields are ignored. */
export interface RpcLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: string;
  transactionIndex?: string;
  blockHash?: string;
  /** Sent by some providers (Erigon, recent geth); epoch seconds, hex. */
  blockTimestamp?: string;
  removed?: boolean;
}

export type FillSide = 'BUY' | 'SELL';
export type FillRole = 'maker' | 'taker';


/** One fill of the wallet in topic 2. */
export interface ChainFill {
  kind: 'fill';
  /** Lower-cased exchange address. */
  exchange: string;
  version: 'v1' | 'v2';
  /** Lower-cased. */
  transactionHash: string;
  logIndex: number;
  blockNumber: number;
  /** Epoch seconds, when the provider sent the block time with the log. */
  blockTimestamp: number | undefined;
  orderHash: string;
  /** The order's maker (topic 2), lower-cased: the wallet whose fill this is, the API row's proxy_wallet. */
  maker: string;
  /** Topic 3, lower-cased: the counterparty's order maker, an exchange (taker summary) or the operator (direct fill). */
  taker: string;
  role: FillRole;
  side: FillSide;
  /** Decimal uint256, as the Data API's asset / token_id. */
  tokenId: string;
  usdcRaw: bigint;
  sharesRaw: bigint;
  /** In the proceeds asset (v1: a BUY pays its fee in shares); not netted out of the amounts. */
  feeRaw: bigint;
  shares: number;
  usdc: number;
  /** USDC per share. */
  price: number;
}

export type UndecodableReason =
  /** topic0 is neither OrderFilled. */
  | 'unknown-event'
  /** The combo exchange, whose ABI is not public. */
  | 'combo-exchange'
  /** A contract not among the known exchanges. */
  | 'unknown-exchange'
  /** The right topic0, but topics, data or values do not fit the layout. */
  | 'malformed';

export interface Undecodable {
  kind: 'undecodable';
  reason: UndecodableReason;
  /** What exactly did not fit, for the operator. */
  detail: string;
  /** Lower-cased. */
  transactionHash: string;
  logIndex: number;
  blockNumber: number;
  /** Lower-cased. */
  address: string;
  topic0: string | undefined;
  /** Topic 2 as an address when it is one (the wallet the log names as maker), else undefined. */
  maker: string | undefined;
}

export type DecodedLog = ChainFill | Undecodable;

const HEX_QUANTITY = /^0x[0-9a-f]+$/i;
const WORD = 64;

function quantity(value: string | undefined): number | undefined {
  if (value === undefined || !HEX_QUANTITY.test(value)) return undefined;
  const n = Number.parseInt(value.slice(2), 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

function topicAddress(topic: string | undefined): string | undefined {
  if (topic === undefined || !/^0x0{24}[0-9a-f]{40}$/i.test(topic)) return undefined;
  return `0x${topic.slice(26).toLowerCase()}`;
}


/** Decodes one log of the audit's filter. Never throws for a log's content; `blockNumber`/`logIndex` that are not hex quantities become -1. */
export function decodeOrderFilled(log: RpcLog): DecodedLog {
  const address = log.address.toLowerCase();
  const topic0 = log.topics[0]?.toLowerCase();
  const transactionHash = log.transactionHash.toLowerCase();
  const logIndex = quantity(log.logIndex) ?? -1;
  const blockNumber = quantity(log.blockNumber) ?? -1;
  const undecodable = (reason: UndecodableReason, detail: string): Undecodable => ({
    kind: 'undecodable',
    reason,
    detail,
    transactionHash,
    logIndex,
    blockNumber,
    address,
    topic0,
    maker: topicAddress(log.topics[2]),
  });

  const exchange = exchangeAt(address);
  if (!exchange) return undecodable('unknown-exchange', `contract ${address} is not a known Polymarket exchange`);
  if (!exchange.decodable) {
    return undecodable('combo-exchange', `${exchange.name} (${address}) emits logs in a layout that is not public; not decoded`);
  }
  const version = topic0 === ORDER_FILLED_V1_TOPIC ? 'v1' : topic0 === ORDER_FILLED_V2_TOPIC ? 'v2' : undefined;
  if (!version) return undecodable('unknown-event', `topic0 ${topic0 ?? '(none)'} is not OrderFilled v1 or V2`);
  if (version !== exchange.version) {
    // The topic0 says which layout the data has; an exchange emitting the other version's event is news.
    return undecodable('malformed', `${exchange.name} is a ${exchange.version} exchange but the log is OrderFilled ${version}`);
  }
  // viem reads past the words it needs; a longer or shorter data field means another layout.
  const words = version === 'v1' ? 5 : 7;
  const dataHex = log.data.startsWith('0x') ? log.data.slice(2) : log.data;
  if (log.topics.length !== 4 || dataHex.length !== words * WORD) {
    return undecodable(
      'malformed',
      `OrderFilled ${version} has 4 topics and ${words} data words; got ${log.topics.length} topics and ${dataHex.length / WORD} words`,
    );
  }
  let args: Record<string, unknown>;
  try {
    const decoded = decodeEventLog({
      abi: version === 'v1' ? [ORDER_FILLED_V1] : [ORDER_FILLED_V2],
      data: log.data as Hex,
      topics: log.topics as [Hex, ...Hex[]],
      strict: true,
    });
    args = decoded.args as Record<string, unknown>;
  } catch (error) {
    return undecodable('malformed', `viem could not decode it: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }

  const makerAmount = args.makerAmountFilled as bigint;
  const takerAmount = args.takerAmountFilled as bigint;
  let side: FillSide;
  let tokenId: bigint;
  if (version === 'v1') {
    const makerAssetId = args.makerAssetId as bigint;
    const takerAssetId = args.takerAssetId as bigint;
    // One side of every order is collateral (asset id 0); both or neither is not an order this exchange fills.
    if ((makerAssetId === 0n) === (takerAssetId === 0n)) {
      return undecodable('malformed', `v1 asset ids ${makerAssetId} and ${takerAssetId}: exactly one must be 0 (collateral)`);
    }
    side = makerAssetId === 0n ? 'BUY' : 'SELL';
    tokenId = side === 'BUY' ? takerAssetId : makerAssetId;
  } else {
    const sideWord = args.side as number;
    if (sideWord !== 0 && sideWord !== 1) return undecodable('malformed', `V2 side ${sideWord} is neither 0 (BUY) nor 1 (SELL)`);
    side = sideWord === 0 ? 'BUY' : 'SELL';
    tokenId = args.tokenId as bigint;
  }
  const usdcRaw = side === 'BUY' ? makerAmount : takerAmount;
  const sharesRaw = side === 'BUY' ? takerAmount : makerAmount;
  if (sharesRaw === 0n) return undecodable('malformed', 'the fill moves 0 shares: no price can be read from it');

  const maker = (args.maker as string).toLowerCase();
  const taker = (args.taker as string).toLowerCase();
  const shares = fromRaw(sharesRaw);
  const usdc = fromRaw(usdcRaw);
  return {
    kind: 'fill',
    exchange: address,
    version,
    transactionHash,
    logIndex,
    blockNumber,
    blockTimestamp: quantity(log.blockTimestamp),
    orderHash: (args.orderHash as string).toLowerCase(),
    maker,
    taker,
    role: exchangeAt(taker) ? 'taker' : 'maker',
    side,
    tokenId: tokenId.toString(),
    usdcRaw,
    sharesRaw,
    feeRaw: args.fee as bigint,
    shares,
    usdc,
    price: Number(usdcRaw) / Number(sharesRaw),
  };
}
