import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODE_INFO, isTrestleError, TrestleError } from '@trestle/core';

/** The body of every error this dialect answers with, exactly as MLflow's server writes it. */
interface MlflowErrorBody {
  error_code: string;
  message: string;
}

/**
 * MLflow error codes that have no Trestle counterpart because they describe the protocol,
 * not the domain, with the HTTP status MLflow's `ERROR_CODE_TO_HTTP_STATUS` gives them.
 */
const PROTOCOL_CODES = {
  MALFORMED_REQUEST: 400,
  ENDPOINT_NOT_FOUND: 404,
  NOT_IMPLEMENTED: 501,
} as const;

/** An MLflow error code about the request itself (see {@link MlflowProtocolError}). */
export type MlflowProtocolCode = keyof typeof PROTOCOL_CODES;

/**
 * A failure of the MLflow protocol itself (unparseable JSON, an unknown endpoint, an RPC
 * we do not implement). Domain failures stay {@link TrestleError}s;
 * this class exists only because MLflow has codes such as `MALFORMED_REQUEST` and
 * `NOT_IMPLEMENTED` that Trestle's closed set rightly does not.
 *
 * @example
 * throw new MlflowProtocolError('MALFORMED_REQUEST', 'request body is not valid JSON: …');
 */
export class MlflowProtocolError extends Error {
  override readonly name = 'MlflowProtocolError';
  readonly errorCode: MlflowProtocolCode;

  constructor(errorCode: MlflowProtocolCode, message: string) {
    super(message);
    this.errorCode = errorCode;
  }

  /** MLflow's HTTP status for {@link errorCode}. */
  get httpStatus(): number {
    return PROTOCOL_CODES[this.errorCode];
  }
}

/** The body-size limit of `runs/log-batch`, in bytes (MLflow's `MAX_BATCH_LOG_REQUEST_SIZE`). */
export const LOG_BATCH_MAX_BYTES = 1_000_000;

const API_DOCS_HINT = 'See the API docs for more information about request parameters.';

/**
 * Translates any error thrown while serving an MLflow route into MLflow's status and body.
 * Trestle errors map through `ERROR_CODE_INFO`; Fastify's own request errors (body too large,
 * wrong content type) get MLflow's wording; anything else is a 500 whose details stay in the log.
 *
 * @example
 * toMlflowError(new TrestleError('NOT_FOUND', 'run 4f2a… not found'), request)
 * // { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'run 4f2a… not found' } }
 */
export function toMlflowError(error: unknown, request: FastifyRequest): { status: number; body: MlflowErrorBody } {
  if (isTrestleError(error)) {
    const worded = inMlflowWords(error);
    if (worded !== undefined) return worded;
    const info = ERROR_CODE_INFO[error.code];
    return { status: info.mlflowHttp, body: { error_code: info.mlflow, message: error.message } };
  }
  if (error instanceof MlflowProtocolError) {
    return { status: error.httpStatus, body: { error_code: error.errorCode, message: error.message } };
  }
  const fastifyError = error as Partial<FastifyError> | null;
  const code = typeof fastifyError?.code === 'string' ? fastifyError.code : '';
  const statusCode = typeof fastifyError?.statusCode === 'number' ? fastifyError.statusCode : 500;
  const invalid = (message: string): { status: number; body: MlflowErrorBody } => ({
    status: 400,
    body: { error_code: 'INVALID_PARAMETER_VALUE', message },
  });

  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return invalid(bodyTooLargeMessage(request));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // MLflow's `_validate_content_type` wording and code (INVALID_PARAMETER_VALUE, 400).
      return invalid(
        request.headers['content-type'] === undefined
          ? 'Bad Request. Content-Type header is missing.'
          : "Bad Request. Content-Type must be one of ['application/json'].",
      );
    default:
      break;
  }
  if (statusCode >= 400 && statusCode < 500) {
    return { status: 400, body: { error_code: 'BAD_REQUEST', message: fastifyError?.message ?? 'bad request' } };
  }
  return {
    status: 500,
    body: {
      error_code: 'INTERNAL_ERROR',
      message: `internal error while serving ${request.method} ${request.url.split('?')[0] ?? ''}; the server log has the details (request id ${request.id})`,
    },
  };
}

/**
 * The store's run errors as MLflow's server words and codes them, since clients and MLflow's
 * own tests match on these stable texts: an unknown run is `Run '<id>' not found`; a write to a
 * deleted run is 400 INVALID_PARAMETER_VALUE "The run <id> must be in the 'active' state."
 * (MLflow's `_validate_run_active`), where Trestle's own API says INVALID_STATE.
 */
function inMlflowWords(error: TrestleError): { status: number; body: MlflowErrorBody } | undefined {
  const details = error.details as Record<string, unknown> | undefined;
  const runId = details?.['runId'];
  if (typeof runId !== 'string' || Object.keys(details ?? {}).length !== 1) return undefined;
  if (error.code === 'NOT_FOUND') {
    return { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Run '${runId}' not found` } };
  }
  if (error.code === 'FAILED_PRECONDITION') {
    return {
      status: 400,
      body: {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `The run ${runId} must be in the 'active' state. Current state is deleted.`,
      },
    };
  }
  return undefined;
}

function bodyTooLargeMessage(request: FastifyRequest): string {
  const declared = request.headers['content-length'];
  const size = declared === undefined ? `more than ${request.routeOptions.bodyLimit}` : declared;
  if (request.routeOptions.url?.endsWith('/runs/log-batch') === true) {
    return (
      `Batched logging API requests must be at most ${LOG_BATCH_MAX_BYTES} bytes, got a request of size ${size}. ` +
      'Split the metrics, params and tags across several requests.'
    );
  }
  return `Request bodies of ${request.method} ${request.routeOptions.url ?? request.url} must be at most ${request.routeOptions.bodyLimit} bytes, got a request of size ${size}.`;
}

/**
 * Error handler of the MLflow dialect's encapsulated context: answers `{error_code, message}`
 * with MLflow's HTTP status and logs server faults (5xx) with their stack.
 */
export function mlflowErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toMlflowError(error, request);
  if (status >= 500 && status !== 501) {
    request.log.error({ err: error }, `MLflow dialect: ${request.method} ${request.url} failed`);
  } else {
    request.log.info({ errorCode: body.error_code }, body.message);
  }
  void reply.code(status).send(body);
}

/**
 * Not-found handler for the dialect's prefixes: unknown MLflow paths (and known paths with
 * another method) answer 404 `ENDPOINT_NOT_FOUND` in MLflow's shape instead of Fastify's.
 */
export function mlflowNotFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0] ?? request.url;
  void reply.code(404).send({
    error_code: 'ENDPOINT_NOT_FOUND',
    message: `No MLflow endpoint ${request.method} ${path}: Trestle does not serve it. Served: the tracking, model registry, logged-model and MLflow 2 trace APIs under /api/2.0/mlflow/, MLflow 3's trace APIs under /api/3.0/mlflow/traces, and the artifact proxy under /api/2.0/mlflow-artifacts/ (MLflow's REST reference: https://mlflow.org/docs/latest/rest-api.html).`,
  } satisfies MlflowErrorBody);
}

/**
 * `Missing value for required parameter 'x'` as MLflow's request validation words it.
 *
 * @example missingParameter('metrics[2].timestamp')
 */
export function missingParameter(path: string): TrestleError {
  return new TrestleError('INVALID_ARGUMENT', `Missing value for required parameter '${path}'. ${API_DOCS_HINT}`, {
    parameter: path,
  });
}

/**
 * `Invalid value … for parameter 'x' supplied` as MLflow's request validation words it, with
 * what was expected and the JSON type that was received.
 *
 * @example invalidParameter('experiment_id', 12, 'a string')
 * // Invalid value 12 for parameter 'experiment_id' supplied: expected a string, got a number. See the API docs…
 */
export function invalidParameter(path: string, value: unknown, expected: string): TrestleError {
  return new TrestleError(
    'INVALID_ARGUMENT',
    `Invalid value ${showValue(value)} for parameter '${path}' supplied: expected ${expected}, got ${jsonType(value)}. ${API_DOCS_HINT}`,
    { parameter: path },
  );
}

const MAX_SHOWN = 80;

function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // Too deep to print (10,000 nested lists): String() would recurse just as far.
    text = Array.isArray(value) ? '[…]' : typeof value === 'object' && value !== null ? '{…}' : typeof value;
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}
