import { PassThrough, Readable } from 'node:stream';
import { normalizeArtifactPath, TrestleError, runArtifactKey, type Run } from '@trestle/core';
import {
  ArtifactInfo,
  ArtifactList,
  ArtifactListQuery,
  CHECKSUM_HEADER,
  doneResponses,
  errorResponses,
  RunIdParams as ByRun,
} from '@trestle/core/rest';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RoutePlugin } from '../route-types.js';

const tags = ['artifacts'];
// The wildcard (`*`) is read by `wildcard()`, not declared: TypeBox's Value.Convert treats
// property names as patterns and fails on `*`. The OpenAPI document names it `path` (openapi.ts).
const Bytes = {
  description: 'the file, streamed',
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  headers: { 'x-checksum-sha256': { description: 'hex SHA-256 of the content', schema: { type: 'string' } } },
} as const;

/**
 * The files of a run, streamed in both directions and never held whole in memory:
 * `PUT …/artifacts/*` takes the raw body (any Content-Type, no size limit),
 * `GET …/artifacts/*` streams the bytes with Content-Length and `X-Checksum-Sha256`,
 * `GET …/artifacts?path=dir` lists a folder and `DELETE …/artifacts/*` removes a file or
 * folder. Paths are checked before anything is
 * read or written: `..`, absolute paths, backslashes and their percent-encoded forms are
 * INVALID_ARGUMENT (400). Writes need an active (not deleted) run. Registered under `/api/v1`.
 */
export const artifactRoutes: RoutePlugin = (app, { stores }, done) => {
  const { metadata, artifacts } = stores;

  // Uploads are files, whatever their Content-Type says: hand the body over unread.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/octet-stream', '*'], (_request, payload, parsed) => parsed(null, payload));

  async function runFor(runId: string, write: boolean): Promise<Run> {
    const run = await metadata.getRun(runId);
    if (write && run.info.lifecycleStage === 'deleted') {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `run ${runId} is deleted; restore it (POST /api/v1/runs/${runId}/restore) before changing its artifacts`,
        { runId },
      );
    }
    return run;
  }

  app.put(
    '/runs/:runId/artifacts/*',
    {
      bodyLimit: Number.MAX_SAFE_INTEGER,
      schema: {
        tags,
        summary: 'Upload a file (raw body, streamed)',
        description:
          'Send the bytes as the body with any Content-Type (application/octet-stream is usual). Replaces an existing file atomically. ' +
          'With an X-Checksum-Sha256 header (hex SHA-256 of the bytes), content that does not match is refused with 400 and the old file stays.',
        params: ByRun,
        response: { 200: ArtifactInfo, ...errorResponses },
      },
    },
    async (request, reply) => {
      try {
        const path = normalizeArtifactPath(wildcard(request));
        const run = await runFor(request.params.runId, true);
        const body = request.body instanceof Readable ? detached(request.body) : new Uint8Array();
        const sha256 = request.headers[CHECKSUM_HEADER];
        const info = await artifacts.put(
          runArtifactKey(run.info, path),
          body,
          typeof sha256 === 'string' ? { sha256: sha256.trim() } : {},
        );
        return { path, size: info.size, sha256: info.sha256 };
      } catch (err) {
        throw refuseUpload(request, reply, err);
      }
    },
  );

  app.get(
    '/runs/:runId/artifacts/*',
    {
      schema: {
        tags,
        summary: 'Download a file (streamed)',
        params: ByRun,
        response: { 200: Bytes, ...errorResponses },
      },
    },
    async (request, reply) => {
      const path = normalizeArtifactPath(wildcard(request));
      const key = runArtifactKey((await runFor(request.params.runId, false)).info, path);
      const info = await artifacts.stat(key);
      const stream = await artifacts.get(key);
      return (
        reply
          .type('application/octet-stream')
          .header('content-length', info.size)
          .header(CHECKSUM_HEADER, info.sha256)
          // Fastify pipes streams as they are; the response schema only documents the bytes.
          .send(stream as never)
      );
    },
  );

  app.get(
    '/runs/:runId/artifacts',
    {
      schema: {
        tags,
        summary: "List a folder of the run's artifacts",
        params: ByRun,
        querystring: ArtifactListQuery,
        response: { 200: ArtifactList, ...errorResponses },
      },
    },
    async (request) => {
      const dir = normalizeArtifactPath(request.query.path ?? '', { allowRoot: true });
      const run = await runFor(request.params.runId, false);
      const root = `${runArtifactKey(run.info, '')}/`;
      const entries = await artifacts.list(runArtifactKey(run.info, dir));
      return {
        items: entries.map((e) => ({ ...e, path: e.path.startsWith(root) ? e.path.slice(root.length) : e.path })),
      };
    },
  );

  app.delete(
    '/runs/:runId/artifacts/*',
    {
      schema: {
        tags,
        summary: 'Delete a file or a folder',
        params: ByRun,
        response: doneResponses,
      },
    },
    async (request, reply) => {
      const path = normalizeArtifactPath(wildcard(request));
      const run = await runFor(request.params.runId, true);
      await artifacts.delete(runArtifactKey(run.info, path));
      return reply.status(204).send(null);
    },
  );

  done();
};

// An upload refused before its body was read: close the connection rather than read on
// (the body may be gigabytes). One cut off by the client is reported as such, not as a 500.
function refuseUpload(request: FastifyRequest, reply: FastifyReply, err: unknown): unknown {
  if (request.raw.complete) return err;
  void reply.header('connection', 'close');
  if ((err as { code?: unknown } | null)?.code === 'ECONNRESET') {
    return new TrestleError(
      'INVALID_ARGUMENT',
      'the upload ended before the whole body arrived; send it again',
      {},
      { cause: err },
    );
  }
  return err;
}

// The upload as a stream of its own: a store destroys a body it refuses before reading it
// (a checksum that is not one), and destroying the request itself would close the socket
// before the 400 is sent, so the client saw the connection drop instead of the refusal.
// A failure of the request (the client cutting the upload off) still reaches the store.
function detached(source: Readable): Readable {
  const body = new PassThrough();
  source.once('error', (err) => body.destroy(err));
  return source.pipe(body);
}

// The part of the URL matched by `*`, decoded by the router.
function wildcard(request: FastifyRequest): string {
  return (request.params as Record<string, string | undefined>)['*'] ?? '';
}
