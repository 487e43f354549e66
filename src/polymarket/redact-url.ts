/**
 * The one way a URL becomes text in this source: messages, log lines and error fields all go through
 * `redactUrl`, so credentials in a URL (userinfo, a token in the query) never reach a log or a
 * checkpoint row.
 */

/**
 * Query parameters this source itself sends to the Data API and Gamma (plus the v1 names). Their
 * values are ours — a wallet, a cursor, filters — and are what a reader needs to reproduce the
 * request, so they are kept; the value of any other parameter is replaced.
 */
const OWN_PARAMETERS: ReadonlySet<string> = new Set([
  'user',
  'taker_only',
  'takerOnly',
  'start',
  'end',
  'limit',
  'offset',
  'cursor',
  'filter_type',
  'filterType',
  'filter_amount',
  'filterAmount',
  'condition_ids',
  'condition',
  'market',
  'id',
  'closed',
  'include_tag',
  'include_markets',
  'side',
]);

export const REDACTED = '***';

/** Text that does not parse as a URL: hide anything before an `@` and everything after `?` or `#`. */
function redactText(text: string): string {
  return text
    .replace(/[?#][\s\S]*$/, `?${REDACTED}`)
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, `$1${REDACTED}@`);
}

/**
 * `http://user:SECRET@host/path?token=T&user=0xabc#frag` → `http://***@host/path?token=***&user=0xabc#***`.
 * Userinfo is always hidden; query values are kept only for the parameters the source sends itself.
 * Anything that is not an http(s) URL is redacted as text.
 */
export function redactUrl(input: string | URL): string {
  const text = String(input);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return redactText(text);
  }
  // `user:pass@host` parses with "user:" as its scheme and the secret in the path: treat it as text.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return redactText(text);
  const userinfo = url.username !== '' || url.password !== '' ? `${REDACTED}@` : '';
  let search = url.search;
  if ([...url.searchParams.keys()].some((name) => !OWN_PARAMETERS.has(name))) {
    const shown = new URLSearchParams();
    for (const [name, value] of url.searchParams) shown.append(name, OWN_PARAMETERS.has(name) ? value : REDACTED);
    search = `?${shown.toString()}`;
  }
  const hash = url.hash !== '' ? `#${REDACTED}` : '';
  return `${url.protocol}//${userinfo}${url.host}${url.pathname}${search}${hash}`;
}
