/**
 * Polymarket's exchange contracts on Polygon and the OrderFilled events they emit: what a chain audit
 * asks `eth_getLogs` for and how it reads the answer. Facts from ../shared/reference/onchain-audit.md
 * (addresses from docs.polymarket.com/resources/contract-addresses and the exchanges' repositories).
 *
 * Both exchange versions index the order's maker as topic 2 and its taker as topic 3, so one filter
 * over every exchange address finds all of a wallet's own fills, maker and taker:
 * `topics: [[v1, v2], null, pad(wallet)]`.
 */
import { pad, parseAbiItem, toEventSelector } from 'viem';
import type { Hex } from 'viem';

import { CTF_EXCHANGE_V1_START_BLOCK, CTF_EXCHANGE_V2_START_BLOCK } from './chain-facts.js';

/** The OrderFilled layout a contract emits; `combo` is the combo exchange, whose ABI is not public. */
export type ExchangeVersion = 'v1' | 'v2' | 'combo';

export interface Exchange {
  name: string;
  /** Lower-cased. */
  address: string;
  version: ExchangeVersion;
  /**
   * Its deployment block where known. Undefined: not published; the contract is in every filter from the
   * audit's start anyway (an address with no logs costs nothing), so an unknown start block loses nothing.
   */
  startBlock: number | undefined;
  /**
   * Whether its OrderFilled logs are decoded. The combo exchange's are counted as undecodable: a log with
   * a known topic0 there may still carry legs or amounts in a layout nobody has published, and a fill read
   * with the wrong layout would be a guess.
   */
  decodable: boolean;
}


/**
 * The exchanges, in deployment order. "NegRisk V2 B" is decoded with the V2 layout: its logs are matched
 * by the V2 topic0, which is the keccak of the full signature, so the types and their order are those of V2.
 */
export const EXCHANGES: readonly Exchange[] = Object.freeze([
  { name: 'CTF Exchange v1', address: '0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e', version: 'v1', startBlock: CTF_EXCHANGE_V1_START_BLOCK, decodable: true },
  { name: 'NegRisk CTF Exchange v1', address: '0xc5d563a36ae78145c45a50134d48a1215220f80a', version: 'v1', startBlock: 50_505_492, decodable: true },
  { name: 'CTFExchangeV2', address: '0xe111180000d2663c0091e4f400237545b87b996b', version: 'v2', startBlock: CTF_EXCHANGE_V2_START_BLOCK, decodable: true },
  // The notes give "≥ 84.9M" for both NegRisk V2 contracts: not published exactly.
  { name: 'NegRiskCtfExchangeV2', address: '0xe2222d279d744050d28e00520010520000310f59', version: 'v2', startBlock: undefined, decodable: true },
  { name: 'NegRisk V2 B', address: '0xe2222d002000ba0053cef3375333610f64600036', version: 'v2', startBlock: undefined, decodable: true },
  { name: 'Combo exchange (ExchangeV3)', address: '0xe3333700ca9d93003f00f0f71f8515005f6c00aa', version: 'combo', startBlock: undefined, decodable: false },
] satisfies Exchange[]);

const BY_ADDRESS: ReadonlyMap<string, Exchange> = new Map(EXCHANGES.map((exchange) => [exchange.address, exchange]));

/** The exchange at `address` (any case), or undefined. */
export function exchangeAt(address: string): Exchange | undefined {
  return BY_ADDRESS.get(address.toLowerCase());
}

/** Every exchange address, lower-cased: the `address` of the audit's filter. */
export const EXCHANGE_ADDRESSES: readonly string[] = Object.freeze(EXCHANGES.map((exchange) => exchange.address));


/** v1 OrderFilled (Polymarket/ctf-exchange ITrading.sol). */
export const ORDER_FILLED_V1 = parseAbiItem(
  'event OrderFilled(bytes32 indexed orderHash, address indexed maker, address indexed taker, uint256 makerAssetId, uint256 takerAssetId, uint256 makerAmountFilled, uint256 takerAmountFilled, uint256 fee)',
);

/** V2 OrderFilled (Polymarket/ctf-exchange-v2): the side and token id replace the two asset ids. */
export const ORDER_FILLED_V2 = parseAbiItem(
  'event OrderFilled(bytes32 indexed orderHash, address indexed maker, address indexed taker, uint8 side, uint256 tokenId, uint256 makerAmountFilled, uint256 takerAmountFilled, uint256 fee, bytes32 builder, bytes32 metadata)',
);

/** v1 OrdersMatched: one per match, after its OrderFilled logs. Not a fill; the test fake emits it so filters are tested. */
export const ORDERS_MATCHED_V1 = parseAbiItem(
  'event OrdersMatched(bytes32 indexed takerOrderHash, address indexed takerOrderMaker, uint256 makerAssetId, uint256 takerAssetId, uint256 makerAmountFilled, uint256 takerAmountFilled)',
);

/** V2 OrdersMatched. */
export const ORDERS_MATCHED_V2 = parseAbiItem(
  'event OrdersMatched(bytes32 indexed takerOrderHash, address indexed takerOrderMaker, uint8 side, uint256 tokenId, uint256 makerAmountFilled, uint256 takerAmountFilled)',
);

/** topic0 of v1 OrderFilled, computed by viem from the signature (a test holds it to the published value). */
export const ORDER_FILLED_V1_TOPIC: Hex = toEventSelector(ORDER_FILLED_V1);
export const ORDER_FILLED_V2_TOPIC: Hex = toEventSelector(ORDER_FILLED_V2);
export const ORDERS_MATCHED_V1_TOPIC: Hex = toEventSelector(ORDERS_MATCHED_V1);
export const ORDERS_MATCHED_V2_TOPIC: Hex = toEventSelector(ORDERS_MATCHED_V2);

/** An `eth_getLogs` filter without its block range. */
export interface LogFilter {
  address: readonly string[];
  /** Per position: a topic, any of several, or null for any. */
  topics: readonly (string | readonly string[] | null)[];
}

/** The filter of a wallet's own fills: OrderFilled of either version, on any exchange, with the wallet as the order's maker. */
export function walletFillsFilter(wallet: string): LogFilter {
  return {
    address: EXCHANGE_ADDRESSES,
    topics: [[ORDER_FILLED_V1_TOPIC, ORDER_FILLED_V2_TOPIC], null, addressTopic(wallet)],
  };
}

/** An address as an indexed topic: left-padded to 32 bytes, lower-cased. */
export function addressTopic(address: string): Hex {
  return pad(address.toLowerCase() as Hex, { size: 32 });
}
