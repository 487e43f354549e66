/**
 * A Polymarket whose paging walks misbehave: the Gamma keyset listings and the trader board answer as
 * chosen, everything else is proxied to an upstream such as the simulator, so a run against it loads
 * trades exactly as the upstream serves them and only the walk under test is hostile.
 */
import { listen, proxy, sendJson } from './http-util.js';

export type HostileKeyset =
  /** `{ markets|events: [], next_cursor: <new> }` on every page, forever. */
  | 'empty-fresh-cursors'
  /** The request is held unanswered until the server closes (a look-up in progress when the run stops). */
  | 'hang';

export type HostileBoard =
  /** The same wallets on every page, each page under a new cursor, forever. */
  'repeating-wallets';

export interface HostilePagingOptions {
  upstream: string;
  keyset?: HostileKeyset;
  board?: HostileBoard;
  /** The wallets the board serves (`repeating-wallets`). */
  boardWallets?: readonly string[];
}

export interface RunningHostilePaging {
  url: string;
  /** Requests received per path (`/markets/keyset`, `/v2/leaderboard`, …), proxied ones included. */
  requests(path: string): number;
  close(): Promise<void>;
}

function boardRow(wallet: string, index: number): Record<string, unknown> {
  return { rank: index + 1, user_id: wallet, pnl: 1000 - index, volume: 5000, user_name: `trader${index}`, profile_image: '', x_username: '', verified: false };
}

/** Starts the server on 127.0.0.1 (ephemeral port). */
export async function startHostilePaging(options: HostilePagingOptions): Promise<RunningHostilePaging> {
  const upstream = options.upstream.replace(/\/+$/, '');
  const counts = new Map<string, number>();
  let minted = 0;
  const server = await listen((req, res) => {
    res.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://hostile.invalid');
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    const keysetKind = url.pathname === '/markets/keyset' ? 'markets' : url.pathname === '/events/keyset' ? 'events' : undefined;
    if (keysetKind && options.keyset === 'hang') return;
    if (keysetKind && options.keyset === 'empty-fresh-cursors') {
      minted += 1;
      return sendJson(res, 200, { [keysetKind]: [], next_cursor: `fresh-${minted}` });
    }
    if (url.pathname === '/v2/leaderboard' && options.board === 'repeating-wallets') {
      minted += 1;
      const rows = (options.boardWallets ?? []).map(boardRow);
      return sendJson(res, 200, { data: rows, pagination: { limit: 1000, has_more: true, next_cursor: `fresh-${minted}` } });
    }
    proxy(upstream, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(599, { 'content-type': 'text/plain' }).end(String(error));
      else res.destroy();
    });
  });
  return {
    url: server.url,
    requests: (path) => counts.get(path) ?? 0,
    close: () => server.close(),
  };
}
