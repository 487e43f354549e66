/**
 * Validation of the Data API and Gamma base URLs. The client appends route paths (`/v2/trades`,
 * `/markets`) to the base URL, so a query or fragment on it would swallow the route; and credentials
 * in it would be sent in clear to whatever host it names and copied into every message that names a
 * request. The Polymarket APIs need no credentials, so both are refused rather than half-supported.
 */
import { ConfigError } from '../lib/errors.js';
import { redactUrl } from './redact-url.js';

/**
 * The base URL without trailing slashes, or a ConfigError naming `name` (an option or config key)
 * and the offending value with its secrets redacted.
 */
export function checkBaseUrl(name: string, value: string, example: string): string {
  const shown = JSON.stringify(redactUrl(value));
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new ConfigError(`${name} ${shown} is not an http(s) URL`, { cause: error, hint: `Use e.g. ${example}` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // The protocol is not shown: in `user:secret@host` it would be the user name.
    throw new ConfigError(`${name} ${shown} is not an http(s) URL`, { hint: `Use e.g. ${example}` });
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(`${name} ${shown} carries credentials (user:password@); refused`, {
      hint: 'The Polymarket APIs need none, and credentials in a URL end up in logs and error messages. Remove the user:password@ part',
    });
  }
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(value)) {
    throw new ConfigError(`${name} ${shown} has a query string or fragment; refused`, {
      hint: `Pass the base URL only (routes such as /v2/trades are appended to it, so a query would break them), e.g. ${example}`,
    });
  }
  return value.replace(/\/+$/, '');
}
