/**
 * Input checks shared by every write, so SQLite and PostgreSQL reject the same input with the
 * same message. Limits are MLflow's (`LIMITS` in core).
 */
import { TrestleError } from './errors.js';
import { LIMITS, isRunStatus } from './run.js';
import type { Tag } from './experiment.js';
import type { LogBatchInput } from './ports/run-store.js';
import type { Metric, Param, RunStatus } from './run.js';

/** What a key names, for messages. */
export type KeyKind = 'metric' | 'param' | 'tag' | 'experiment tag' | 'input tag';

/** Default and largest page size of searches. */
export const PAGE_SIZE = { default: 1000, max: 50_000 } as const;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks a metric, param or tag key: non-empty, at most 250 characters, no control
 * characters, not starting with `/`, no `..` path segment (keys become file names in exports).
 */
export function validateKey(kind: KeyKind, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TrestleError('INVALID_ARGUMENT', `${kind} key must be a non-empty string, got ${JSON.stringify(key)}`);
  }
  if (key.length > LIMITS.keyLength) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${kind} key '${key.slice(0, 40)}…' is ${key.length} characters long; the limit is ${LIMITS.keyLength}`,
      { key },
    );
  }
  if (CONTROL.test(key) || key.startsWith('/') || key.split('/').some((part) => part === '..')) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${kind} key ${JSON.stringify(key)} is not allowed: keys may not contain control characters, start with '/' or contain a '..' segment`,
      { key },
    );
  }
  return key;
}

function validateString(what: string, value: unknown, limit: number): string {
  if (typeof value !== 'string') {
    throw new TrestleError('INVALID_ARGUMENT', `${what} must be a string, got ${typeof value}`);
  }
  if (value.length > limit) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${what} is ${value.length} characters long; the limit is ${limit} (store large values as an artifact instead)`,
    );
  }
  return value;
}

/** Checks a param's key and value length (6,000 characters). */
export function validateParam(param: Param): Param {
  const key = validateKey('param', param.key);
  return { key, value: validateString(`value of param '${key}'`, param.value, LIMITS.paramValueLength) };
}

/** Checks a tag's key and value length (8,000 characters). */
export function validateTag(tag: Tag, kind: KeyKind = 'tag'): Tag {
  const key = validateKey(kind, tag.key);
  return { key, value: validateString(`value of ${kind} '${key}'`, tag.value, LIMITS.tagValueLength) };
}

/** Checks a whole-millisecond time or a step: a safe integer. */
export function validateInteger(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TrestleError('INVALID_ARGUMENT', `${what} must be an integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks a metric point; `checkKey = false` when the caller already checked this key. */
export function validateMetric(metric: Metric, checkKey = true): Metric {
  const key = checkKey ? validateKey('metric', metric.key) : metric.key;
  if (typeof metric.value !== 'number') {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `value of metric '${key}' must be a number, got ${JSON.stringify(metric.value)}`,
    );
  }
  return {
    key,
    value: metric.value,
    timestamp: validateInteger(`timestamp of metric '${key}' (epoch ms)`, metric.timestamp),
    step: validateInteger(`step of metric '${key}'`, metric.step),
  };
}

/** Rejects batches over MLflow's limits with `RESOURCE_EXHAUSTED`, before anything is written. */
export function checkBatchLimits(batch: LogBatchInput): void {
  const metrics = batch.metrics?.length ?? 0;
  const params = batch.params?.length ?? 0;
  const tags = batch.tags?.length ?? 0;
  const over = (what: string, n: number, limit: number): TrestleError =>
    new TrestleError(
      'RESOURCE_EXHAUSTED',
      `a batch may hold at most ${limit} ${what}, got ${n}: split it into several logBatch calls`,
      { [what]: n, limit },
    );
  if (metrics > LIMITS.batchMetrics) throw over('metrics', metrics, LIMITS.batchMetrics);
  if (params > LIMITS.batchParams) throw over('params', params, LIMITS.batchParams);
  if (tags > LIMITS.batchTags) throw over('tags', tags, LIMITS.batchTags);
  if (metrics + params + tags > LIMITS.batchTotal) throw over('entries', metrics + params + tags, LIMITS.batchTotal);
}

/** Checks a run status against MLflow's names. */
export function validateRunStatus(status: unknown): RunStatus {
  if (!isRunStatus(status)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `run status must be one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED; got ${JSON.stringify(status)}`,
    );
  }
  return status;
}

/** Checks a run name (at most 250 characters). */
export function validateRunName(name: unknown): string {
  return validateString('run name', name, LIMITS.runNameLength);
}

/** Checks an experiment name: non-blank, at most 500 characters. */
export function validateExperimentName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `experiment name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  return validateString('experiment name', name, LIMITS.experimentNameLength);
}

/**
 * Experiment ids are decimal integers (as strings, MLflow style). A malformed id cannot name
 * an experiment: `NOT_FOUND` on lookups, `INVALID_ARGUMENT` where it is an argument of a search.
 */
export function parseExperimentId(id: unknown, onBad: 'NOT_FOUND' | 'INVALID_ARGUMENT' = 'NOT_FOUND'): number {
  if (typeof id === 'string' && /^\d{1,9}$/.test(id)) return Number(id);
  throw new TrestleError(
    onBad,
    onBad === 'NOT_FOUND'
      ? `experiment ${JSON.stringify(id)} does not exist (experiment ids are integers such as '0' or '12')`
      : `experiment id ${JSON.stringify(id)} is not valid: experiment ids are integers such as '0' or '12'`,
    { experimentId: id },
  );
}

/** Page size of a search: default 1000, between 1 and 50,000. */
export function validateMaxResults(maxResults: number | undefined): number {
  if (maxResults === undefined) return PAGE_SIZE.default;
  if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > PAGE_SIZE.max) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `maxResults must be an integer between 1 and ${PAGE_SIZE.max}, got ${maxResults}: page through larger results with the page token`,
      { maxResults },
    );
  }
  return maxResults;
}
