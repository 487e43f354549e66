import type { GroundTruthFill, RunningSimulator } from '../../src/simulator/index.js';

/** A fixed "now" (2026-11-29T00:00:00Z), after the last generated trade, so tests do not depend on the clock. */
export const NOW = Date.UTC(2026, 10, 29) / 1000;

/** Small enough to keep the suite fast, big enough to contain every quirk (a whale makes combos certain). */
export const SMALL = { seed: 7, wallets: 30, maxTradesPerWallet: 2_000, whales: [6_000] };

export interface TradesPage {
  data: Record<string, unknown>[];
  pagination: { limit: number; offset: number; has_more: boolean; next_cursor: string | null };
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/** Follows next_cursor to the end, re-sending the same filters on every page as the v2 docs require. */
export async function fetchAllTrades(
  sim: RunningSimulator,
  wallet: string,
  params: Record<string, string>,
): Promise<{ rows: Record<string, unknown>[]; pages: TradesPage[] }> {
  const rows: Record<string, unknown>[] = [];
  const pages: TradesPage[] = [];
  let cursor: string | null = null;
  for (;;) {
    const query = new URLSearchParams({ user: wallet, ...params });
    if (cursor) query.set('cursor', cursor);
    const { status, body } = await getJson<TradesPage>(`${sim.url}/v2/trades?${query.toString()}`);
    if (status !== 200) throw new Error(`page ${pages.length} of ${wallet} failed with ${status}`);
    pages.push(body);
    rows.push(...body.data);
    cursor = body.pagination.next_cursor;
    if (!cursor) return { rows, pages };
  }
}

export function toGroundTruth(row: Record<string, unknown>): GroundTruthFill {
  return {
    proxy_wallet: row.proxy_wallet as string,
    transaction_hash: row.transaction_hash as string,
    asset: row.token_id as string,
    side: row.side as string,
    price: row.price as number,
    size: row.size as number,
    timestamp: row.timestamp as number,
    condition_id: row.condition_id as string,
  };
}
