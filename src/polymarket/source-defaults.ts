/**
 * The Polymarket source's defaults, in a module of their own so that the configuration (which must
 * not load the HTTP client just to print `--help`) and the source read the same values.
 */
export const DEFAULT_DATA_API_URL = 'https://data-api.polymarket.com';
export const DEFAULT_GAMMA_API_URL = 'https://gamma-api.polymarket.com';
export const DEFAULT_TIMEOUT_MS = 30_000;
