/**
 * An AuditStore in memory for tests: what a warehouse-backed store must do (a range's fills and its
 * progress in one step, fills keyed by transaction and log index so a range saved twice counts once),
 * with the calls recorded.
 */
import type { AuditStore, AuditedRange, WalletAuditReport } from '../src/chain/audit-wallet.js';
import type { HeldTrade } from '../src/chain/fill-match.js';
import type { ChainFill, Undecodable } from '../src/chain/order-filled.js';

interface WalletState {
  progress: number | undefined;
  fills: Map<string, ChainFill>;
  undecodable: Map<string, Undecodable>;
}

export class MemoryAuditStore implements AuditStore {
  readonly #held: Map<string, readonly HeldTrade[]>;
  readonly #state = new Map<string, WalletState>();
  /** Every saveRange call, in order. */
  readonly savedRanges: { wallet: string; fromBlock: number; toBlock: number; fills: number; undecodable: number }[] = [];
  readonly results = new Map<string, WalletAuditReport>();

  constructor(held: Record<string, readonly HeldTrade[]> = {}) {
    this.#held = new Map(Object.entries(held).map(([wallet, rows]) => [wallet.toLowerCase(), rows]));
  }

  setHeld(wallet: string, rows: readonly HeldTrade[]): void {
    this.#held.set(wallet.toLowerCase(), rows);
  }

  #wallet(wallet: string): WalletState {
    let state = this.#state.get(wallet);
    if (!state) {
      state = { progress: undefined, fills: new Map(), undecodable: new Map() };
      this.#state.set(wallet, state);
    }
    return state;
  }

  async heldFills(wallet: string): Promise<readonly HeldTrade[]> {
    return this.#held.get(wallet) ?? [];
  }

  async progress(wallet: string): Promise<number | undefined> {
    return this.#state.get(wallet)?.progress;
  }

  async saveRange(wallet: string, range: AuditedRange): Promise<void> {
    const state = this.#wallet(wallet);
    if (state.progress !== undefined && range.fromBlock !== state.progress + 1) {
      throw new Error(`range ${range.fromBlock}..${range.toBlock} of ${wallet} does not follow the progress ${state.progress}: a gap or an overlap`);
    }
    for (const fill of range.fills) state.fills.set(`${fill.transactionHash}#${fill.logIndex}`, fill);
    for (const log of range.undecodable) state.undecodable.set(`${log.transactionHash}#${log.logIndex}`, log);
    state.progress = range.toBlock;
    this.savedRanges.push({ wallet, fromBlock: range.fromBlock, toBlock: range.toBlock, fills: range.fills.length, undecodable: range.undecodable.length });
  }

  async chainFills(wallet: string): Promise<{ fills: ChainFill[]; undecodable: Undecodable[] }> {
    const state = this.#state.get(wallet);
    return { fills: [...(state?.fills.values() ?? [])], undecodable: [...(state?.undecodable.values() ?? [])] };
  }

  async saveResult(wallet: string, report: WalletAuditReport): Promise<void> {
    this.results.set(wallet, report);
  }

  async clear(wallet: string): Promise<void> {
    this.#state.delete(wallet);
  }
}
