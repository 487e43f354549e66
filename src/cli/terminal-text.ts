/**
 * Values from the warehouse and the API (addresses, error texts, API snippets) shown on a terminal:
 * control characters are escaped, so a value carrying terminal escape sequences cannot clear the
 * screen, move the cursor or set the window title. JSON output needs none of this: it escapes them.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function safeText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return value.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
