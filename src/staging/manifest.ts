import { createHash } from 'node:crypto';

import { z } from 'zod';

import { isValidWallet } from '../domain/wallet-address.js';
import { STAGE_KINDS } from './stage-store.js';
import type { FileCheck, LoadFailure, StageStore, StagedFile, WalletBundle, WalletManifest } from './stage-store.js';

/** A complete staged bundle as the warehouse loads it; the one place a manifest becomes a bundle. */
export function bundleFromManifest(manifest: WalletManifest): WalletBundle {
  const bundle: WalletBundle = { wallet: manifest.wallet, tradeCount: manifest.trade_count, files: manifest.files };
  return manifest.small_fills_excluded ? { ...bundle, smallFillsExcluded: true } : bundle;
}

function checksumOf(manifest: Omit<WalletManifest, 'checksum'>): string {
  const { version, wallet, run_id, staged_at, trade_count, load_failed, small_fills_excluded } = manifest;
  // Files in one fixed order (the kinds' order, whose first four are the order of manifests written before the
  // others existed): a parsed manifest lists them in its schema's order, not in the order they were staged.
  const files = Object.fromEntries(STAGE_KINDS.flatMap((kind) => (manifest.files[kind] ? [[kind, manifest.files[kind]]] : [])));
  // Optional fields are hashed only when set, so manifests written before they existed still verify.
  const content = {
    version, wallet, run_id, staged_at, trade_count, files,
    ...(load_failed ? { load_failed } : {}),
    ...(small_fills_excluded ? { small_fills_excluded } : {}),
  };
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/** The manifest as it is stored: version 2, with the checksum of its own content. */
export function sealManifest(manifest: Omit<WalletManifest, 'checksum' | 'version'>): WalletManifest {
  const content = { ...manifest, version: 2 as const };
  return { ...content, checksum: checksumOf(content) };
}

const fileSchema = z.object({
  uri: z.string().min(1),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  generation: z.string().optional(),
});

const manifestSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  wallet: z.string().refine(isValidWallet),
  run_id: z.string(),
  staged_at: z.string(),
  trade_count: z.number().int().nonnegative(),
  files: z.object({
    trades: fileSchema.optional(),
    markets: fileSchema.optional(),
    events: fileSchema.optional(),
    unresolved: fileSchema.optional(),
    activity: fileSchema.optional(),
    combo_activity: fileSchema.optional(),
  }),
  load_failed: z.object({ run_id: z.string(), at: z.string(), error: z.string() }).optional(),
  small_fills_excluded: z.literal(true).optional(),
  checksum: z.string().optional(),
});

/**
 * Parses stored manifest text for `wallet`; undefined when it is empty, truncated, not a manifest,
 * another wallet's, or (version 2) its checksum does not match — a torn write or a bit flip makes
 * the bundle untrusted, and the wallet is fetched again instead of failing.
 */
export function openManifest(text: string, wallet: string): WalletManifest | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success || result.data.wallet !== wallet) return undefined;
  const manifest = result.data as WalletManifest;
  if (manifest.version === 2 && manifest.checksum !== checksumOf(manifest)) return undefined;
  if (manifest.files.trades && manifest.files.trades.rows !== manifest.trade_count) return undefined;
  return manifest;
}

/**
 * Checks every file of a manifest before its bundle is loaded again (a run reusing it, a reload):
 * a truncated, flipped, emptied or replaced file is reported, never loaded.
 */
export async function checkBundle(stage: StageStore, manifest: WalletManifest): Promise<FileCheck> {
  for (const file of Object.values(manifest.files)) {
    if (!file) continue;
    const check = await stage.verify(file);
    if (!check.ok) return check;
  }
  return { ok: true };
}

/**
 * Marks the wallet's staged bundle as refused by the warehouse (a permanent load failure), so the
 * next run fetches the wallet again from the API instead of reloading the same files for ever.
 * The files stay, for `reload` and for a look. Only the bundle whose trades file was refused is
 * marked: a manifest staged since describes other files. Returns false when there is none to mark
 * (the next run fetches the wallet anyway); a write failure is thrown to the caller.
 */
export async function setAsideBundle(stage: StageStore, refused: WalletBundle, failure: LoadFailure): Promise<boolean> {
  const manifest = await stage.readManifest(refused.wallet);
  if (!manifest || !sameFile(manifest.files.trades, refused.files.trades)) return false;
  const { checksum: _checksum, version: _version, ...content } = manifest;
  await stage.writeManifest(sealManifest({ ...content, load_failed: failure }));
  return true;
}

function sameFile(a: StagedFile | undefined, b: StagedFile | undefined): boolean {
  return a?.uri === b?.uri && a?.sha256 === b?.sha256 && a?.generation === b?.generation;
}
