import { ERROR_CODE_INFO, isTrestleError, type ErrorCode, type TrestleErrorJson } from '@trestle/core';
import type { FastifySchemaValidationError } from 'fastify';

/** What the error handler answers: an HTTP status and the `{ error: { code, message, details? } }` body. */
export interface HttpError {
  status: number;
  body: { error: TrestleErrorJson };
  /** Whether this is a fault of ours (logged at error level, message hidden from the client). */
  internal: boolean;
}

/** The message a client sees for any error we did not expect; the details go to the log only. */
export const INTERNAL_MESSAGE = 'internal server error; the server log has the details under this request id';

/** Fastify's own request errors carry a 4xx `statusCode`; this is the code each one means. */
const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  412: 'FAILED_PRECONDITION',
  413: 'RESOURCE_EXHAUSTED',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
  507: 'STORAGE_FULL',
};

/** Messages for Fastify's request errors that say what to do, instead of Fastify's own wording. */
const FASTIFY_MESSAGES: Readonly<Record<string, (limit: number | undefined) => string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (limit) =>
    `request body is larger than the limit${limit === undefined ? '' : ` of ${limit} bytes`}; send fewer items per request (split the batch)`,
  FST_ERR_CTP_INVALID_JSON_BODY: () => 'request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: () => "request body is empty but Content-Type is 'application/json'; send a JSON object",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => "unsupported Content-Type; send 'application/json'",
  FST_ERR_BAD_URL: () =>
    "the URL has a malformed percent-encoding (such as '%zz' or a cut UTF-8 sequence); encode a literal '%' as '%25'",
  FST_ERR_MAX_PARAM_LENGTH: () =>
    'a segment of the URL path is too long for any route; keys, names and paths are far shorter',
};

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: FastifySchemaValidationError[];
  validationContext?: string;
}

/**
 * Maps any error thrown while handling a request to its HTTP answer: a {@link TrestleError}
 * by the code table ({@link ERROR_CODE_INFO}), a schema validation failure to 400 naming the
 * field, Fastify's body errors to 400/413/415, and anything else to a generic 500.
 *
 * @example
 * toHttpError(new TrestleError('NOT_FOUND', 'run 4f2 does not exist'))
 * // { status: 404, body: { error: { code: 'NOT_FOUND', message: 'run 4f2 does not exist' } }, internal: false }
 */
export function toHttpError(err: unknown, options: { bodyLimit?: number } = {}): HttpError {
  if (isTrestleError(err)) {
    const status = ERROR_CODE_INFO[err.code].http;
    return { status, body: { error: err.toJSON() }, internal: status >= 500 };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const { message, errors } = describeValidation(e.validationContext ?? 'request', e.validation);
    return {
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message, details: { errors } } },
      internal: false,
    };
  }
  const statusCode = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    const fastifyCode = typeof e.code === 'string' ? e.code : '';
    const explain = FASTIFY_MESSAGES[fastifyCode];
    const message = explain?.(options.bodyLimit) ?? (typeof e.message === 'string' ? e.message : 'bad request');
    return {
      status: statusCode,
      body: { error: { code: STATUS_CODES[statusCode] ?? 'INVALID_ARGUMENT', message } },
      internal: false,
    };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: INTERNAL_MESSAGE } }, internal: true };
}

/** One schema violation: where (`body/metrics/0/value`) and what. */
export interface FieldError {
  path: string;
  message: string;
}

const MAX_LISTED = 5;

/**
 * Turns schema validation errors into one message naming the fields, such as
 * `body/name must be string` or `body/colour is not a known field`.
 *
 * @example
 * describeValidation('body', [{ keyword: 'type', instancePath: '/name', schemaPath: '#/properties/name', params: { type: 'string' }, message: 'must be string' }])
 * // { message: 'body/name must be string', errors: [{ path: 'body/name', message: 'must be string' }] }
 */
export function describeValidation(
  context: string,
  errors: readonly FastifySchemaValidationError[],
): { message: string; errors: FieldError[] } {
  const out: FieldError[] = [];
  const add = (path: string, message: string): void => {
    if (!out.some((f) => f.path === path && f.message === message)) out.push({ path, message });
  };
  // Branch failures of a union are summarised by the union's own error.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const isBranchOf = (e: FastifySchemaValidationError, u: FastifySchemaValidationError): boolean =>
    e !== u && e.instancePath.startsWith(u.instancePath) && e.schemaPath.startsWith(`${u.schemaPath}/${u.keyword}/`);
  const hasUnknownField = errors.some((e) => e.keyword === 'additionalProperties');

  for (const e of errors) {
    const at = `${context}${e.instancePath}`;
    const params = e.params;
    if (unions.some((u) => isBranchOf(e, u))) continue;
    switch (e.keyword) {
      case 'additionalProperties': {
        for (const name of names(params['additionalProperties'] ?? params['additionalProperty'])) {
          add(`${at}/${name}`, 'is not a known field');
        }
        break;
      }
      case 'boolean':
        // `additionalProperties: false` also reports the extra field itself as "schema is false".
        if (!hasUnknownField) add(at, e.message ?? 'is not allowed');
        break;
      case 'required':
        for (const name of names(params['requiredProperties'] ?? params['missingProperty']))
          add(`${at}/${name}`, 'is required');
        break;
      case 'enum':
        add(
          at,
          `must be one of ${asList(params['allowedValues'])
            .map((v) => JSON.stringify(v))
            .join(', ')}`,
        );
        break;
      case 'anyOf':
      case 'oneOf': {
        const options = errors
          .filter((b) => isBranchOf(b, e) && b.instancePath === e.instancePath)
          .map(expected)
          .filter((x) => x !== undefined);
        add(at, options.length > 0 ? `must be ${[...new Set(options)].join(' or ')}` : (e.message ?? 'is not valid'));
        break;
      }
      default:
        add(at, e.message ?? 'is not valid');
    }
  }
  if (out.length === 0) out.push({ path: context, message: 'is not valid' });
  const shown = out.slice(0, MAX_LISTED).map((f) => `${f.path} ${f.message}`);
  const more = out.length > MAX_LISTED ? ` (and ${out.length - MAX_LISTED} more)` : '';
  return { message: `${shown.join('; ')}${more}`, errors: out };
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

// Field names listed in an error's params.
function names(value: unknown): string[] {
  return asList(value).filter((v): v is string => typeof v === 'string');
}

// What one branch of a union wanted, for "must be number or "NaN"".
function expected(e: FastifySchemaValidationError): string | undefined {
  const params = e.params;
  if (e.keyword === 'type' && typeof params['type'] === 'string') return params['type'];
  if (e.keyword === 'const') return JSON.stringify(params['allowedValue']);
  if (e.keyword === 'enum')
    return asList(params['allowedValues'])
      .map((v) => JSON.stringify(v))
      .join(' or ');
  return undefined;
}
