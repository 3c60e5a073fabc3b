import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ArtifactEntry, ArtifactStore, RunInfo } from '@trestle/core';
import { isTrestleError, normalizeArtifactPath, TrestleError } from '@trestle/core';
import { mlflowNotFoundHandler, MlflowProtocolError } from './errors.js';
import { RequestMessage } from './request-message.js';
import type { MlflowContext, MlflowRoute } from './routes.js';
import { artifactContentType } from './content-type.js';
import type { ArtifactLocations, ArtifactPlace } from './artifact-locations.js';

/** MLflow's `FileInfo`; `file_size` is left out for directories. */
export interface MlflowFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** The message MLflow clients look for to fall back from multipart to a single PUT. */
const MULTIPART_UNSUPPORTED_MESSAGE = 'Multipart upload is not supported for the current artifact repository';

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function fileInfo(entry: ArtifactEntry, path: string): MlflowFileInfo {
  return { path, is_dir: entry.isDir, ...(entry.isDir || entry.size === undefined ? {} : { file_size: entry.size }) };
}

/**
 * A relative artifact path from a request field (already URL-decoded), checked with the artifact
 * store's own rules before anything is read or written: `..`, absolute paths, backslashes and
 * their percent-encoded forms are `INVALID_ARGUMENT`. `''` is the root when `allowRoot`.
 *
 * @example checkedArtifactPath('model/MLmodel') // 'model/MLmodel'
 */
export function checkedArtifactPath(path: string, options: { allowRoot?: boolean } = {}): string {
  try {
    return normalizeArtifactPath(path, { allowRoot: options.allowRoot === true });
  } catch (err) {
    // MLflow's `validate_path_is_safe` answers "Invalid path"; clients and its tests look for it.
    if (isTrestleError(err, 'INVALID_ARGUMENT')) {
      throw new TrestleError('INVALID_ARGUMENT', `Invalid path: ${err.message}`, err.details, { cause: err });
    }
    throw err;
  }
}

/**
 * The artifact store key named by the still percent-encoded tail of a proxied-artifact URL
 * (`/api/2.0/mlflow-artifacts/artifacts/<tail>`). Encoded separators (`%2F`, `%5C`) are refused
 * before decoding, so `a%2F..%2Fb` cannot turn into `a/../b`; the decoded path is then checked
 * like {@link checkedArtifactPath}.
 *
 * @example proxiedArtifactKey('1/4f2a/artifacts/my%20plot.png') // '1/4f2a/artifacts/my plot.png'
 * @example proxiedArtifactKey('1/%2e%2e/%2e%2e/etc/passwd')     // throws INVALID_ARGUMENT
 */
export function proxiedArtifactKey(encodedPath: string): string {
  const refuse = (why: string): never => {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `Invalid artifact path '${encodedPath}': ${why}; use a relative path such as '1/<run_id>/artifacts/model/MLmodel'.`,
      {
        path: encodedPath,
      },
    );
  };
  if (/%(2f|5c)/i.test(encodedPath)) refuse("percent-encoded '/' and '\\' are not allowed");
  let decoded = '';
  try {
    decoded = encodedPath.split('/').map(decodeURIComponent).join('/');
  } catch {
    refuse('it has a malformed percent-encoding');
  }
  return checkedArtifactPath(decoded);
}

// The raw (undecoded) request path after `<prefix>/<section>/`: the router decodes what it
// matches, and a decoded path can no longer tell `%2F` from `/`.
function encodedTail(request: FastifyRequest, base: string): string {
  const pathname = (request.raw.url ?? request.url).split('?')[0] ?? '';
  if (!pathname.startsWith(base)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `Invalid artifact URL '${pathname}': expected it to start with '${base}'.`,
    );
  }
  return pathname.slice(base.length);
}

function proxiedUrl(request: FastifyRequest, key: string): string {
  const encoded = key.split('/').map(encodeURIComponent).join('/');
  return `${request.protocol}://${request.host}/api/2.0/mlflow-artifacts/artifacts/${encoded}`;
}

/** Where a run's file (or folder) `path` is: the store and its key, from the run's `artifact_uri`. */
async function runFile(
  locations: ArtifactLocations,
  info: RunInfo,
  path: string,
): Promise<{ place: ArtifactPlace; key: string }> {
  const place = await locations.place(info.artifactUri);
  const key = [place.key, path].filter((part) => part !== '').join('/');
  return { place, key };
}

/** A proxied URL for a run's file; a run whose artifacts live outside the server's store has none. */
async function proxiedRunFile(locations: ArtifactLocations, info: RunInfo, path: string): Promise<string> {
  const { place, key } = await runFile(locations, info, path);
  if (!place.proxied) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `run '${info.runId}' keeps its artifacts at ${info.artifactUri} (its experiment's artifact_location), outside this server's proxied artifact store: read and write them there directly.`,
      { runId: info.runId, artifactUri: info.artifactUri },
    );
  }
  return key;
}

/**
 * Artifact RPCs of the tracking service (`/mlflow/artifacts/...`): `list` (a run's artifacts,
 * paths relative to the run's artifact root, `root_uri` in proxied form) and the presigned
 * upload/download URLs of recent MLflow clients, answered with this server's proxied
 * `/mlflow-artifacts` URL for the file.
 */
export const artifactRoutes: readonly MlflowRoute[] = [
  {
    methods: ['GET'],
    url: '/artifacts/list',
    handle: async (msg, { metadata, locations }) => {
      const runId = msg.runId();
      const path = checkedArtifactPath(msg.string('path') ?? '', { allowRoot: true });
      const { info } = await metadata.getRun(runId);
      const { place, key } = await runFile(locations, info, path);
      const entries = await place.store.list(key);
      const files = entries.map((e) => fileInfo(e, path === '' ? baseName(e.path) : `${path}/${baseName(e.path)}`));
      return { root_uri: locations.clientUri(info.artifactUri), ...(files.length > 0 ? { files } : {}) };
    },
  },
  {
    methods: ['POST'],
    url: '/artifacts/presigned-upload-url',
    handle: async (msg, { metadata, locations, request }) => {
      if (!msg.string('run_id') && msg.string('model_id')) {
        throw new MlflowProtocolError(
          'NOT_IMPLEMENTED',
          'Presigned URLs for MLflow 3 logged models are not supported; pass run_id.',
        );
      }
      const { info } = await metadata.getRun(msg.runId());
      const key = await proxiedRunFile(locations, info, checkedArtifactPath(msg.requiredString('path')));
      return { presigned_url: proxiedUrl(request, key) };
    },
  },
  {
    methods: ['POST'],
    url: '/artifacts/presigned-download-url',
    handle: async (msg, { metadata, artifacts, locations, request }) => {
      const { info } = await metadata.getRun(msg.runId());
      const key = await proxiedRunFile(locations, info, checkedArtifactPath(msg.requiredString('path')));
      const { size } = await artifacts.stat(key);
      return { presigned_url: proxiedUrl(request, key), file_size: size };
    },
  },
];

/**
 * MLflow's `GET /get-artifact?run_id=…&path=…` (the web UI's artifact viewer, served at the
 * root as MLflow serves it): one file of a run, with MLflow's Content-Type, as an attachment.
 */
export function getArtifactRoute(app: FastifyInstance, stores: MlflowContext): void {
  app.get('/get-artifact', { schema: { hide: true } }, async (request, reply) => {
    const msg = RequestMessage.fromQuery(request.query);
    const runId = msg.string('run_id') || msg.string('run_uuid');
    if (!runId) throw new TrestleError('INVALID_ARGUMENT', "Missing value for required parameter 'run_id'.");
    const path = checkedArtifactPath(msg.requiredString('path'));
    const { info } = await stores.metadata.getRun(runId);
    const { place, key } = await runFile(stores.locations, info, path);
    const stream = await place.store.get(key);
    const name = baseName(path);
    return reply
      .header('Content-Type', artifactContentType(name))
      .header('Content-Disposition', `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"`)
      .header('X-Content-Type-Options', 'nosniff')
      .send(stream);
  });
}

/** Options of {@link proxiedArtifactService}. */
export interface ProxiedArtifactServiceOptions {
  artifacts: ArtifactStore;
}

/**
 * MLflow's proxied artifact service (`mlflow_artifacts.proto`), registered under a prefix such
 * as `/api/2.0/mlflow-artifacts`: `GET|PUT|DELETE /artifacts/<path>` (download, upload,
 * delete) and `GET /artifacts?path=` (list one level; `files[].path` are base names, as in
 * MLflow). `<path>` is the artifact store key itself (`<exp>/<run>/artifacts/...`). Bodies are
 * never parsed or buffered: an upload streams from the socket into the store and a download
 * from the store to the socket. Multipart uploads answer `NOT_IMPLEMENTED` with the message
 * MLflow clients recognise, so they fall back to a single streamed PUT.
 */
export function proxiedArtifactService(app: FastifyInstance, options: ProxiedArtifactServiceOptions): Promise<void> {
  const { artifacts } = options;
  const filesBase = `${app.prefix}/artifacts/`;

  // Any content type (MLflow sends the file's guessed MIME type), passed through unread.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => {
    done(null, payload);
  });
  app.setNotFoundHandler(mlflowNotFoundHandler);

  const hidden = { schema: { hide: true } } as const;

  app.get('/artifacts', hidden, async (request) => {
    const path = RequestMessage.fromQuery(request.query).string('path') ?? '';
    const entries = await artifacts.list(checkedArtifactPath(path, { allowRoot: true }));
    const files = entries.map((e) => fileInfo(e, baseName(e.path)));
    return files.length > 0 ? { files } : {};
  });

  app.get('/artifacts/*', hidden, async (request, reply) => {
    const key = proxiedArtifactKey(encodedTail(request, filesBase));
    const stream = await artifacts.get(key);
    const name = baseName(key);
    const asciiName = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
    return reply
      .header('Content-Type', artifactContentType(name))
      .header(
        'Content-Disposition',
        `attachment; filename="${asciiName}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      )
      .header('X-Content-Type-Options', 'nosniff')
      .send(stream);
  });

  app.put('/artifacts/*', hidden, async (request) => {
    const key = proxiedArtifactKey(encodedTail(request, filesBase));
    await artifacts.put(key, (request.body as Readable | undefined) ?? new Uint8Array(0));
    return {};
  });

  app.delete('/artifacts/*', hidden, async (request) => {
    await artifacts.delete(proxiedArtifactKey(encodedTail(request, filesBase)));
    return {};
  });

  app.post('/mpu/*', hidden, () =>
    Promise.reject(new MlflowProtocolError('NOT_IMPLEMENTED', MULTIPART_UNSUPPORTED_MESSAGE)),
  );
  return Promise.resolve();
}
