/**
 * The SDK against `trestle server --auth`: with an editor token (TRESTLE_TRACKING_TOKEN) a whole
 * run lands (params, metrics, an artifact, end); without one, or with a reader token, the first
 * call fails with a Trestle error whose code and message say what to do.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught } from './support/errors.js';
import { Trestle } from '../packages/client/src/index.js';

describe('the SDK against a server with access control', () => {
  let home: string;
  let stores: Stores;
  let server: RunningServer;
  let editor: string;
  let reader: string;
  const connect = (token?: string): Promise<Trestle> =>
    Trestle.connect({
      config: loadConfig(
        { trackingUri: server.url, home: join(home, 'client-never-used') },
        { ...(token === undefined ? {} : { TRESTLE_TRACKING_TOKEN: token }) },
      ),
    });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-sdk-auth-'));
    const config = loadConfig({ home: join(home, 'server') }, {});
    stores = await openStores(config);
    server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false, auth: true });
    editor = (await stores.metadata.tokens.createToken({ name: 'training', role: 'editor' })).token;
    reader = (await stores.metadata.tokens.createToken({ name: 'dashboards', role: 'reader' })).token;
  });

  afterAll(async () => {
    await server?.close();
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  it('logs a whole run with an editor token from TRESTLE_TRACKING_TOKEN', async () => {
    expect(server.bootstrapToken).toMatch(/^trestle_/);
    const trestle = await connect(editor);
    try {
      const run = await trestle.startRun({ experiment: 'guarded', name: 'with-token', params: { l2: 1 } });
      for (let step = 0; step < 50; step++) await run.logMetric('loss', 1 / (step + 1), step);
      await run.logText('notes.txt', 'uploaded through --auth');
      const ended = await run.end();
      expect(ended.info.status).toBe('FINISHED');
      const stored = await stores.metadata.getRun(run.id);
      expect(stored.data.params).toEqual([{ key: 'l2', value: '1' }]);
      expect((await stores.metadata.getMetricHistory(run.id, 'loss')).items).toHaveLength(50);
      expect((await stores.artifacts.stat(`${stored.info.experimentId}/${run.id}/artifacts/notes.txt`)).size).toBe(23);
    } finally {
      await trestle.close();
    }
  });

  it('fails with a clear UNAUTHENTICATED without a token, and PERMISSION_DENIED with a reader token', async () => {
    const anonymous = await connect();
    try {
      const err = await caught(anonymous.startRun({ experiment: 'guarded' }));
      expect(err.code).toBe('UNAUTHENTICATED');
      expect(err.message).toMatch(/requires an API token.*TRESTLE_TRACKING_TOKEN/);
    } finally {
      await anonymous.close();
    }
    const wrong = await connect(`trestle_${'x'.repeat(43)}`);
    try {
      expect((await caught(wrong.startRun({ experiment: 'guarded' }))).message).toMatch(
        /not valid \(unknown or revoked\)/,
      );
    } finally {
      await wrong.close();
    }
    const readOnly = await connect(reader);
    try {
      expect((await readOnly.backend.getExperimentByName('guarded')).name).toBe('guarded');
      const err = await caught(readOnly.startRun({ experiment: 'guarded' }));
      expect(err.code).toBe('PERMISSION_DENIED');
      expect(err.message).toMatch(/role reader, but POST \/api\/v1\/runs needs editor/);
    } finally {
      await readOnly.close();
    }
  });
});
