import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it, beforeAll } from 'vitest';
import { isTrestleError } from '@trestle/core';
import { readTable, sliceTable } from '@trestle/tables';
import { loadModel } from './load.js';
import { trainModel, type TrainedModel } from './train/train-model.js';
import { writeModelPackage } from './write-package.js';
import { readBuiltinModel } from './builtin/builtin-model.js';
import { syntheticCsv } from './testing-data.js';
import type { ModelManifest } from './manifest.js';

const dir = mkdtempSync(join(tmpdir(), 'trestle-models-'));

async function rejection(p: Promise<unknown>, code = 'INVALID_ARGUMENT'): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isTrestleError(err)) throw new Error(`expected a TrestleError, got ${String(err)}`);
  expect(err.code).toBe(code);
  return err.message;
}

describe('a logistic regression package', () => {
  let trained: TrainedModel;
  let packageDir: string;
  const csv = join(dir, 'train.csv');

  beforeAll(async () => {
    writeFileSync(csv, syntheticCsv(3000));
    const table = await readTable(csv);
    trained = trainModel(table, undefined, { trainer: 'logistic', target: 'delayed', categorical: ['hour'] });
    packageDir = join(dir, 'pkg');
    await writeModelPackage(packageDir, {
      ...trained.contents,
      datasets: [{ name: 'synthetic', digest: 'abc123', source: csv, context: 'training' }],
      run: { runId: '0123456789abcdef0123456789abcdef', artifactPath: 'model' },
    });
  });

  it('learns the signal and reports train and holdout metrics', () => {
    expect(trained.task).toBe('binary-classification');
    expect(trained.classes).toEqual(['0', '1']);
    expect(trained.trainRows + trained.evalRows).toBe(3000);
    expect(trained.evalRows).toBeGreaterThan(450);
    expect(trained.metrics['valid_auc']).toBeGreaterThan(0.7);
    expect(trained.metrics['train_auc']).toBeGreaterThan(0.7);
    expect(trained.params).toMatchObject({
      trainer: 'logistic',
      target: 'delayed',
      features: 'distance,hour,origin',
      l2: 1e-4,
      categorical: 'hour',
    });
  });

  it('writes a manifest with signature, lineage, metrics and the reference profile', () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'trestle-model.json'), 'utf8')) as ModelManifest;
    expect(manifest).toMatchObject({
      format: 'trestle.model',
      formatVersion: 1,
      flavor: 'builtin',
      flavors: {
        builtin: { path: 'model.json', format: 'trestle.linear' },
        onnx: { path: 'model.onnx', scores: 'probability', integerMissing: 'minimum' },
      },
      task: 'binary-classification',
      classes: ['0', '1'],
      signature: {
        inputs: [
          { name: 'distance', type: 'long' },
          { name: 'hour', type: 'long' },
          { name: 'origin', type: 'string' },
        ],
        outputs: [
          { name: 'label', type: 'string' },
          { name: 'probability', type: 'double' },
        ],
      },
      datasets: [{ name: 'synthetic', digest: 'abc123', context: 'training' }],
      run: { runId: '0123456789abcdef0123456789abcdef' },
    });
    expect(manifest.metrics['valid_auc']).toBe(trained.metrics['valid_auc']);
    const features = manifest.profile!.features.map((f) => [f.name, f.kind]);
    expect(features).toEqual([
      ['distance', 'numeric'],
      ['hour', 'numeric'],
      ['origin', 'categorical'],
    ]);
    expect(manifest.profile!.features[2]!.nulls).toBeGreaterThan(0);
    expect(manifest.profile!.prediction!.outputs.map((o) => o.name)).toEqual(['label', 'probability']);
    // With the ONNX graph comes an MLflow MLmodel whose signature is the manifest's.
    const mlmodel = parse(readFileSync(join(packageDir, 'MLmodel'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(mlmodel['flavors']!['onnx']).toMatchObject({ data: 'model.onnx' });
    expect(JSON.parse(mlmodel['signature']!['inputs'] as string)).toEqual([
      { type: 'long', name: 'distance', required: true },
      { type: 'long', name: 'hour', required: true },
      { type: 'string', name: 'origin', required: true },
    ]);
    expect(mlmodel['run_id']).toBe('0123456789abcdef0123456789abcdef');
    expect(existsSync(join(packageDir, 'requirements.txt'))).toBe(true);
  });

  it('loads from its folder and predicts rows and columns exactly as the trained model does', async () => {
    const model = await loadModel(packageDir);
    expect(model.flavor).toBe('builtin');
    expect(model.signature.inputs.map((s) => s.name)).toEqual(['distance', 'hour', 'origin']);
    const table = await readTable(csv);
    const head = sliceTable(table, 0, 50);
    const both = readBuiltinModel(JSON.parse(readFileSync(join(packageDir, 'model.json'), 'utf8'))).scores(head);
    const direct = Float64Array.from({ length: 50 }, (_, i) => both[2 * i + 1]!);
    const byColumns = await model.predict(head.columns);
    expect(byColumns.rows).toBe(50);
    expect(byColumns.outputs['probability']).toEqual(direct);
    const rows = Array.from({ length: 50 }, (_, i) => {
      const cell = (name: string): unknown => {
        const c = head.columns[name]!;
        if (c.type === 'string') return c.codes[i]! < 0 ? null : c.dictionary[c.codes[i]!];
        return Number.isNaN(c.values[i]!) ? null : c.values[i];
      };
      return { distance: cell('distance'), hour: cell('hour'), origin: cell('origin') };
    });
    const byRows = await model.predictRows(rows);
    expect(byRows.outputs['probability']).toEqual(direct);
    const labels = byRows.outputs['label'] as string[];
    labels.forEach((l, i) => expect(l).toBe(direct[i]! >= 0.5 ? '1' : '0'));
    // An unseen category and a missing value still predict.
    const odd = await model.predictRows([{ distance: null, hour: 3, origin: 'XYZ' }]);
    expect((odd.outputs['probability'] as Float64Array)[0]).toBeGreaterThan(0);
    await expect(model.predictRows([{ distance: 'far', hour: 3, origin: 'SFO' }])).rejects.toThrow(
      `row 0, column 'distance': expected a number (long), got "far"`,
    );
    await model.close();
  });

  it('refuses a second package into a folder that holds one, leaving it whole', async () => {
    const message = await rejection(writeModelPackage(packageDir, trained.contents), 'ALREADY_EXISTS');
    expect(message).toContain('already exists');
    expect((await loadModel(packageDir)).manifest.task).toBe('binary-classification');
  });

  it('says what is wrong with a missing, broken or inconsistent package', async () => {
    expect(await rejection(loadModel(join(dir, 'nowhere')), 'NOT_FOUND')).toContain('does not exist');
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(await rejection(loadModel(empty))).toBe(
      `${empty} is not a model package: it has no trestle-model.json (nor an MLflow MLmodel)`,
    );

    const broken = join(dir, 'broken');
    cpSync(packageDir, broken, { recursive: true });
    const manifestPath = join(broken, 'trestle-model.json');
    const good = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(manifestPath, JSON.stringify({ ...good, classes: ['0'] }));
    expect(await rejection(loadModel(broken))).toBe(
      `${manifestPath} is inconsistent: a binary classifier needs 2 classes, it lists 1`,
    );
    writeFileSync(
      manifestPath,
      JSON.stringify({ ...good, flavor: 'onnx', flavors: { builtin: good.flavors.builtin } }),
    );
    expect(await rejection(loadModel(broken))).toBe(
      `${manifestPath} is inconsistent: its flavor is 'onnx' but it lists no 'onnx' files`,
    );
    writeFileSync(manifestPath, JSON.stringify({ ...good, formatVersion: 9 }));
    expect(await rejection(loadModel(broken))).toContain('has format version 9; this build reads version 1');
    writeFileSync(manifestPath, '{ not json');
    expect(await rejection(loadModel(broken))).toContain('is not valid JSON');
    writeFileSync(manifestPath, JSON.stringify(good));
    rmSync(join(broken, 'model.json'));
    expect(await rejection(loadModel(broken))).toBe(`${broken} is incomplete: model.json is missing`);
    writeFileSync(join(broken, 'model.json'), readFileSync(join(packageDir, 'model.json')));
    writeFileSync(manifestPath, JSON.stringify({ ...good, flavors: { builtin: good.flavors.builtin } }));
    expect(await rejection(loadModel(broken, { flavor: 'onnx' }))).toContain('has no onnx flavor (it has: builtin)');
    writeFileSync(join(broken, 'model.json'), '{"format": "trestle.forest"}');
    writeFileSync(manifestPath, JSON.stringify(good));
    expect(await rejection(loadModel(broken))).toContain('has format "trestle.forest", which this build cannot load');
    writeFileSync(join(broken, 'model.onnx'), 'not a graph');
    expect(await rejection(loadModel(broken, { flavor: 'onnx' }))).toContain(
      'model.onnx does not load as an ONNX model',
    );
  });

  it('refuses a missing or constant target and unknown params', async () => {
    const table = await readTable(csv);
    const err = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        if (isTrestleError(e, 'INVALID_ARGUMENT')) return e.message;
        throw e;
      }
      throw new Error('expected an error');
    };
    expect(err(() => trainModel(table, undefined, { trainer: 'logistic', target: 'late' }))).toBe(
      "the training data has no target column 'late' (its columns: distance, hour, origin, delayed)",
    );
    const constant = join(dir, 'constant.csv');
    writeFileSync(constant, 'x,y\n1,yes\n2,yes\n3,yes\n');
    expect(
      err(() => trainModel(table, undefined, { trainer: 'logistic', target: 'delayed', params: { depth: '3' } })),
    ).toBe('--param depth: the logistic trainer has no such setting (it takes: l2, max_iterations, max_categories)');
    const c = await readTable(constant);
    expect(err(() => trainModel(c, undefined, { trainer: 'logistic', target: 'y' }))).toBe(
      `target column 'y' is constant in the training data (every row is "yes"); a model needs at least two different values to learn from`,
    );
  });
});

describe('MLmodel reading', () => {
  it('reads the signature of an MLflow onnx model and refuses other flavors', async () => {
    const { readMlmodel, mlmodelText } = await import('./mlmodel.js');
    const text = mlmodelText({
      onnxPath: 'model.onnx',
      sizeBytes: 10,
      signature: {
        inputs: [
          { name: 'a', type: 'double' },
          { name: 'city', type: 'string', optional: true },
        ],
        outputs: [{ name: 'label', type: 'string' }],
      },
    });
    const doc = parse(text) as Record<string, Record<string, unknown>>;
    expect(doc['flavors']!['python_function']).toMatchObject({ loader_module: 'mlflow.onnx', data: 'model.onnx' });
    expect(typeof doc['signature']!['inputs']).toBe('string');
    expect(readMlmodel(text).signature).toEqual({
      inputs: [
        { name: 'a', type: 'double' },
        { name: 'city', type: 'string', optional: true },
      ],
      outputs: [{ name: 'label', type: 'string' }],
    });
    expect(() => readMlmodel('flavors:\n  sklearn:\n    pickled_model: model.pkl\n')).toThrow(
      "MLmodel has no 'onnx' flavor (it has: sklearn); Trestle loads MLflow models logged with mlflow.onnx",
    );
  });
});
