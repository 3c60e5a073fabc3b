/**
 * The REST adapters against a real `trestle server` app listening on a free port, on a fresh
 * SQLite store: `RestBackend` passes the tracking contract the stores pass; `RestArtifactStore`
 * is checked here on what the artifact contract found (the contract itself writes keys outside
 * a run's artifact folder, which a REST key cannot name).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { startServer } from '@trestle/server';
import { openStores } from '@trestle/store';
import { trackingBackendContract } from '@trestle/store/testing';
import { describe, expect, it } from 'vitest';
import { connectRest } from '../packages/client/src/rest/index.js';

/** A server on its own SQLite store and artifact folder, and the REST client of it. */
async function restServer(): Promise<{ rest: ReturnType<typeof connectRest>; close: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'trestle-rest-contract-'));
  const config = loadConfig({ home }, {});
  const stores = await openStores(config);
  const server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
  const rest = connectRest({ trackingUri: server.url, retry: { attempts: 2, baseDelayMs: 10 } });
  return {
    rest,
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
