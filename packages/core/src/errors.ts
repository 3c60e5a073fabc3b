/**
 * The one error type of Trestle. Every failure that crosses a boundary (store, HTTP,
 * CLI) is a {@link TrestleError} with a code from a closed set, so callers branch on
 * `err.code` rather than on classes, and the client can rebuild the error from JSON.
 *
 * @example
 * throw new TrestleError('NOT_FOUND', `run ${runId} does not exist`, { runId });
 */

/** The closed set of error codes. */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'CONFLICT',
  'FAILED_PRECONDITION',
  'RESOURCE_EXHAUSTED',
  'RATE_LIMITED',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'UNAVAILABLE',
  'STORAGE_FULL',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** What one error code means on each HTTP API. */
export interface CodeInfo {
  /** HTTP status of the Trestle REST API v1 (and every Trestle route). */
  readonly http: number;
  /** The MLflow `error_code` name the MLflow REST dialect answers with. */
  readonly mlflow: string;
  /** HTTP status of the MLflow dialect: what an MLflow server answers for that `error_code`, so MLflow clients behave as they do against MLflow. */
  readonly mlflowHttp: number;
  /** When the code is used, in a few words (printed in the README). */
  readonly meaning: string;
}

/**
 * The one table of what each code means over HTTP. The v1 statuses follow HTTP's meaning:
 * 409 for a duplicate or a conflict with stored state, 412 for a failed precondition, 413 for a
 * request over a limit, 429 for too many requests, 507 for a full store. The MLflow dialect
 * keeps MLflow's statuses (400 for most refusals), which MLflow clients expect. A test checks
 * this table against the one printed in the README.
 */
export const ERROR_CODE_INFO: Readonly<Record<ErrorCode, CodeInfo>> = {
  INVALID_ARGUMENT: {
    http: 400,
    mlflow: 'INVALID_PARAMETER_VALUE',
    mlflowHttp: 400,
    meaning: 'a malformed request or a value out of range',
  },
  NOT_FOUND: {
    http: 404,
    mlflow: 'RESOURCE_DOES_NOT_EXIST',
    mlflowHttp: 404,
    meaning: 'no such experiment, run, artifact, token or route',
  },
  ALREADY_EXISTS: {
    http: 409,
    mlflow: 'RESOURCE_ALREADY_EXISTS',
    mlflowHttp: 400,
    meaning: 'a duplicate: the name is taken',
  },
  CONFLICT: {
    http: 409,
    mlflow: 'INVALID_PARAMETER_VALUE',
    mlflowHttp: 400,
    meaning: 'conflicts with what is stored (a param logged again with another value)',
  },
  FAILED_PRECONDITION: {
    http: 412,
    mlflow: 'INVALID_STATE',
    mlflowHttp: 400,
    meaning: "the target's state forbids it (a deleted run) or a store is not set up (no S3 keys)",
  },
  RESOURCE_EXHAUSTED: {
    http: 413,
    mlflow: 'RESOURCE_LIMIT_EXCEEDED',
    mlflowHttp: 400,
    meaning: 'the request is over a size or count limit (a batch of more than 1,000 metrics)',
  },
  RATE_LIMITED: {
    http: 429,
    mlflow: 'REQUEST_LIMIT_EXCEEDED',
    mlflowHttp: 429,
    meaning: 'too many requests: retry later (after `Retry-After` when given)',
  },
  UNAUTHENTICATED: {
    http: 401,
    mlflow: 'UNAUTHENTICATED',
    mlflowHttp: 401,
    meaning: "the caller's API token is missing, unknown or revoked",
  },
  PERMISSION_DENIED: {
    http: 403,
    mlflow: 'PERMISSION_DENIED',
    mlflowHttp: 403,
    meaning: "the caller's token may not do this (role too low)",
  },
  UNAVAILABLE: {
    http: 503,
    mlflow: 'TEMPORARILY_UNAVAILABLE',
    mlflowHttp: 503,
    meaning: 'a store cannot be reached or is busy: retry',
  },
  STORAGE_FULL: {
    http: 507,
    mlflow: 'TEMPORARILY_UNAVAILABLE',
    mlflowHttp: 503,
    meaning: 'the disk (or quota) of a store is full: free space, then retry',
  },
  INTERNAL: {
    http: 500,
    mlflow: 'INTERNAL_ERROR',
    mlflowHttp: 500,
    meaning: 'a fault of the server; its log has the details under the request id',
  },
};

/** JSON form of an error, as sent over HTTP and rebuilt by {@link TrestleError.fromJSON}. */
export interface TrestleErrorJson {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class TrestleError extends Error {
  override readonly name = 'TrestleError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }

  /** HTTP status for this error's code. */
  get httpStatus(): number {
    return ERROR_CODE_INFO[this.code].http;
  }

  toJSON(): TrestleErrorJson {
    return Object.keys(this.details).length > 0
      ? { code: this.code, message: this.message, details: { ...this.details } }
      : { code: this.code, message: this.message };
  }

  /** Rebuilds an error from its JSON form; unknown codes become `INTERNAL`. */
  static fromJSON(json: unknown): TrestleError {
    const obj = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    const code = isErrorCode(obj['code']) ? obj['code'] : 'INTERNAL';
    const message = typeof obj['message'] === 'string' ? obj['message'] : 'unknown error';
    const details =
      typeof obj['details'] === 'object' && obj['details'] !== null ? (obj['details'] as Record<string, unknown>) : {};
    return new TrestleError(code, message, details);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** True when `err` is a Trestle error (by code, so it works across module copies and processes). */
export function isTrestleError(err: unknown, code?: ErrorCode): err is TrestleError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  return (err as { name?: unknown }).name === 'TrestleError' && isErrorCode(c) && (code === undefined || c === code);
}
