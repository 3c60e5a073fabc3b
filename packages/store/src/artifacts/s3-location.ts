import { normalizeArtifactPath, TrestleError } from '@trestle/core';

/**
 * Static credentials for S3. Without them the AWS SDK's default chain is used
 * (environment variables, shared config files, instance roles…).
 *
 * @example
 * const credentials: S3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
 */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * How to reach S3 or an S3-compatible server (MinIO, R2, s3rver).
 *
 * @example
 * const connection: S3ConnectionOptions = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1' };
 */
export interface S3ConnectionOptions {
  /** Endpoint override such as `http://127.0.0.1:9000`; switches to path-style requests. Default: AWS. */
  endpoint?: string;
  /** Region; default `'us-east-1'`. */
  region?: string;
  /** Static credentials; default: the AWS SDK's default credential chain. */
  credentials?: S3Credentials;
  /** Attempts per request, first one included; default the SDK's (3). */
  maxAttempts?: number;
}

/**
 * Where an S3 artifact store lives: a bucket and a key prefix (no leading or trailing `/`,
 * `''` for the whole bucket).
 *
 * @example
 * parseS3Uri('s3://ml-artifacts/team-a/prod'); // { bucket: 'ml-artifacts', prefix: 'team-a/prod' }
 */
export interface S3Location {
  bucket: string;
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9._-]*[a-z0-9]$/;

/**
 * Parses `s3://bucket[/prefix]`. The prefix is checked like any artifact path, so it cannot
 * contain `..` or encoded separators; a malformed URI is `INVALID_ARGUMENT`. Does no I/O.
 *
 * @example
 * parseS3Uri('s3://bucket');            // { bucket: 'bucket', prefix: '' }
 * parseS3Uri('s3://bucket/a//b/');      // { bucket: 'bucket', prefix: 'a/b' }
 * parseS3Uri('s3://bucket/../x');       // throws INVALID_ARGUMENT
 */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/?#]*)(?:\/([^?#]*))?$/i.exec(uri);
  const bucket = match?.[1] ?? '';
  if (match === null || !BUCKET.test(bucket)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `invalid S3 artifact URI ${JSON.stringify(uri)}: expected s3://bucket/optional/prefix with a lower-case bucket name and no query or fragment`,
      { uri },
    );
  }
  let prefix: string;
  try {
    prefix = normalizeArtifactPath(match[2] ?? '', { allowRoot: true });
  } catch (err) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `invalid S3 artifact URI ${JSON.stringify(uri)}: ${err instanceof Error ? err.message : String(err)}`,
      { uri },
      { cause: err },
    );
  }
  return { bucket, prefix };
}

/**
 * The canonical URI of a location.
 *
 * @example
 * formatS3Uri({ bucket: 'b', prefix: 'a/b' }); // 's3://b/a/b'
 */
export function formatS3Uri(location: S3Location): string {
  return location.prefix === '' ? `s3://${location.bucket}` : `s3://${location.bucket}/${location.prefix}`;
}
