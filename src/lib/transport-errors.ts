/**
 * Transport error codes (Node's and undici's) worth another attempt, by the retry class both HTTP clients count
 * them under: the Data API / Gamma client and the Polygon JSON-RPC client read the same table.
 */
export type TransportRetryClass = 'network' | 'timeout' | 'truncated';

export const TRANSPORT_RETRY_CLASSES: Readonly<Record<string, TransportRetryClass>> = Object.freeze({
  ECONNRESET: 'network',
  ECONNREFUSED: 'network',
  ECONNABORTED: 'network',
  EPIPE: 'network',
  ENOTFOUND: 'network',
  EAI_AGAIN: 'network',
  ENETUNREACH: 'network',
  ENETDOWN: 'network',
  EHOSTUNREACH: 'network',
  UND_ERR_SOCKET: 'network',
  UND_ERR_CLOSED: 'network',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'truncated',
});

/** The first string `code` on an error or its causes (undici wraps the socket's error), four levels deep at most. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}
