/**
 * A small local check of simulator responses against the Data API v2 OpenAPI document (the repository's copy):
 * the body of a response against the schema the operation declares for its status, `$ref`s resolved inside the
 * document. A shared contract helper is being written beside this one; this stays local until they meet.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

const DOCUMENT = fileURLToPath(new URL('../fixtures/polymarket/data-api-v2-openapi.json', import.meta.url));
const DOCUMENT_ID = 'https://data-api.polymarket.com/v2/openapi.json';

interface OpenApiDocument {
  paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> } }>;
}

const document = JSON.parse(readFileSync(DOCUMENT, 'utf8')) as OpenApiDocument;
// strict: false because the document carries OpenAPI keywords JSON Schema does not know.
const ajv = new Ajv2020({ strict: false, allErrors: true });
// The document's OpenAPI number formats, checked as the ranges they name.
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
ajv.addSchema({ ...(document as object), $id: DOCUMENT_ID });
const compiled = new Map<string, ValidateFunction>();

/** The document's schema errors of `body` as the response of GET `path` with `status`; empty when it conforms. */
export function contractErrors(path: string, status: number, body: unknown): string[] {
  const responses = document.paths[path]?.get?.responses;
  if (!responses) return [`the document has no GET ${path}`];
  const schema = responses[String(status)]?.content?.['application/json']?.schema;
  if (schema === undefined) return [`the document declares no JSON body for GET ${path} ${status}`];
  const ref = `${DOCUMENT_ID}#/paths/${path.replaceAll('/', '~1')}/get/responses/${status}/content/application~1json/schema`;
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  if (validate(body)) return [];
  return (validate.errors ?? []).slice(0, 5).map((error) => `${error.instancePath || '(root)'} ${error.message ?? ''}`);
}
