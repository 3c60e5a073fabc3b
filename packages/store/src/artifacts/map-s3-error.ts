import { TrestleError, type ErrorCode } from '@trestle/core';

/** What {@link mapS3Error} needs to say where things went wrong. */
export interface S3ErrorContext {
  /** What was being done, e.g. `'read'`. */
  action: string;
  /** The artifact path, `''` for the root. */
  path: string;
  /** `s3://bucket/prefix` of the store. */
  rootUri: string;
  /** The endpoint requests go to, e.g. `http://127.0.0.1:9000` or `AWS S3 (us-east-1)`. */
  endpoint: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

const NAME_CODES: Readonly<Record<string, ErrorCode>> = {
  NoSuchKey: 'NOT_FOUND',
  NotFound: 'NOT_FOUND',
  NoSuchBucket: 'FAILED_PRECONDITION',
  AccessDenied: 'PERMISSION_DENIED',
  AllAccessDisabled: 'PERMISSION_DENIED',
  InvalidAccessKeyId: 'UNAUTHENTICATED',
  SignatureDoesNotMatch: 'UNAUTHENTICATED',
  ExpiredToken: 'UNAUTHENTICATED',
  CredentialsProviderError: 'UNAUTHENTICATED',
  KeyTooLongError: 'INVALID_ARGUMENT',
  EntityTooLarge: 'INVALID_ARGUMENT',
  SlowDown: 'UNAVAILABLE',
  ServiceUnavailable: 'UNAVAILABLE',
  InternalError: 'UNAVAILABLE',
};

// Network failures arrive as a plain error, an AggregateError (one per address tried) or a cause chain.
function errorCodes(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 4) return [];
  const record = err as { code?: unknown; name?: unknown; errors?: unknown; cause?: unknown };
  const own = [record.code, record.name].filter((value): value is string => typeof value === 'string');
  const nested = Array.isArray(record.errors) ? record.errors.flatMap((inner) => errorCodes(inner, depth + 1)) : [];
  return [...own, ...nested, ...errorCodes(record.cause, depth + 1)];
}

function httpStatus(err: unknown): number | undefined {
  const metadata = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/**
 * Turns an AWS SDK error into a {@link TrestleError}: a missing key is `NOT_FOUND`, a missing
 * bucket `FAILED_PRECONDITION`, bad credentials `UNAUTHENTICATED`, refused access
 * `PERMISSION_DENIED`, network failures and 5xx answers `UNAVAILABLE` with the endpoint in
 * the message. A `TrestleError` passes through unchanged.
 *
 * @example
 * catch (err) { throw mapS3Error(err, { action: 'read', path: 'm.onnx', rootUri, endpoint }); }
 * // TrestleError UNAVAILABLE "cannot read artifact 'm.onnx' in s3://b/p: S3 endpoint http://127.0.0.1:9 is unreachable (ECONNREFUSED)…"
 */
export function mapS3Error(err: unknown, context: S3ErrorContext): TrestleError {
  if (err instanceof TrestleError) return err;
  const { action, path, rootUri, endpoint } = context;
  const where = path === '' ? rootUri : `'${path}' in ${rootUri}`;
  const head = `cannot ${action} artifact ${where}`;
  const codes = errorCodes(err);
  const status = httpStatus(err);
  const details = { path, rootUri, endpoint, s3Code: codes[0] ?? null, httpStatus: status ?? null };
  const fail = (code: ErrorCode, message: string): TrestleError =>
    new TrestleError(code, `${head}: ${message}`, details, { cause: err });

  const network = codes.find((code) => NETWORK_CODES.has(code));
  if (network !== undefined) {
    return fail(
      'UNAVAILABLE',
      `S3 endpoint ${endpoint} is unreachable (${network}); check that it is running and the endpoint setting`,
    );
  }
  const named = codes.map((code) => NAME_CODES[code]).find((code) => code !== undefined);
  const code = named ?? (status === 404 ? 'NOT_FOUND' : status === 403 ? 'PERMISSION_DENIED' : undefined);
  switch (code) {
    case 'NOT_FOUND':
      return fail('NOT_FOUND', 'it does not exist');
    case 'FAILED_PRECONDITION':
      return fail('FAILED_PRECONDITION', `the bucket does not exist at ${endpoint}; create it or fix the artifact URI`);
    case 'UNAUTHENTICATED':
      return fail(
        'UNAUTHENTICATED',
        `S3 at ${endpoint} rejected the credentials (${codes[0] ?? 'unknown'}); check the access key and secret`,
      );
    case 'PERMISSION_DENIED':
      return fail(
        'PERMISSION_DENIED',
        `S3 at ${endpoint} denied access; check the bucket policy and the credentials' permissions`,
      );
    case 'INVALID_ARGUMENT':
      return fail(
        'INVALID_ARGUMENT',
        `S3 refused the request (${codes[0] ?? 'unknown'}); use a shorter path or a smaller file`,
      );
    case 'UNAVAILABLE':
      return fail('UNAVAILABLE', `S3 at ${endpoint} is unavailable (${codes[0] ?? 'unknown'}); retry later`);
    default:
      break;
  }
  if (status !== undefined && status >= 500) {
    return fail('UNAVAILABLE', `S3 at ${endpoint} answered HTTP ${status}; retry later`);
  }
  const reason = err instanceof Error ? err.message : String(err);
  return fail('INTERNAL', `unexpected S3 error from ${endpoint}: ${reason}`);
}
