/**
 * Where a wallet's refresh window starts: whole seconds, inclusive, an overlap before the newest
 * fill held. All fills of one transaction share its block time, so the window holds whole
 * transactions and their fill_seq — hence their trade ids — come out as in the full walk; rows
 * already held are matched by the MERGE, never inserted again.
 *
 * Never later than now minus the overlap: a fill dated in the future (held from before such rows
 * were refused at fetch) would otherwise start every window after the fills that are still to
 * come, and each refresh would fetch nothing and report the wallet complete until that date.
 */
export function refreshWindowStart(since: string | null, overlapSeconds: number, nowMs: number): number {
  if (since === null) return 1;
  const newest = Math.floor(Date.parse(since) / 1000);
  if (!Number.isFinite(newest)) return 1;
  return Math.max(1, Math.min(newest, Math.floor(nowMs / 1000)) - overlapSeconds);
}
