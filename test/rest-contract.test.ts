/**
 * The REST adapters against a real `trestle server` app listening on a free port, on a fresh
 * SQLite store: `RestBackend` passes the tracking contract the stores pass, and the artifacts
 * of a run over REST (`RestRunArtifactStore`, which `RestArtifactStore` delegates to) pass the
 * artifact contract the folder and S3 pass, with the server's own store a folder; only
 * deleting the whole root is skipped (the server does not offer it).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig } from '@trestle/core';
import { startServer } from '@trestle/server';
import { openStores } from '@trestle/store';
import { artifactStoreContract, trackingBackendContract } from '@trestle/store/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRest } from '../packages/client/src/rest/index.js';

interface RestServer {
  rest: ReturnType<typeof connectRest>;
  /** The server's artifact folder. */
  artifactsDir: string;
  close: () => Promise<void>;
}

/** A server on its own SQLite store and artifact folder, and the REST client of it. */
async function restServer(): Promise<RestServer> {
  const home = await mkdtemp(join(tmpdir(), 'trestle-rest-contract-'));
  const config = loadConfig({ home }, {});
  const stores = await openStores(config);
  const server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
  const rest = connectRest({ trackingUri: server.url, retry: { attempts: 2, baseDelayMs: 10 } });
  return {
    rest,
    artifactsDir: config.artifacts,
    async close() {
      await rest.backend.close();
      await server.close();
      await Promise.all([stores.metadata.close(), stores.artifacts.close()]);
      await rm(home, { recursive: true, force: true });
    },
  };
}

trackingBackendContract('rest', async () => {
  const { rest, close } = await restServer();
  return { backend: rest.backend, cleanup: close };
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

// One server for the whole contract, a fresh run (an empty artifact folder) for every test.
let shared: Promise<RestServer> | undefined;
afterAll(async () => {
  await (await shared)?.close();
});

artifactStoreContract('rest (run artifacts, server on a folder)', async () => {
  shared ??= restServer().then(async (server) => {
    await mkdir(server.artifactsDir, { recursive: true });
    await writeFile(join(server.artifactsDir, 'neighbour.txt'), 'outside the run');
    return server;
  });
  const { rest, artifactsDir } = await shared;
  const run = await rest.backend.createRun({ experimentId: '0' });
  const store = rest.runArtifacts(run.info.runId);
  const runDir = `0/${run.info.runId}/artifacts/`;
  return {
    store,
    cleanup: async () => {
      for (const entry of await store.list('')) await store.delete(entry.path);
    },
    unsupported: {
      deleteRoot:
        "DELETE /api/v1/runs/<id>/artifacts/ names no file, and the server refuses it (400) rather than wipe a run's artifacts on an empty path",
    },
    // The run's folder, and the server store's own records of its files (their checksums).
    outside: async () =>
      (await filesUnder(artifactsDir)).filter(
        (path) => !path.startsWith(runDir) && !path.startsWith(`.trestle-meta/sha256/${runDir}`),
      ),
  };
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
