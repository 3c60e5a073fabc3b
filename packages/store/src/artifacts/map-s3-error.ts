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
  KeyTooLongError: 'INVALID_ARGUMENT',
  EntityTooLarge: 'INVALID_ARGUMENT',
  SlowDown: 'UNAVAILABLE',
  ServiceUnavailable: 'UNAVAILABLE',
  InternalError: 'UNAVAILABLE',
};

/**
 * S3 refusing the server's own credentials or access. These are the store's configuration, not
 * the caller's: the answer is a storage error (`FAILED_PRECONDITION`, never retried), never
 * `UNAUTHENTICATED`/`PERMISSION_DENIED`, which on Trestle's API mean the caller's token.
 */
const CREDENTIAL_PROBLEMS: Readonly<Record<string, S3AccessProblem>> = {
  CredentialsProviderError: 'credentials-missing',
  InvalidAccessKeyId: 'credentials-rejected',
  SignatureDoesNotMatch: 'credentials-rejected',
  ExpiredToken: 'credentials-rejected',
  TokenRefreshRequired: 'credentials-rejected',
  AccessDenied: 'access-denied',
  AllAccessDisabled: 'access-denied',
};

/** Why S3 could not be used with the store's settings; in `details.problem` of the error. */
type S3AccessProblem = 'credentials-missing' | 'credentials-rejected' | 'access-denied' | 'bucket-missing';

/** What to do about each {@link S3AccessProblem}, without the endpoint (safe for `/ready`). */
const S3_ACCESS_FIXES: Readonly<Record<S3AccessProblem, string>> = {
  'credentials-missing':
    'no S3 credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role) in the environment of the process that opens the store',
  'credentials-rejected':
    'S3 rejected the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile or role) of the process that opens the store',
  'access-denied':
    "S3 denied access with the store's credentials: grant them s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on the bucket",
  'bucket-missing': 'the bucket does not exist: create it or fix the artifact URI',
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
 * Turns an AWS SDK error into a {@link TrestleError}: a missing key is `NOT_FOUND`; a missing
 * bucket, missing or rejected credentials and refused access are `FAILED_PRECONDITION` (a
 * storage error saying what to set, with `details.problem`), never `UNAUTHENTICATED`, which
 * means the caller's token; network failures and 5xx answers `UNAVAILABLE` with the endpoint in
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

  const problem =
    codes.map((code) => CREDENTIAL_PROBLEMS[code]).find((found) => found !== undefined) ??
    (codes.includes('NoSuchBucket') ? 'bucket-missing' : status === 403 ? 'access-denied' : undefined);
  if (problem !== undefined) {
    const what = problem === 'bucket-missing' ? '' : ` (${codes[0] ?? `HTTP ${status ?? '?'}`})`;
    return new TrestleError(
      'FAILED_PRECONDITION',
      `${head}: S3 at ${endpoint}${what}: ${S3_ACCESS_FIXES[problem]}`,
      { ...details, problem, fix: S3_ACCESS_FIXES[problem] },
      { cause: err },
    );
  }
  const network = codes.find((code) => NETWORK_CODES.has(code));
  if (network !== undefined) {
    return fail(
      'UNAVAILABLE',
      `S3 endpoint ${endpoint} is unreachable (${network}); check that it is running and the endpoint setting`,
    );
  }
  const named = codes.map((code) => NAME_CODES[code]).find((code) => code !== undefined);
  const code = named ?? (status === 404 ? 'NOT_FOUND' : undefined);
  switch (code) {
    case 'NOT_FOUND':
      return fail('NOT_FOUND', 'it does not exist');
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
