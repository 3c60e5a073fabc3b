/**
 * The REST adapters against a real `trestle server` app listening on a free port, on a fresh
 * SQLite store: `RestBackend` passes the tracking contract the stores pass, and the artifacts
 * of a run over REST (`RestRunArtifactStore`, which `RestArtifactStore` delegates to) pass the
 * artifact contract the folder and S3 pass, with the server's own store a folder and then
 * S3 (s3rver); only deleting the whole root is skipped (the server does not offer it).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig, type TrestleConfig } from '@trestle/core';
import { startServer } from '@trestle/server';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { openArtifactStore, openMetadataStore, openStores, type Stores } from '@trestle/store';
import {
  artifactStoreContract,
  S3RVER_CREDENTIALS,
  startS3rver,
  trackingBackendContract,
  type ArtifactStoreFixture,
} from '@trestle/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRest } from '../packages/client/src/rest/index.js';

interface RestServer {
  rest: ReturnType<typeof connectRest>;
  /** The server's artifact folder. */
  artifactsDir: string;
  close: () => Promise<void>;
}

/**
 * `trestle server` on `stores` at a free port and the REST client of it; `close` stops both,
 * closes the stores, then runs `after` (what the caller set up around them).
 */
async function serve(config: TrestleConfig, stores: Stores, after: () => Promise<void>): Promise<RestServer> {
  const server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
  const rest = connectRest({ trackingUri: server.url, retry: { attempts: 2, baseDelayMs: 10 } });
  return {
    rest,
    artifactsDir: config.artifacts,
    async close() {
      await rest.backend.close();
      await server.close();
      await Promise.all([stores.metadata.close(), stores.artifacts.close()]);
      await after();
    },
  };
}

/** A server on its own SQLite store and artifact folder, and the REST client of it. */
async function restServer(): Promise<RestServer> {
  const home = await mkdtemp(join(tmpdir(), 'trestle-rest-contract-'));
  const config = loadConfig({ home }, {});
  return serve(config, await openStores(config), () => rm(home, { recursive: true, force: true }));
}

trackingBackendContract('rest', async () => {
  const { rest, close } = await restServer();
  return { backend: rest.backend, cleanup: close };
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** A server on its own SQLite store whose artifact store is S3 (s3rver), and the REST client of it. */
async function restServerOnS3(): Promise<RestServer & { keys: () => Promise<string[]> }> {
  const s3 = await startS3rver();
  const raw = new S3Client({
    endpoint: s3.endpoint,
    credentials: S3RVER_CREDENTIALS,
    region: 'us-east-1',
    forcePathStyle: true,
  });
  const bucket = 'rest-contract';
  await raw.send(new CreateBucketCommand({ Bucket: bucket }));
  const home = await mkdtemp(join(tmpdir(), 'trestle-rest-contract-s3-'));
  const config = loadConfig({ home, artifacts: `s3://${bucket}/server`, s3Endpoint: s3.endpoint }, {});
  const artifacts = await openArtifactStore(config.artifacts, {
    s3Endpoint: s3.endpoint,
    s3Credentials: S3RVER_CREDENTIALS,
  });
  const metadata = await openMetadataStore(config.db, { artifactRoot: config.artifacts });
  const server = await serve(config, { metadata, artifacts }, async () => {
    raw.destroy();
    await s3.stop();
    await rm(home, { recursive: true, force: true });
  });
  return {
    ...server,
    async keys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return keys;
    },
  };
}

const DELETE_ROOT_GAP =
  "DELETE /api/v1/runs/<id>/artifacts/ names no file, and the server refuses it (400) rather than wipe a run's artifacts on an empty path";

/** A fresh run's artifacts over REST: the store the contract tests, emptied file by file after. */
async function runArtifactsFixture(
  server: RestServer,
  outside: (runDir: string) => Promise<string[]>,
): Promise<ArtifactStoreFixture> {
  const run = await server.rest.backend.createRun({ experimentId: '0' });
  const store = server.rest.runArtifacts(run.info.runId);
  const runDir = `0/${run.info.runId}/artifacts/`;
  return {
    store,
    cleanup: async () => {
      for (const entry of await store.list('')) await store.delete(entry.path);
    },
    outside: () => outside(runDir),
    unsupported: { deleteRoot: DELETE_ROOT_GAP },
  };
}

// One server for each contract, a fresh run (an empty artifact folder) for every test.
let onFolder: Promise<RestServer> | undefined;
let onS3: ReturnType<typeof restServerOnS3> | undefined;
afterAll(async () => {
  await Promise.all([onFolder, onS3].map(async (server) => (await server)?.close()));
});

artifactStoreContract('rest (run artifacts, server on a folder)', async () => {
  onFolder ??= restServer().then(async (server) => {
    await mkdir(server.artifactsDir, { recursive: true });
    await writeFile(join(server.artifactsDir, 'neighbour.txt'), 'outside the run');
    return server;
  });
  const server = await onFolder;
  // Outside: all but the run's folder and the server store's own records of its files (their checksums).
  return runArtifactsFixture(server, async (runDir) =>
    (await filesUnder(server.artifactsDir)).filter(
      (path) => !path.startsWith(runDir) && !path.startsWith(`.trestle-meta/sha256/${runDir}`),
    ),
  );
});

artifactStoreContract('rest (run artifacts, server on S3)', async () => {
  onS3 ??= restServerOnS3();
  const server = await onS3;
  return runArtifactsFixture(server, async (runDir) =>
    (await server.keys()).filter(
      (key) => !key.startsWith(`server/${runDir}`) && !key.startsWith(`server/.trestle-meta/sha256/${runDir}`),
    ),
  );
});

describe('RestArtifactStore against a real server', () => {
  it('accepts an expected checksum written in upper case (hex has no case)', async () => {
    const { rest, close } = await restServer();
    try {
      const run = await rest.backend.createRun({ experimentId: '0' });
      const sum = createHash('sha256').update('weights').digest('hex');
      const key = `0/${run.info.runId}/artifacts/model/weights.txt`;
      const info = await rest.artifacts.put(key, 'weights', { sha256: sum.toUpperCase() });
      expect(info).toEqual({ path: key, size: 7, sha256: sum });
    } finally {
      await close();
    }
  });
});
