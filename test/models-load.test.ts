import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { Trestle } from '@trestle/client';
import { loadModel, trainModel, writeModelPackage } from '@trestle/models';
import { readTable } from '@trestle/tables';
import { connectRest } from '../packages/client/src/rest/index.js';
import { syntheticCsv } from '../packages/models/src/testing-data.js';
import { caught } from './support/errors.js';

describe('loadModel(runs:/…) from a run logged to a real store, embedded and over HTTP', () => {
  let home: string;
  let stores: Stores;
  let server: RunningServer;
  let embedded: Trestle;
  let overHttp: Trestle;
  let runId: string;
  let packageDir: string;
  const rows = [
    { distance: 1500, hour: 18, origin: 'ORD' },
    { distance: 300, hour: 6, origin: 'SEA' },
  ];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-models-load-'));
    const config = loadConfig({ home: join(home, 'store') }, {});
    stores = await openStores(config);
    embedded = new Trestle(stores.metadata, stores.artifacts, config);
    server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
    const { backend, artifacts } = connectRest({ trackingUri: server.url });
    overHttp = new Trestle(backend, artifacts, loadConfig({ trackingUri: server.url, home: join(home, 'unused') }, {}));

    const csv = join(home, 'train.csv');
    await writeFile(csv, syntheticCsv(2000));
    const trained = trainModel(await readTable(csv), undefined, { trainer: 'logistic', target: 'delayed' });
    const run = await embedded.startRun({ experiment: 'models-load', name: 'lr' });
    runId = run.id;
    packageDir = join(home, 'model');
    await writeModelPackage(packageDir, { ...trained.contents, run: { runId, artifactPath: 'model' } });
    await run.logArtifact(packageDir, 'model');
    await run.end();
  });

  afterAll(async () => {
    await overHttp?.close();
    await server?.close();
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  it('downloads the package through the embedded store and predicts like the folder', async () => {
    const local = await loadModel(packageDir);
    const expected = await local.predictRows(rows);
    const model = await loadModel(`runs:/${runId}/model`, { source: embedded });
    expect(model.manifest.run?.runId).toBe(runId);
    expect((await model.predictRows(rows)).outputs).toEqual(expected.outputs);
    const folder = model.path;
    await model.close();
    // The temporary download is gone after close().
    expect(existsSync(folder)).toBe(false);
  });

  it('downloads the package over HTTP from a running server', async () => {
    const expected = await (await loadModel(packageDir)).predictRows(rows);
    const downloadDir = join(home, 'download');
    const model = await loadModel(`runs:/${runId}/model`, { source: overHttp, downloadDir });
    expect(model.path).toBe(downloadDir);
    expect((await model.predictRows(rows)).outputs).toEqual(expected.outputs);
    await model.close();
  });

  it('says NOT_FOUND for an unknown run or a path without a model, and refuses malformed URIs', async () => {
    const noModel = await caught(loadModel(`runs:/${runId}/nothing-here`, { source: overHttp }));
    expect(noModel.code).toBe('NOT_FOUND');
    expect(noModel.message).toBe(
      `run ${runId} has no model under 'nothing-here' (see 'trestle runs show ${runId.slice(0, 8)}')`,
    );
    const noRun = await caught(loadModel(`runs:/${'f'.repeat(32)}/model`, { source: embedded }));
    expect(noRun.code).toBe('NOT_FOUND');
    const bad = await caught(loadModel('models:/flights/champion', { source: embedded }));
    expect(bad.message).toBe(
      "model URI 'models:/flights/champion' has version 'champion', which is not a number (for an alias write models:/flights@champion); use runs:/<run id>/<path>, models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/latest or a folder",
    );
    const unknown = await caught(loadModel('models:/no-such-model/latest', { source: embedded }));
    expect(unknown.code).toBe('NOT_FOUND');
  });
});
