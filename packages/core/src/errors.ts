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
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

interface CodeInfo {
  /** HTTP status the server answers with. */
  readonly http: number;
  /** The MLflow `error_code` name the MLflow REST dialect answers with. */
  readonly mlflow: string;
}

/** One table: code → HTTP status and MLflow error code. */
export const ERROR_CODE_INFO: Readonly<Record<ErrorCode, CodeInfo>> = {
  INVALID_ARGUMENT: { http: 400, mlflow: 'INVALID_PARAMETER_VALUE' },
  NOT_FOUND: { http: 404, mlflow: 'RESOURCE_DOES_NOT_EXIST' },
  ALREADY_EXISTS: { http: 400, mlflow: 'RESOURCE_ALREADY_EXISTS' },
  CONFLICT: { http: 400, mlflow: 'INVALID_PARAMETER_VALUE' },
  FAILED_PRECONDITION: { http: 400, mlflow: 'INVALID_STATE' },
  RESOURCE_EXHAUSTED: { http: 400, mlflow: 'RESOURCE_LIMIT_EXCEEDED' },
  UNAUTHENTICATED: { http: 401, mlflow: 'UNAUTHENTICATED' },
  PERMISSION_DENIED: { http: 403, mlflow: 'PERMISSION_DENIED' },
  UNAVAILABLE: { http: 503, mlflow: 'TEMPORARILY_UNAVAILABLE' },
  INTERNAL: { http: 500, mlflow: 'INTERNAL_ERROR' },
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
