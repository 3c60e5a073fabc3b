import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveModel, type ServedModel } from './serve-model.js';
import { importModels } from './models-module.js';
import { modelsAvailable, writeTestPackage } from './testing/model-package.js';

let dir: string;
let served: ServedModel;
const rows = [
  { distance: 1200, hour: 18, origin: 'ORD' },
  { distance: 300, hour: 6, origin: 'SFO' },
];

beforeAll(async () => {
  if (!available) return;
  dir = await writeTestPackage();
  const home = await mkdtemp(join(tmpdir(), 'serving-home-'));
  served = await serveModel({ uri: dir, config: loadConfig({}, { TRESTLE_HOME: home }), port: 0, controlPlane: false });
});
afterAll(async () => {
  await served?.close();
});

const available = await modelsAvailable();
if (!available) console.warn('skipping: @trestle/models (the model loader) is not in this tree yet');

describe.skipIf(!available)('serving a real model package', () => {
  it('answers every protocol with the predictions loadModel gives', async () => {
    const { loadModel } = (await importModels()) as unknown as {
      loadModel: (uri: string) => Promise<{
        predictRows: (r: unknown[]) => Promise<{ outputs: Record<string, unknown> }>;
        close: () => Promise<void>;
      }>;
    };
    const model = await loadModel(dir);
    const want = await model.predictRows(rows);
    await model.close();
    const url = served.running.url;
    const predict = (await (await fetch(url + '/predict', { method: 'POST', body: JSON.stringify(rows) })).json()) as {
      predictions: Record<string, unknown>[];
    };
    const probability = Array.from(want.outputs['probability'] as Float64Array);
    expect(predict.predictions.map((p) => p['probability'])).toEqual(probability);
    expect(predict.predictions.map((p) => p['label'])).toEqual(want.outputs['label']);
    const mlflow = (await (
      await fetch(url + '/invocations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_records: rows }),
      })
    ).json()) as { predictions: { probability: number }[] };
    expect(mlflow.predictions.map((p) => p.probability)).toEqual(probability);
    const v2 = (await (
      await fetch(url + '/v2/models/flights-model/infer', {
        method: 'POST',
        body: JSON.stringify({
          inputs: [
            { name: 'distance', shape: [2], datatype: 'FP64', data: [1200, 300] },
            { name: 'hour', shape: [2], datatype: 'INT64', data: [18, 6] },
            { name: 'origin', shape: [2], datatype: 'BYTES', data: ['ORD', 'SFO'] },
          ],
        }),
      })
    ).json()) as { outputs: { name: string; data: unknown[] }[] };
    expect(v2.outputs.find((o) => o.name === 'probability')!.data).toEqual(probability);
  });

  it('validates against the package signature', async () => {
    const res = await fetch(served.running.url + '/predict', {
      method: 'POST',
      body: JSON.stringify([rows[0], { ...rows[1], hour: 'late' }]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/column 'hour' row 1/);
  });

  it('keeps window summaries on the package reference profile', () => {
    const w = served.running.router.champion.takeWindow();
    expect(w?.summary.rows).toBeGreaterThanOrEqual(2);
    expect(w?.summary.features.map((f) => f.name).sort()).toEqual(['distance', 'hour', 'origin']);
  });

  it('serves the onnx flavor with the same predictions to 1e-5', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'trestle-model.json'), 'utf8')) as {
      flavors: Record<string, unknown>;
    };
    if (manifest.flavors['onnx'] === undefined) {
      console.warn(
        'skipping the onnx serving check: the logistic package written by @trestle/models has no onnx flavor yet',
      );
      return;
    }
    const onnx = await serveModel({
      uri: dir,
      config: loadConfig({}, {}),
      port: 0,
      controlPlane: false,
      flavor: 'onnx',
    });
    try {
      const body = JSON.stringify(rows);
      const a = (await (await fetch(served.running.url + '/predict', { method: 'POST', body })).json()) as {
        predictions: { probability: number }[];
      };
      const b = (await (await fetch(onnx.running.url + '/predict', { method: 'POST', body })).json()) as {
        predictions: { probability: number }[];
      };
      expect(onnx.running.router.champion.predictor.platform).toBe('onnx');
      b.predictions.forEach((p, i) => expect(p.probability).toBeCloseTo(a.predictions[i]!.probability, 5));
    } finally {
      await onnx.close();
    }
  });
});

describe.skipIf(!available)('the inference log spool of a worker', () => {
  it('is a folder of its own (spoolSuffix), filled while the control plane is away', async () => {
    const home = await mkdtemp(join(tmpdir(), 'serving-spool-'));
    const worker = await serveModel({
      uri: dir,
      config: loadConfig({}, { TRESTLE_HOME: home }),
      port: 0,
      // Nothing listens on port 9 (discard): shipping fails at once, so the records are spooled.
      controlPlane: 'http://127.0.0.1:9',
      spoolSuffix: '-2',
    });
    const res = await fetch(worker.running.url + '/predict', { method: 'POST', body: JSON.stringify(rows) });
    expect(res.status).toBe(200);
    await worker.close();
    const spooled = await readdir(join(home, 'spool', 'flights-model-2'));
    expect(spooled.filter((f) => /^segment-\d+\.jsonl$/.test(f)).length).toBeGreaterThan(0);
    expect(existsSync(join(home, 'spool', 'flights-model'))).toBe(false);
  });
});

describe.skipIf(!available)('serving a package logged to a run', () => {
  it('a runs:/ URI is served under its artifact path, not the temporary download folder', async () => {
    const home = await mkdtemp(join(tmpdir(), 'serving-runs-'));
    const config = loadConfig({}, { TRESTLE_HOME: home });
    const { Trestle } = await import('@trestle/client');
    const trestle = await Trestle.connect({ config });
    const run = await trestle.startRun({ experiment: 'serving' });
    await run.logArtifact(dir, 'model');
    await run.end();
    await trestle.close();
    const byRun = await serveModel({ uri: `runs:/${run.id}/model`, config, port: 0, controlPlane: false });
    try {
      const res = await fetch(byRun.running.url + '/predict', { method: 'POST', body: JSON.stringify(rows) });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-model-name')).toBe('model');
      expect((await fetch(byRun.running.url + '/v2/models/model')).status).toBe(200);
    } finally {
      await byRun.close();
    }
  });
});
