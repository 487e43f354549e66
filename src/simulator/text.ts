/** Word lists and formatting for synthetic titles, slugs, profiles and dates. Invented names only. */

export const SUBJECTS = [
  'Bitcoin', 'Ethereum', 'Solana', 'the Fed', 'Tesla', 'OpenAI', 'SpaceX', 'the S&P 500', 'Nvidia', 'Apple',
  'the ECB', 'Gold', 'Dogecoin', 'Congress', 'the UN', 'Argentina', 'Japan', 'Brazil', 'Canada', 'Nigeria',
] as const;

export const PREDICATES = [
  'hit a new all-time high', 'announce a merger', 'cut interest rates', 'reach $100k', 'launch a new product',
  'pass the budget bill', 'sign a trade deal', 'hold a snap election', 'go bankrupt', 'double in price',
  'beat earnings estimates', 'announce layoffs', 'be added to the index', 'settle the lawsuit',
] as const;

export const CITIES = [
  'Dallas', 'Karachi', 'Lisbon', 'Seoul', 'Denver', 'Nairobi', 'Oslo', 'Lima', 'Perth', 'Austin', 'Toronto',
  'Madrid', 'Chicago', 'Hanoi', 'Zurich', 'Phoenix', 'Atlanta', 'Dublin', 'Manila', 'Quito',
] as const;

export const MASCOTS = [
  'Hawks', 'Comets', 'Pioneers', 'Wolves', 'Rangers', 'Tide', 'Falcons', 'Bears', 'Knights', 'Storm',
  'Raptors', 'Mariners', 'Bisons', 'Owls', 'Vipers', 'Giants', 'Otters', 'Miners', 'Lynx', 'Titans',
] as const;

export const LEAGUES = [
  { name: 'Northern Football League', short: 'nfl2' },
  { name: 'Continental Basketball Cup', short: 'cbc' },
  { name: 'Pacific Hockey League', short: 'phl' },
  { name: 'Atlantic Champions League', short: 'acl' },
] as const;

export const COUNTRIES = [
  'Veldoria', 'Ostrava Republic', 'Marnia', 'Kelvania', 'Sundara', 'Brevik', 'Lumeria', 'Tarsis', 'Ondoro',
  'Caldera', 'Vestmark', 'Palmora',
] as const;

export const FIRST_NAMES = [
  'Amara', 'Boris', 'Chen', 'Dalia', 'Emil', 'Farah', 'Goran', 'Hana', 'Ivo', 'Jonas', 'Kaya', 'Luis', 'Mira',
  'Nikos', 'Oona', 'Pavel', 'Rosa', 'Sami', 'Tomas', 'Vera',
] as const;

export const LAST_NAMES = [
  'Abara', 'Brandt', 'Castell', 'Duarte', 'Eklund', 'Fontaine', 'Grieve', 'Halloran', 'Ishikawa', 'Jovic',
  'Kessler', 'Lindqvist', 'Moreau', 'Novak', 'Okafor', 'Petrov', 'Quill', 'Rasmussen', 'Sato', 'Varga',
] as const;

export const CRYPTO_ASSETS = [
  { name: 'Bitcoin', short: 'btc' },
  { name: 'Ethereum', short: 'eth' },
  { name: 'Solana', short: 'sol' },
  { name: 'XRP', short: 'xrp' },
] as const;

export const ADJECTIVES = [
  'Scary', 'Ultimate', 'Multicolored', 'Mean', 'Jam-Packed', 'Quiet', 'Brisk', 'Lucky', 'Silent', 'Golden',
  'Rapid', 'Humble', 'Crimson', 'Clever', 'Wild', 'Frosty', 'Bold', 'Gentle', 'Hollow', 'Nimble',
] as const;

export const NOUNS = [
  'Barrel', 'Underpass', 'Self', 'Record', 'Indigence', 'Harbor', 'Lantern', 'Meadow', 'Compass', 'Ledger',
  'Falcon', 'Anchor', 'Pebble', 'Orchard', 'Summit', 'Canyon', 'Ember', 'Glacier', 'Rocket', 'Willow',
] as const;

export const BIOS = ['', '', '', '', 'grandmaster fiora', 'just here for the odds', 'macro nerd', 'gm'] as const;

export interface TagDef {
  id: string;
  label: string;
  slug: string;
}

export const TAGS: Record<string, readonly TagDef[]> = {
  Politics: [
    { id: '2', label: 'Politics', slug: 'politics' },
    { id: '144', label: 'Elections', slug: 'elections' },
    { id: '101970', label: 'World', slug: 'world' },
  ],
  Sports: [
    { id: '1', label: 'Sports', slug: 'sports' },
    { id: '100639', label: 'Games', slug: 'games' },
  ],
  Crypto: [
    { id: '21', label: 'Crypto', slug: 'crypto' },
    { id: '235', label: 'Bitcoin', slug: 'bitcoin' },
    { id: '102127', label: 'Up or Down', slug: 'up-or-down' },
  ],
  Weather: [
    { id: '84', label: 'Weather', slug: 'weather' },
    { id: '103040', label: 'Temperature', slug: 'temperature' },
  ],
  Business: [
    { id: '107', label: 'Business', slug: 'business' },
    { id: '1401', label: 'Tech', slug: 'tech' },
  ],
};

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November',
  'December',
] as const;

export const IMAGE_BASE = 'https://polymarket-upload.s3.us-east-2.amazonaws.com/';

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/°f/g, 'f')
    .replace(/\$/g, '')
    .replace(/&/g, 'and')
    .replace(/\./g, 'pt')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** "September 14" */
export function monthDay(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return `${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCDate()}`;
}

export function year(epochSeconds: number): number {
  return new Date(epochSeconds * 1000).getUTCFullYear();
}

/** "2025-12-31T17:15:00Z", Gamma's usual ISO form without milliseconds. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** "2025-12-30T17:10:15.861305Z": the microsecond form Gamma uses for creation times. */
export function isoMicros(epochSeconds: number, micros: number): string {
  return `${isoSeconds(epochSeconds).slice(0, -1)}.${String(micros).padStart(6, '0')}Z`;
}

/** "2025-12-31" */
export function isoDate(epochSeconds: number): string {
  return isoSeconds(epochSeconds).slice(0, 10);
}

/** "2026-09-28 17:46:27+00": Gamma's `closedTime`, with a space and a bare hour offset. */
export function gammaClosedTime(epochSeconds: number): string {
  return `${isoSeconds(epochSeconds).slice(0, 19).replace('T', ' ')}+00`;
}

/** "12:00PM" in UTC-5, as the crypto up/down titles print it. */
export function clockEt(epochSeconds: number): string {
  const d = new Date((epochSeconds - 5 * 3600) * 1000);
  const hours = d.getUTCHours();
  const h12 = hours % 12 === 0 ? 12 : hours % 12;
  return `${h12}:${String(d.getUTCMinutes()).padStart(2, '0')}${hours < 12 ? 'AM' : 'PM'}`;
}
