/**
 * `GET /v2/resolutions`: resolution state by exactly one selector, `condition` (aliases `condition_id`,
 * `conditionId`) or `event_id`, each a comma-separated list of at most 20 distinct values; rows in the order asked,
 * one per known market, misses left out (`{ "data": [] }` when nothing matches). `question_id` is validated but its
 * UMA-keyed rows are not simulated: a well-formed one answers a 400 that says so.
 */
import type { Dataset } from './dataset.js';
import type { SimResponse } from './http.js';
import { json, listParam, param, v2Error } from './http.js';
import { resolutionRow } from './resolutions.js';

export const MAX_RESOLUTION_IDS = 20;

const CONDITION_ID = /^0x[0-9a-f]{64}$/;
const QUESTION_ID = /^0x[0-9a-fA-F]{64}$/;
const EVENT_ID = /^[1-9]\d{0,15}$/;

export function handleResolutions(query: URLSearchParams, dataset: Dataset, traceId: string): SimResponse {
  const invalid = (parameter: string | undefined, error: string): SimResponse =>
    v2Error(400, 'invalid_request', error, traceId, parameter === undefined ? {} : { parameter });
  const question = param(query, 'question_id', 'questionId');
  const hasCondition = ['condition', 'condition_id', 'conditionId'].some((name) => query.has(name));
  const hasEvent = ['event_id', 'eventId'].some((name) => query.has(name));
  const selectors = Number(question !== null) + Number(hasCondition) + Number(hasEvent);
  if (selectors !== 1) return invalid(undefined, "provide exactly one of 'question_id', 'condition', or 'event_id'");

  const { universe } = dataset;
  const rows: Record<string, unknown>[] = [];
  if (question !== null) {
    if (!QUESTION_ID.test(question.trim())) return invalid('question_id', `invalid question_id: ${question}`);
    return invalid('question_id', 'question_id lookups are not simulated; use condition or event_id');
  }
  const parameter = hasCondition ? 'condition' : 'event_id';
  const values = [...new Set(listParam(query, ...(hasCondition ? ['condition', 'condition_id', 'conditionId'] : ['event_id', 'eventId'])).map((v) => v.toLowerCase()))];
  if (values.length === 0) return invalid(parameter, `empty ${parameter} selector`);
  if (values.length > MAX_RESOLUTION_IDS) {
    return invalid(parameter, `at most ${MAX_RESOLUTION_IDS} distinct ${parameter} values, got ${values.length}`);
  }
  for (const value of values) {
    if (!(hasCondition ? CONDITION_ID : EVENT_ID).test(value)) return invalid(parameter, `invalid ${parameter}: ${value}`);
  }
  for (const value of values) {
    if (hasCondition) {
      const m = universe.findMarket(value);
      const row = m === undefined ? undefined : resolutionRow(universe, dataset.seed, m);
      if (row) rows.push(row);
      continue;
    }
    const e = universe.findEvent(value);
    if (e === undefined) continue;
    const first = universe.firstMarketOf(e);
    for (let m = first; m < first + universe.eventCore(e).size; m += 1) {
      const row = resolutionRow(universe, dataset.seed, m);
      if (row) rows.push(row);
    }
  }
  return { ...json(200, { data: rows }, { 'x-trace-id': traceId }), rows: rows.length };
}
