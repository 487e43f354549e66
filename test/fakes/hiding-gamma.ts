/**
 * A Gamma that does not answer for chosen markets, in front of an upstream such as the simulator:
 * on `/markets` and `/markets/keyset` the rows of hidden condition ids are left out, replaced by a
 * row of an id nobody asked for, or given a null id, as the live API has been seen to do. Everything
 * else is passed through unchanged.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Omission = 'no-row' | 'other-id' | 'null-id';

export const OMISSIONS: readonly Omission[] = ['no-row', 'other-id', 'null-id'];

export interface HidingGamma {
  url: string;
  /** Condition ids (lower case) currently hidden; change it between runs. */
  hidden: Set<string>;
  /** Gamma market requests whose `condition_ids` named this id. */
  asked(conditionId: string): number;
  close(): Promise<void>;
}

const OTHER_ID = `0x${'e'.repeat(64)}`;

function conceal(row: Record<string, unknown>, omission: Omission): Record<string, unknown> | undefined {
  if (omission === 'no-row') return undefined;
  return { ...row, conditionId: omission === 'other-id' ? OTHER_ID : null };
}

export async function startHidingGamma(upstream: string, omission: Omission): Promise<HidingGamma> {
  const hidden = new Set<string>();
  const asked = new Map<string, number>();
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const answer = await fetch(`${upstream}${req.url ?? '/'}`);
      let body = Buffer.from(await answer.arrayBuffer());
      if (answer.ok && (url.pathname === '/markets' || url.pathname === '/markets/keyset')) {
        for (const id of url.searchParams.getAll('condition_ids')) asked.set(id.toLowerCase(), (asked.get(id.toLowerCase()) ?? 0) + 1);
        const parsed = JSON.parse(body.toString('utf8')) as unknown;
        const rows = (Array.isArray(parsed) ? parsed : (parsed as { markets: unknown[] }).markets) as Record<string, unknown>[];
        const kept = rows.flatMap((row) => {
          const id = typeof row.conditionId === 'string' ? row.conditionId.toLowerCase() : '';
          if (!hidden.has(id)) return [row];
          const replaced = conceal(row, omission);
          return replaced ? [replaced] : [];
        });
        body = Buffer.from(JSON.stringify(Array.isArray(parsed) ? kept : { ...(parsed as object), markets: kept }));
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(body);
    })().catch((error: unknown) => {
      res.writeHead(502).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hidden,
    asked: (id) => asked.get(id.toLowerCase()) ?? 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
