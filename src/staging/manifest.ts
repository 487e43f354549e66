import type { WalletBundle } from '../warehouse/warehouse.js';
import type { WalletManifest } from './stage-store.js';

/** A complete staged bundle as the warehouse loads it; the one place a manifest becomes a bundle. */
export function bundleFromManifest(manifest: WalletManifest): WalletBundle {
  return { wallet: manifest.wallet, tradeCount: manifest.trade_count, files: manifest.files };
}
