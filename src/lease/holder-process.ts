import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

import { processExists } from '../lib/process-alive.js';
import type { HolderProcess, LeaseInfo } from './lease.js';

/**
 * Whether a lease's holder still runs. Only a holder on this machine can be checked: its pid must
 * exist and, where the kernel tells (Linux), have the start time recorded in the lease, so a pid
 * reused by another process is not mistaken for the holder. Holders elsewhere keep the TTL rule.
 */

/** The kernel's start time of a process, or undefined where it cannot be read. */
export function processStartToken(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is parenthesised and may hold spaces or ')'; fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export function currentProcess(): HolderProcess {
  const token = processStartToken(process.pid);
  return { host: hostname(), pid: process.pid, ...(token ? { startToken: token } : {}) };
}

/** True only when the holder is provably gone: same host, and its process is dead or another one now. */
export function holderIsGone(info: Pick<LeaseInfo, 'process'>, host: string = hostname()): boolean {
  const p = info.process;
  if (!p || p.host !== host || !Number.isInteger(p.pid) || p.pid <= 0) return false;
  if (p.pid === process.pid) return p.startToken !== undefined && p.startToken !== processStartToken(process.pid);
  if (!processExists(p.pid)) return true;
  if (p.startToken === undefined) return false;
  const now = processStartToken(p.pid);
  return now !== undefined && now !== p.startToken;
}
