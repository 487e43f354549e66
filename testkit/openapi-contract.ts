/**
 * The Data API v2 OpenAPI 3.1 document as a contract that both our client and our simulator are held
 * to, never to each other: a request the client sends to `/v2/*` against the operation's declared
 * query parameters, and a response the simulator sends against the operation's response schema
 * (JSON Schema 2020-12, `$ref`s resolved inside the document) and the error conventions.
 *
 * The document is the repository's copy (test/fixtures/polymarket/data-api-v2-openapi.json); the
 * shared mirror beside the checkout (../shared/reference/) is only compared with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DOCUMENT_COPY = `${REPO_ROOT}test/fixtures/polymarket/data-api-v2-openapi.json`;
/** Where CI and the team keep the mirror: a `shared/` folder beside the checkout. */
export const SHARED_DOCUMENT = fileURLToPath(new URL('../../shared/reference/data-api-v2-openapi.json', import.meta.url));

const DOCUMENT_ID = 'https://data-api.polymarket.com/v2/openapi.json';

/** The Conventions' "Codes map to statuses as follows". */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  invalid_request: 400,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  internal: 500,
  request_timeout: 503,
  dependency_unavailable: 503,
};
const INT32 = 2 ** 31;

interface ParameterObject {
  name: string;
  in: string;
  description?: string;
  schema?: { type?: string | string[]; format?: string; minimum?: number; maximum?: number };
}

interface OperationObject {
  parameters?: ParameterObject[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

interface OpenApiDocument {
  info: { description: string };
  paths: Record<string, { get?: OperationObject }>;
  components: { schemas: Record<string, unknown> };
}

/**
 * Values a parameter takes that the document lists only in its description (it types them as bare
 * strings). Each list is checked against the description's text by the contract test, so it cannot
 * drift from the document; a value outside it is a violation.
 */
export const DESCRIBED_VALUES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  '/v2/trades': { filter_type: ['CASH', 'TOKENS'], side: ['BUY', 'SELL'] },
  '/v2/leaderboard': { time_period: ['day', 'week', 'month', 'all'], sort_by: ['PNL', 'VOLUME'] },
  '/v2/positions': {
    status: ['OPEN', 'REDEEMABLE', 'REDEEMABLE_LOST', 'MERGEABLE', 'CLOSED'],
    sort_by: ['CURRENT_VALUE', 'PRICE', 'TOKENS', 'UNREALIZED_PNL', 'REALIZED_PNL', 'TOTAL_PNL', 'TIMESTAMP'],
    sort_direction: ['ASC', 'DESC'],
    filter_type: ['CASH', 'TOKENS'],
  },
  '/v2/user-pnl': { interval: ['max', 'all', '1m', '1w', '1d', '12h', '6h'], fidelity: ['1d', '18h', '12h', '3h', '1h'] },
};

export function readDocument(path = DOCUMENT_COPY): OpenApiDocument {
  return JSON.parse(readFileSync(path, 'utf8')) as OpenApiDocument;
}

export const sharedDocumentExists = (): boolean => existsSync(SHARED_DOCUMENT);

const camelCase = (name: string): string => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** Backticked names a description calls aliases ("`condition_id` / `conditionId` are accepted aliases"). */
function describedAliases(description: string | undefined): string[] {
  return (description ?? '')
    .split(/(?<=\.)\s/)
    .filter((sentence) => /\balias/i.test(sentence))
    .flatMap((sentence) => [...sentence.matchAll(/`([A-Za-z_]+)`/g)].map((match) => match[1]!));
}

function typesOf(parameter: ParameterObject): string[] {
  const type = parameter.schema?.type;
  return (Array.isArray(type) ? type : type === undefined ? [] : [type]).filter((t) => t !== 'null');
}

/** Why `value` does not fit the parameter's declared schema, or undefined when it does. */
function valueProblem(parameter: ParameterObject, value: string, described: readonly string[] | undefined): string | undefined {
  const { format, minimum, maximum } = parameter.schema ?? {};
  for (const type of typesOf(parameter)) {
    if (type === 'integer') {
      if (!/^-?\d+$/.test(value)) return `is not an integer`;
      const n = Number(value);
      if (format === 'int32' && (n < -INT32 || n >= INT32)) return 'is outside int32';
      if (minimum !== undefined && n < minimum) return `is below the minimum ${minimum}`;
      if (maximum !== undefined && n > maximum) return `is above the maximum ${maximum}`;
    } else if (type === 'number') {
      if (!/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) return 'is not a number';
      const n = Number(value);
      if (minimum !== undefined && n < minimum) return `is below the minimum ${minimum}`;
      if (maximum !== undefined && n > maximum) return `is above the maximum ${maximum}`;
    } else if (type === 'boolean') {
      if (value !== 'true' && value !== 'false') return 'is not true or false';
    }
  }
  if (described !== undefined && !described.includes(value)) return `is not one of the values its description lists (${described.join(', ')})`;
  return undefined;
}

export interface Exchange {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface DataApiContract {
  /** Violations of a request (path and query as sent) to a `/v2/*` route; empty when it conforms. */
  checkRequest(url: string): string[];
  /** Violations of a response to a `/v2/*` route; empty when it conforms. */
  checkResponse(exchange: Exchange): string[];
}

/** The contract of `document` (default: the repository's copy). */
export function dataApiContract(document: OpenApiDocument = readDocument()): DataApiContract {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  // OpenAPI's numeric formats, which Ajv does not know: int64 has to take integers past 2^31.
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -INT32 && n < INT32 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** 63 });
  ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  const validators = new Map<string, ValidateFunction | undefined>();
  const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  const validatorFor = (path: string, status: string): ValidateFunction | undefined => {
    const key = `${path} ${status}`;
    if (!validators.has(key)) {
      const content = document.paths[path]?.get?.responses[status]?.content?.['application/json'];
      validators.set(
        key,
        content?.schema === undefined
          ? undefined
          : ajv.compile({ $ref: `${DOCUMENT_ID}#/${pointer('paths', path, 'get', 'responses', status, 'content', 'application/json', 'schema')}` }),
      );
    }
    return validators.get(key);
  };

  const operation = (path: string): OperationObject | undefined => document.paths[path]?.get;

  return {
    checkRequest(url) {
      const parsed = new URL(url, 'http://contract.invalid');
      const op = operation(parsed.pathname);
      if (!op) return [`${parsed.pathname} is not a GET operation of the document`];
      const byName = new Map<string, ParameterObject>();
      for (const parameter of op.parameters ?? []) {
        if (parameter.in !== 'query') continue;
        // Conventions: "Params accept both snake_case and camelCase spellings"; descriptions add aliases.
        for (const name of [parameter.name, camelCase(parameter.name), ...describedAliases(parameter.description)]) byName.set(name, parameter);
      }
      const problems: string[] = [];
      const seen = new Set<string>();
      for (const [name, value] of parsed.searchParams) {
        const parameter = byName.get(name);
        if (!parameter) {
          problems.push(`${parsed.pathname}: query parameter "${name}" is not declared`);
          continue;
        }
        if (seen.has(parameter.name)) problems.push(`${parsed.pathname}: query parameter "${parameter.name}" is sent twice`);
        seen.add(parameter.name);
        const problem = valueProblem(parameter, value, DESCRIBED_VALUES[parsed.pathname]?.[parameter.name]);
        if (problem) problems.push(`${parsed.pathname}: ${name}=${JSON.stringify(value)} ${problem}`);
      }
      return problems;
    },

    checkResponse({ url, status, headers, body }) {
      const path = new URL(url, 'http://contract.invalid').pathname;
      const op = operation(path);
      if (!op) return [`${path} is not a GET operation of the document`];
      const where = `${path} HTTP ${status}`;
      if (op.responses[String(status)] === undefined) return [`${where}: the status is not among the operation's declared responses`];
      const validate = validatorFor(path, String(status));
      if (!validate) return [`${where}: the document declares no application/json schema for it`];
      const problems: string[] = [];
      if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) problems.push(`${where}: content-type is ${headers['content-type'] ?? 'missing'}, not application/json`);
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        return [...problems, `${where}: the body is not JSON`];
      }
      if (!validate(value)) {
        for (const error of (validate.errors ?? []).slice(0, 5)) problems.push(`${where}: ${error.instancePath || '(root)'} ${error.message ?? ''}`);
      }
      // Conventions: every response echoes its trace id in x-trace-id; an error body carries the same.
      const traceId = headers['x-trace-id'];
      if (traceId === undefined || traceId === '') problems.push(`${where}: no x-trace-id header`);
      if (status >= 400) {
        const error = value as { trace_id?: unknown; retryable?: unknown; code?: unknown };
        const expected = typeof error.code === 'string' ? STATUS_OF_CODE[error.code] : undefined;
        if (expected !== undefined && expected !== status) problems.push(`${where}: code ${error.code as string} maps to HTTP ${expected}`);
        if (error.trace_id !== traceId) problems.push(`${where}: trace_id ${JSON.stringify(error.trace_id)} is not the x-trace-id ${JSON.stringify(traceId)}`);
        // "A 429 or 503 that is worth retrying carries Retry-After in seconds."
        if ((status === 429 || status === 503) && error.retryable === true && !/^\d+$/.test(headers['retry-after'] ?? '')) {
          problems.push(`${where}: retryable, but no Retry-After in seconds`);
        }
      }
      return problems;
    },
  };
}
