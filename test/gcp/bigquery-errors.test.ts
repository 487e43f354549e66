import { describe, expect, it } from 'vitest';

import { isTransient } from '../../src/lib/errors.js';
import { BigQueryJobError, classifyBigQueryError } from '../../src/warehouse/bigquery/errors.js';

/** Proves the retry policy table: which BigQuery failures are retried, and which fail at once. */
describe('BigQuery error classification (policy as data)', () => {
  const job = (reason: string, message: string) => ({ reason, message, errors: [{ reason, message }] });

  it.each([
    ['invalidQuery', 'Could not serialize access to table p:d.trades due to concurrent update', 'concurrent-update', true],
    ['invalidQuery', 'Transaction is aborted due to concurrent update against table p:d.trades', 'concurrent-update', true],
    ['quotaExceeded', 'Too many DML statements outstanding against table p:d.trades, limit is 20', 'dml-queue-full', true],
    ['jobBackendError', 'internal', 'job-backend', true],
    ['jobInternalError', 'internal', 'job-backend', true],
    ['jobRateLimitExceeded', 'slow down', 'job-rate-limit', true],
    ['rateLimitExceeded', 'Exceeded rate limits: too many table update operations for this table', 'rate-limit', true],
    ['backendError', 'Backend error', 'backend', true],
    ['bytesBilledLimitExceeded', 'Query exceeded limit for bytes billed: 10000000000.', 'bytes-billed-limit', false],
    ['invalidQuery', 'Syntax error: Unexpected keyword QUALIFY', 'fatal', false],
    ['invalid', 'Error while reading data, error message: JSON parsing error', 'fatal', false],
    ['quotaExceeded', 'Quota exceeded: Your table exceeded quota for imports or query appends per table', 'fatal', false],
    ['notFound', 'Not found: Table p:d.trades', 'fatal', false],
    ['accessDenied', 'Access Denied: Project p: User does not have bigquery.jobs.create permission', 'fatal', false],
  ])('%s "%s" → %s (retry: %s)', (reason, message, expectedClass, retry) => {
    const rule = classifyBigQueryError(job(reason, message));
    expect(rule.class).toBe(expectedClass);
    expect(rule.retry).toBe(retry);
  });

  it('a request that the client gave up on with a 5xx is retryable; a 4xx without a known reason is not', () => {
    expect(classifyBigQueryError({ code: 503, message: 'Service Unavailable', errors: [] }).retry).toBe(true);
    expect(classifyBigQueryError({ code: 400, message: 'Bad Request', errors: [{ reason: 'invalid', message: 'x' }] }).retry).toBe(false);
  });

  it('the thrown error keeps its class, so the engine can use the same predicate on it', () => {
    const error = new BigQueryJobError('job_1', 'merge trades', job('invalidQuery', 'Could not serialize access to table p:d.t due to concurrent update'), 5);
    expect(error.message).toMatch(/merge trades failed after 5 attempts \(job job_1, invalidQuery\): Could not serialize/);
    expect(error.errorClass).toBe('concurrent-update');
    expect(isTransient(error)).toBe(true);
    expect(isTransient(new BigQueryJobError('job_2', 'load', job('invalidQuery', 'Syntax error'), 1))).toBe(false);
  });
});
