import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArtifactStore } from '@trestle/core';
import { TrestleError } from '@trestle/core';
import { LocalArtifactStore } from './local-artifact-store.js';
import { parseS3Uri, type S3Credentials } from './s3-location.js';

/**
 * Settings of {@link openArtifactStore}; each adapter reads the ones it needs.
 *
 * @example
 * const options: OpenArtifactStoreOptions = { s3Endpoint: 'http://127.0.0.1:9000', s3Credentials: { accessKeyId, secretAccessKey } };
 */
export interface OpenArtifactStoreOptions {
  /** S3 endpoint override (MinIO, R2, s3rver…); switches to path-style requests. Default: AWS. */
  s3Endpoint?: string;
  /** S3 region; default `'us-east-1'`. */
  s3Region?: string;
  /** Static S3 credentials; default: the AWS SDK's default credential chain. */
  s3Credentials?: S3Credentials;
  /** Folder that relative local paths are resolved against; default `process.cwd()`. */
  cwd?: string;
}

type Opener = (uri: string, options: OpenArtifactStoreOptions) => Promise<ArtifactStore>;

function openLocal(uri: string, options: OpenArtifactStoreOptions): Promise<ArtifactStore> {
  let dir: string;
  if (/^file:/i.test(uri)) {
    try {
      dir = fileURLToPath(new URL(uri));
    } catch (err) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `invalid file artifact URI ${JSON.stringify(uri)}: ${err instanceof Error ? err.message : String(err)}; use file:///absolute/path or a plain path`,
        { uri },
        { cause: err },
      );
    }
  } else {
    dir = resolve(options.cwd ?? process.cwd(), uri);
  }
  return Promise.resolve(new LocalArtifactStore(dir));
}

async function openS3(uri: string, options: OpenArtifactStoreOptions): Promise<ArtifactStore> {
  // Check the URI before loading the SDK, so a typo costs nothing.
  const location = parseS3Uri(uri);
  // Loaded here, on first use, so that local-only programs never load the AWS SDK.
  const { S3ArtifactStore } = await import('./s3-artifact-store.js');
  return new S3ArtifactStore(location, {
    ...(options.s3Endpoint === undefined ? {} : { endpoint: options.s3Endpoint }),
    ...(options.s3Region === undefined ? {} : { region: options.s3Region }),
    ...(options.s3Credentials === undefined ? {} : { credentials: options.s3Credentials }),
  });
}

/** URI scheme (without `:`) → adapter. A plain path is `file`. */
const OPENERS: Readonly<Record<string, Opener>> = {
  file: openLocal,
  s3: openS3,
};

/** The URI schemes {@link openArtifactStore} accepts. */
export const ARTIFACT_STORE_SCHEMES: readonly string[] = Object.keys(OPENERS);

/**
 * Opens the artifact store a URI names, loading its adapter only then: a plain path or a
 * `file://` URL is a local folder, `s3://bucket/prefix` is S3 (the AWS SDK is imported on
 * this first use, never by local users). Does no I/O beyond loading code: the local folder
 * is created on the first write, the S3 client connects on the first request. An unknown
 * scheme is `INVALID_ARGUMENT` naming the supported ones. A one-letter scheme is taken for
 * a Windows drive (`C:\artifacts`).
 *
 * @example
 * const local = await openArtifactStore('.trestle/artifacts', { cwd: projectDir });
 * const s3 = await openArtifactStore('s3://ml-artifacts/team-a', { s3Endpoint: 'http://127.0.0.1:9000' });
 */
export async function openArtifactStore(uri: string, options: OpenArtifactStoreOptions = {}): Promise<ArtifactStore> {
  if (typeof uri !== 'string' || uri.trim() === '') {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      'artifact store URI is empty; use a folder path, file:///path or s3://bucket/prefix',
    );
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(uri)?.[1]?.toLowerCase() ?? 'file';
  const opener = OPENERS[scheme];
  if (opener === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `unsupported artifact store URI scheme '${scheme}:' in ${JSON.stringify(uri)}; supported: a folder path or file:///path, s3://bucket/prefix`,
      { uri, scheme, supported: [...ARTIFACT_STORE_SCHEMES] },
    );
  }
  return opener(uri, options);
}
