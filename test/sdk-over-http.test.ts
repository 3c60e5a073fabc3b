import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { loadConfig, TrestleError, type TrestleConfig } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { pseudoRandomChunks } from '@trestle/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught } from './support/errors.js';
import { runArtifactKey, Trestle } from '../packages/client/src/index.js';
import { connectRest } from '../packages/client/src/rest/index.js';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('the SDK over HTTP against a real Trestle server', () => {
  let home: string;
  let stores: Stores;
  let server: RunningServer;
  let trestle: Trestle;
  let clientConfig: TrestleConfig;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-sdk-http-'));
    stores = await openStores(loadConfig({ home: join(home, 'server') }, {}));
    server = await startServer({
      config: loadConfig({ home: join(home, 'server') }, {}),
      stores,
      port: 0,
      logger: false,
      handleSignals: false,
    });
    clientConfig = loadConfig({ trackingUri: server.url, home: join(home, 'never-used') }, {});
    const { backend, artifacts } = connectRest({ trackingUri: server.url, retry: { attempts: 3, baseDelayMs: 20 } });
    trestle = new Trestle(backend, artifacts, clientConfig, { batchSize: 1000, flushIntervalMs: 200 });
  });

  afterAll(async () => {
    await trestle?.close();
    await server?.close();
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  it('runs the embedded scenario: params, tags, 5,000 metric points, a dataset, a multi-MB artifact, end', async () => {
    const artifactFile = join(home, 'weights.bin');
    await pipeline(Readable.from(pseudoRandomChunks(6 * MiB + 123)), createWriteStream(artifactFile));
    const fileBytes = await readFile(artifactFile);

    const run = await trestle.startRun({
      experiment: 'flights over http',
      name: 'lr-l2',
      params: { l2: 0.1, solver: 'lbfgs', standardize: true },
      tags: { team: 'ops' },
    });
    for (let step = 0; step < 5000; step++) await run.logMetric('loss', 1 / (step + 1), step);
    await run.logMetrics({ 'val/auc': 0.91, weird: NaN }, 0);
    await run.logMetric('weird', Infinity, 1);
    await run.logInput({
      name: 'flights-2001-01',
      digest: 'd41d8cd98f00',
      source: 'file:///data/flights-3m.parquet',
      context: 'training',
    });
    const [uploaded] = await run.logArtifact(artifactFile, 'model');
    await run.logText('model/model.json', '{"w":[1,2,3]}');
    await run.logText('plots/roc curve #1.txt', 'auc=0.91');
    const ended = await run.end();

    const runId = run.id;
    expect(ended.info.status).toBe('FINISHED');
    expect(ended.data.metrics.find((m) => m.key === 'weird')?.value).toBe(Infinity);

    // What landed, read straight from the server's stores.
    const stored = await stores.metadata.getRun(runId);
    expect(stored.info).toMatchObject({ status: 'FINISHED', runName: 'lr-l2' });
    expect(stored.info.endTime).not.toBeNull();
    expect(stored.data.params).toEqual(
      expect.arrayContaining([
        { key: 'l2', value: '0.1' },
        { key: 'solver', value: 'lbfgs' },
        { key: 'standardize', value: 'true' },
      ]),
    );
    expect(stored.data.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'ops' }]));
    expect(stored.inputs.datasetInputs).toEqual([
      {
        dataset: expect.objectContaining({ name: 'flights-2001-01', digest: 'd41d8cd98f00', sourceType: 'local' }),
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
      },
    ]);
    const history = await stores.metadata.getMetricHistory(runId, 'loss');
    expect(history.items).toHaveLength(5000);
    expect(history.items.map((m) => m.step)).toEqual([...Array(5000).keys()]);
    expect(history.items[4999]?.value).toBeCloseTo(1 / 5000, 12);
    const weird = await stores.metadata.getMetricHistory(runId, 'weird');
    expect(weird.items.map((m) => m.value)).toEqual([NaN, Infinity]);

    const key = runArtifactKey(ended.info, 'model/weights.bin');
    expect(uploaded).toEqual({ path: key, size: fileBytes.length, sha256: sha256(fileBytes) });
    expect(sha256(await buffer(await stores.artifacts.get(key)))).toBe(sha256(fileBytes));
    expect(await stores.artifacts.stat(key)).toMatchObject({ size: fileBytes.length, sha256: sha256(fileBytes) });

    // And read back over HTTP: history pages, stat, download and listing.
    const page = await trestle.backend.getMetricHistory(runId, 'loss', { maxResults: 2000 });
    expect(page.items).toHaveLength(2000);
    const next = await trestle.backend.getMetricHistory(runId, 'loss', {
      maxResults: 2000,
      pageToken: page.nextPageToken!,
    });
    expect(next.items[0]?.step).toBe(2000);
    const chart = await trestle.backend.getMetricHistoryDownsampled(runId, 'loss', { points: 100 });
    expect(chart.length).toBeGreaterThan(0);
    expect(chart.length).toBeLessThan(500);
    expect((await trestle.backend.getMetricHistory(runId, 'val/auc')).items.map((m) => m.value)).toEqual([0.91]);
    expect(await trestle.artifacts.stat(key)).toEqual({ path: key, size: fileBytes.length, sha256: sha256(fileBytes) });
    expect(sha256(await buffer(await trestle.artifacts.get(key)))).toBe(sha256(fileBytes));
    expect(
      (await buffer(await stores.artifacts.get(runArtifactKey(ended.info, 'plots/roc curve #1.txt')))).toString(),
    ).toBe('auc=0.91');
    expect(await trestle.artifacts.list(runArtifactKey(ended.info, 'model'))).toEqual([
      { path: runArtifactKey(ended.info, 'model/model.json'), isDir: false, size: 13 },
      { path: key, isDir: false, size: fileBytes.length },
    ]);
  });

  it('brings errors across the wire with their codes', async () => {
    const run = await trestle.startRun({ experiment: 'errors', params: { l2: 0.1 } });
    await run.logParams({ l2: 0.1 }); // the same value again is fine
    const conflict = await caught(run.logParams({ l2: 0.2 }));
    expect(conflict).toBeInstanceOf(TrestleError);
    expect(conflict.code).toBe('CONFLICT');
    expect(conflict.message).toMatch(/l2/);
    await run.end();

    const missing = '0'.repeat(32);
    const notFound = await caught(trestle.backend.getRun(missing));
    expect(notFound.code).toBe('NOT_FOUND');
    expect(notFound.message).toContain(missing);
    expect((await caught(trestle.backend.getExperimentByName('no such experiment'))).code).toBe('NOT_FOUND');
    expect((await caught(trestle.artifacts.get(runArtifactKey(run.run.info, 'nope.txt')))).code).toBe('NOT_FOUND');
    expect((await caught(trestle.backend.createExperiment({ name: 'errors' }))).code).toBe('ALREADY_EXISTS');
    // The server refuses an upload to a missing run before reading its body: still NOT_FOUND, not a broken connection.
    const upload = await caught(
      trestle.artifacts.put(`0/${missing}/artifacts/big.bin`, Readable.from(pseudoRandomChunks(16 * MiB, 7))),
    );
    expect(upload.code).toBe('NOT_FOUND');
    const badFilter = await caught(trestle.backend.searchRuns({ experimentIds: ['0'], filter: 'metrics.auc >' }));
    expect(badFilter.code).toBe('INVALID_ARGUMENT');
  });

  it('searches runs with an OR filter, and experiments by name and tags', async () => {
    const exp = await trestle.experiment('search/over http #1');
    const made: Record<string, string> = {};
    for (const [name, auc, solver] of [
      ['a', 0.95, 'lbfgs'],
      ['b', 0.6, 'sgd'],
      ['c', 0.5, 'lbfgs'],
    ] as const) {
      const run = await trestle.startRun({ experiment: exp.name, name, params: { solver } });
      await run.logMetric('auc', auc);
      await run.end();
      made[name] = run.id;
    }
    const found = await trestle.backend.searchRuns({
      experimentIds: [exp.experimentId],
      filter: "metrics.auc > 0.9 OR params.solver = 'sgd'",
      orderBy: ['metrics.auc DESC'],
    });
    expect(found.items.map((r) => r.info.runName)).toEqual(['a', 'b']);
    const paged = await trestle.backend.searchRuns({ experimentIds: [exp.experimentId], maxResults: 2 });
    expect(paged.items).toHaveLength(2);
    expect(paged.nextPageToken).toBeDefined();

    expect((await trestle.backend.getExperimentByName('search/over http #1')).experimentId).toBe(exp.experimentId);
    await trestle.backend.setExperimentTag(exp.experimentId, 'owner/team', 'risk & ops');
    const exps = await trestle.backend.searchExperiments({
      filter: "name LIKE 'search/%' OR tags.`owner/team` = 'nobody'",
      orderBy: ['name ASC'],
    });
    expect(exps.items.map((e) => e.name)).toEqual(['search/over http #1']);
    expect(exps.items[0]?.tags).toEqual(expect.arrayContaining([{ key: 'owner/team', value: 'risk & ops' }]));
    await trestle.backend.deleteExperimentTag(exp.experimentId, 'owner/team');
    expect((await trestle.backend.getExperiment(exp.experimentId)).tags).not.toContainEqual({
      key: 'owner/team',
      value: 'risk & ops',
    });
  });

  it('keeps every metric point through a short server outage in the middle of a run', async () => {
    const refused: string[] = [];
    const watched: typeof fetch = async (input, init) => {
      try {
        return await fetch(input, init);
      } catch (err) {
        refused.push(String((err as { cause?: { code?: unknown } }).cause?.code));
        throw err;
      }
    };
    const { backend, artifacts } = connectRest({
      trackingUri: server.url,
      fetch: watched,
      retry: { attempts: 40, baseDelayMs: 25, maxDelayMs: 200 },
    });
    const sdk = new Trestle(backend, artifacts, clientConfig, { batchSize: 250, flushIntervalMs: 50 });
    const run = await sdk.startRun({ experiment: 'outage' });
    for (let step = 0; step < 1000; step++) await run.logMetric('loss', step, step);
    await run.flush();

    // Stop the server, keep logging into the buffer, bring a new server up on the same port.
    const port = Number(new URL(server.url).port);
    await server.close();
    for (let step = 1000; step < 2000; step++) await run.logMetric('loss', step, step);
    await new Promise((r) => setTimeout(r, 300));
    server = await startServer({
      config: loadConfig({ home: join(home, 'server') }, {}),
      stores,
      port,
      logger: false,
      handleSignals: false,
    });
    for (let step = 2000; step < 3000; step++) await run.logMetric('loss', step, step);
    const ended = await run.end();
    expect(ended.info.status).toBe('FINISHED');

    const history = await stores.metadata.getMetricHistory(run.id, 'loss');
    expect(history.items.map((m) => m.step)).toEqual([...Array(3000).keys()]);
    // The outage was real: writes were refused (or met a keep-alive socket the old server had
    // closed) and were retried until the new server answered, with no point written twice.
    expect(refused).toContain('ECONNREFUSED');
    for (const code of refused) expect(['ECONNREFUSED', 'UND_ERR_SOCKET', 'ECONNRESET']).toContain(code);
    await sdk.close();
  });
});
