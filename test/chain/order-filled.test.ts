import { encodeAbiParameters, encodeEventTopics } from 'viem';
import type { Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  EXCHANGES,
  EXCHANGE_ADDRESSES,
  ORDERS_MATCHED_V1_TOPIC,
  ORDERS_MATCHED_V2_TOPIC,
  ORDER_FILLED_V1,
  ORDER_FILLED_V1_TOPIC,
  ORDER_FILLED_V2_TOPIC,
  addressTopic,
  walletFillsFilter,
} from '../../src/chain/exchanges.js';
import { decodeOrderFilled } from '../../src/chain/order-filled.js';
import type { ChainFill, RpcLog, Undecodable } from '../../src/chain/order-filled.js';

/**
 * The exchanges' OrderFilled logs read as the reference notes (../shared/reference/onchain-audit.md)
 * say: the two real mainnet logs there decode to exactly the values given with them, and a log that
 * cannot be read that way is returned as undecodable with its reason, never guessed.
 */

// Verbatim from the notes ("Real logs for fixtures").
const REAL_V2: RpcLog = {
  address: '0xe111180000d2663c0091e4f400237545b87b996b',
  topics: [
    '0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee',
    '0xbfbc54d2a0c2b5b92f572efba77f1c1fa61550d04600fc4f0f1ce420efa08da0',
    '0x000000000000000000000000a253d75c2dfb2c6650291d5e8d54076d2fb40181',
    '0x00000000000000000000000092c9ad93ba0e400ffc8d716edf70a588d246bde3',
  ],
  data: '0x0000000000000000000000000000000000000000000000000000000000000001cd997ada6ab1e2cc68c6566e5142cdc885a275d4fa5a1e13b3fdccf22a3f234000000000000000000000000000000000000000000000000000000000003fc82000000000000000000000000000000000000000000000000000000000003bf470000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
  blockNumber: '0x56a1d06',
  transactionHash: '0x21d27b0fde210ccb5e6480e3f479f342743aa1f854199d57cafab2553d9a516e',
  transactionIndex: '0x38',
  blockHash: '0x6fd9b83c01f7d00dec9a7e69fc8427b0b98127e116b02108eeab4cece60ec924',
  blockTimestamp: '0x6a64696e',
  logIndex: '0x215',
  removed: false,
};

const REAL_V1: RpcLog = {
  address: '0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e',
  topics: [
    '0xd0a08e8c493f9c94f29311604c9de1b4e8c8d4c06bd0c789af57f2d65bfec0f6',
    '0xcad66ce0a358cde360f7565f226a7749c1fa08648b57ec3ffd0bf6c0f8a46b8b',
    '0x00000000000000000000000000000003a358014c7c0e227483dbe01619871000',
    '0x000000000000000000000000e55b90febea370d4611a4b0a9ff201183268b24e',
  ],
  data: '0x0000000000000000000000000000000000000000000000000000000000000000fdee4e7856e0a259cea17232d8e548f7309655d49c1eac7fe5813a188c3b4b2c0000000000000000000000000000000000000000000000000000000000716f1000000000000000000000000000000000000000000000000000000000010e14a000000000000000000000000000000000000000000000000000000000001b0210',
  blockNumber: '0x4d93911',
  transactionHash: '0x31d5dca405136cb4ed09bcf817d2b6c2ce1331b18d4b5738eae2e76f7e73e391',
  transactionIndex: '0x64',
  blockHash: '0xc3f40fe4974c608f80d6e9ddca33c61bddc2c6bee0e95f8e6efac8f65a53d26e',
  blockTimestamp: '0x695e9f3d',
  logIndex: '0x54d',
  removed: false,
};

function asFill(log: RpcLog): ChainFill {
  const decoded = decodeOrderFilled(log);
  if (decoded.kind !== 'fill') throw new Error(`expected a fill, got ${decoded.reason}: ${decoded.detail}`);
  return decoded;
}

function asUndecodable(log: RpcLog): Undecodable {
  const decoded = decodeOrderFilled(log);
  if (decoded.kind !== 'undecodable') throw new Error('expected an undecodable log, got a fill');
  return decoded;
}

describe('the exchanges and their events', () => {
  it("viem's topic0 of each OrderFilled and OrdersMatched signature is the value the notes publish", () => {
    expect(ORDER_FILLED_V1_TOPIC).toBe('0xd0a08e8c493f9c94f29311604c9de1b4e8c8d4c06bd0c789af57f2d65bfec0f6');
    expect(ORDER_FILLED_V2_TOPIC).toBe('0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee');
    expect(ORDERS_MATCHED_V2_TOPIC).toBe('0x174b3811690657c217184f89418266767c87e4805d09680c39fc9c031c0cab7c');
    // The notes give v1 OrdersMatched abbreviated: 0x63bf4d16…956c.
    expect(ORDERS_MATCHED_V1_TOPIC.startsWith('0x63bf4d16')).toBe(true);
    expect(ORDERS_MATCHED_V1_TOPIC.endsWith('956c')).toBe(true);
  });

  it("a wallet's filter asks every exchange, the combo exchange included, for either OrderFilled with the wallet as topic 2", () => {
    const wallet = '0xA253d75C2DfB2C6650291D5E8d54076D2fb40181';
    const filter = walletFillsFilter(wallet);
    expect(filter.address).toEqual(EXCHANGES.map((exchange) => exchange.address));
    expect(EXCHANGE_ADDRESSES).toContain('0xe3333700ca9d93003f00f0f71f8515005f6c00aa');
    expect(filter.topics).toEqual([[ORDER_FILLED_V1_TOPIC, ORDER_FILLED_V2_TOPIC], null, REAL_V2.topics[2]]);
    expect(addressTopic(wallet)).toBe(REAL_V2.topics[2]);
    expect(EXCHANGES.filter((exchange) => !exchange.decodable).map((exchange) => exchange.version)).toEqual(['combo']);
  });
});

describe('decodeOrderFilled', () => {
  it('decodes the real V2 log to the notes\' SELL of 4.18 shares for 3.9292 USDC at 0.94, as a maker', () => {
    expect(asFill(REAL_V2)).toEqual({
      kind: 'fill',
      exchange: '0xe111180000d2663c0091e4f400237545b87b996b',
      version: 'v2',
      transactionHash: '0x21d27b0fde210ccb5e6480e3f479f342743aa1f854199d57cafab2553d9a516e',
      logIndex: 0x215,
      blockNumber: 0x56a1d06,
      blockTimestamp: 0x6a64696e,
      orderHash: '0xbfbc54d2a0c2b5b92f572efba77f1c1fa61550d04600fc4f0f1ce420efa08da0',
      maker: '0xa253d75c2dfb2c6650291d5e8d54076d2fb40181',
      taker: '0x92c9ad93ba0e400ffc8d716edf70a588d246bde3',
      role: 'maker',
      side: 'SELL',
      tokenId: BigInt('0xcd997ada6ab1e2cc68c6566e5142cdc885a275d4fa5a1e13b3fdccf22a3f2340').toString(),
      usdcRaw: 3_929_200n,
      sharesRaw: 4_180_000n,
      feeRaw: 0n,
      shares: 4.18,
      usdc: 3.9292,
      price: 0.94,
    });
  });

  it("decodes the real v1 log to the notes' BUY of 17.7 shares for 7.434 USDC at 0.42 with a fee of 1.77 shares", () => {
    const fill = asFill(REAL_V1);
    expect(fill).toMatchObject({
      version: 'v1',
      exchange: '0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e',
      maker: '0x00000003a358014c7c0e227483dbe01619871000',
      taker: '0xe55b90febea370d4611a4b0a9ff201183268b24e',
      role: 'maker',
      side: 'BUY',
      // makerAssetId 0 (collateral): the token is the taker asset id.
      tokenId: BigInt('0xfdee4e7856e0a259cea17232d8e548f7309655d49c1eac7fe5813a188c3b4b2c').toString(),
      usdcRaw: 7_434_000n,
      sharesRaw: 17_700_000n,
      feeRaw: 1_770_000n,
      shares: 17.7,
      usdc: 7.434,
      blockNumber: 0x4d93911,
      logIndex: 0x54d,
    });
    expect(fill.price).toBeCloseTo(0.42, 12);
  });

  it('reads a log whose topic 3 is an exchange address as the taker summary of its match', () => {
    const summary = { ...REAL_V2, topics: [REAL_V2.topics[0]!, REAL_V2.topics[1]!, REAL_V2.topics[2]!, addressTopic(EXCHANGES[2]!.address)] };
    expect(asFill(summary).role).toBe('taker');
    // Any exchange counts, not only the log's own (NegRisk matches settle through the CTF exchange too).
    const viaOther = { ...REAL_V2, topics: [...summary.topics.slice(0, 3), addressTopic(EXCHANGES[3]!.address)] };
    expect(asFill(viaOther).role).toBe('taker');
  });

  it('counts a combo-exchange log as undecodable even under the OrderFilled topic0', () => {
    const combo = { ...REAL_V2, address: '0xE3333700cA9d93003F00f0F71f8515005F6c00Aa' };
    expect(asUndecodable(combo)).toMatchObject({
      reason: 'combo-exchange',
      transactionHash: REAL_V2.transactionHash,
      logIndex: 0x215,
      blockNumber: 0x56a1d06,
      maker: '0xa253d75c2dfb2c6650291d5e8d54076d2fb40181',
    });
  });

  it('counts another event, another contract, a data field of the wrong length and a v1 log with two token assets as undecodable, each with its reason', () => {
    expect(asUndecodable({ ...REAL_V2, topics: [ORDERS_MATCHED_V2_TOPIC, ...REAL_V2.topics.slice(1)] }).reason).toBe('unknown-event');
    expect(asUndecodable({ ...REAL_V2, address: `0x${'1'.repeat(40)}` }).reason).toBe('unknown-exchange');
    expect(asUndecodable({ ...REAL_V2, data: `${REAL_V2.data}${'0'.repeat(64)}` })).toMatchObject({ reason: 'malformed', detail: expect.stringMatching(/8 words/) });
    expect(asUndecodable({ ...REAL_V2, data: REAL_V2.data.slice(0, -64) }).reason).toBe('malformed');
    expect(asUndecodable({ ...REAL_V2, topics: REAL_V2.topics.slice(0, 3) }).reason).toBe('malformed');
    // A v1 layout on the V2 exchange.
    expect(asUndecodable({ ...REAL_V1, address: REAL_V2.address }).detail).toMatch(/v2 exchange but the log is OrderFilled v1/);
    // V2 side 2.
    const badSide = `0x${'0'.repeat(63)}2${REAL_V2.data.slice(66)}`;
    expect(asUndecodable({ ...REAL_V2, data: badSide }).detail).toMatch(/side 2/);

    // The three indexed inputs come first; the rest is the data.
    const bothTokens = encodeAbiParameters(
      ORDER_FILLED_V1.inputs.slice(3),
      [5n, 7n, 1_000_000n, 500_000n, 0n],
    );
    const topics = encodeEventTopics({
      abi: [ORDER_FILLED_V1],
      eventName: 'OrderFilled',
      args: { orderHash: `0x${'ab'.repeat(32)}`, maker: `0x${'2'.repeat(40)}`, taker: `0x${'3'.repeat(40)}` },
    }) as Hex[];
    expect(asUndecodable({ ...REAL_V1, topics, data: bothTokens }).detail).toMatch(/exactly one must be 0/);
    const zeroShares = encodeAbiParameters(ORDER_FILLED_V1.inputs.slice(3), [0n, 7n, 1_000_000n, 0n, 0n]);
    expect(asUndecodable({ ...REAL_V1, topics, data: zeroShares }).detail).toMatch(/0 shares/);
  });
});
