import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@trestle/core';
import { openStores } from '@trestle/store';
import { loadModel } from '@trestle/models';
import { readTable } from '@trestle/tables';
import { Trestle } from '@trestle/client';
import { syntheticCsv } from '../packages/models/src/testing-data.js';
import { runCli } from './support/cli.js';

interface TrainSummary {
  runId: string;
  status: string;
  task: string;
  metrics: Record<string, number>;
  model: string;
  flavors: string[];
  trainRows: number;
  evalRows: number;
}

/** `trestle train` and `trestle predict` end to end on real files and a real SQLite store. */
describe('trestle train and trestle predict', () => {
  let home: string;
  let env: Record<string, string>;
  let csv: string;
  let summary: TrainSummary;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-cli-train-'));
    env = { TRESTLE_HOME: join(home, '.trestle') };
    csv = join(home, 'flights.csv');
    await writeFile(csv, syntheticCsv(3000));
    const r = await runCli(
      [
        'train',
        'gbdt',
        '--data',
        csv,
        '--target',
        'delayed',
        '--param',
        'rounds=40',
        '--experiment',
        'cli-train',
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    summary = JSON.parse(r.stdout) as TrainSummary;
  }, 120_000);

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('logs a finished run: params, per-iteration losses, metrics, datasets with digests, the package', async () => {
    expect(summary.status).toBe('FINISHED');
    expect(summary.task).toBe('binary-classification');
    expect(summary.metrics['valid_auc']).toBeGreaterThan(0.6);
    expect(summary.trainRows + summary.evalRows).toBe(3000);
    expect(summary.model).toBe(`runs:/${summary.runId}/model`);
    expect(summary.flavors).toEqual(['builtin', 'onnx']);
    const config = loadConfig({ home: env['TRESTLE_HOME'] }, {});
    const stores = await openStores(config);
    const trestle = new Trestle(stores.metadata, stores.artifacts, config);
    try {
      const run = await trestle.backend.getRun(summary.runId);
      const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
      expect(params).toMatchObject({
        trainer: 'gbdt',
        target: 'delayed',
        rounds: '40',
        features: 'distance,hour,origin',
      });
      const history = await trestle.backend.getMetricHistory(summary.runId, 'train_loss');
      expect(history.items.length).toBe(40);
      expect(history.items[39]!.value).toBeLessThan(history.items[0]!.value);
      expect(run.inputs.datasetInputs[0]!.dataset.name).toBe('flights.csv');
      expect(run.inputs.datasetInputs[0]!.dataset.digest).toMatch(/^[0-9a-f]{64}$/);
      const model = await loadModel(summary.model, { source: trestle });
      expect(model.manifest.datasets[0]!.digest).toBe(run.inputs.datasetInputs[0]!.dataset.digest);
      expect(model.manifest.metrics['valid_auc']).toBe(summary.metrics['valid_auc']);
      await model.close();
    } finally {
      await trestle.close();
    }
  });

  it('scores a file in chunks to CSV: input columns, label and probability, the same as loadModel', async () => {
    const out = join(home, 'scored.csv');
    const r = await runCli(
      ['predict', summary.model, '--data', csv, '--out', out, '--chunk-rows', '700', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { rows: number; chunks: number; columns: string[] };
    expect(result).toMatchObject({
      rows: 3000,
      chunks: 5,
      columns: ['distance', 'hour', 'origin', 'delayed', 'label', 'probability'],
    });
    const scored = await readTable(out);
    expect(scored.rows).toBe(3000);
    const text = await readFile(out, 'utf8');
    const input = await readFile(csv, 'utf8');
    // The input columns pass through as they were written.
    expect(text.split('\n')[1]!.startsWith(input.split('\n')[1]!)).toBe(true);
    const config = loadConfig({ home: env['TRESTLE_HOME'] }, {});
    const stores = await openStores(config);
    const trestle = new Trestle(stores.metadata, stores.artifacts, config);
    const model = await loadModel(summary.model, { source: trestle });
    await trestle.close();
    const table = await readTable(csv);
    const expected = (await model.predict(table.columns)).outputs['probability'] as Float64Array;
    const got = scored.columns['probability']!;
    expect(got.type).toBe('double');
    if (got.type !== 'string') for (let i = 0; i < 3000; i += 97) expect(got.values[i]).toBeCloseTo(expected[i]!, 12);
    await model.close();
  });

  it('names the line and column of a value the model cannot take, and leaves no output file', async () => {
    const bad = join(home, 'bad.csv');
    await writeFile(bad, 'distance,hour,origin\n100,3,SFO\n200,4,LAX\n300,x5,SFO\n');
    const out = join(home, 'bad-scored.csv');
    const r = await runCli(['predict', summary.model, '--data', bad, '--out', out], env);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(
      `trestle predict: error: ${bad} line 4, column 'hour': "x5" is not a number (the column is long)`,
    );
    expect(existsSync(out)).toBe(false);
    const missing = join(home, 'missing.csv');
    await writeFile(missing, 'distance,origin\n100,SFO\n');
    const m = await runCli(['predict', summary.model, '--data', missing, '--out', out], env);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain("the input has no column 'hour' (long)");
  });

  it('refuses ragged CSV rows naming the line, and a missing target marks the run FAILED with the reason', async () => {
    const ragged = join(home, 'ragged.csv');
    await writeFile(ragged, 'a,b,y\n1,2,0\n3,4\n');
    const r = await runCli(['train', 'logistic', '--data', ragged, '--target', 'y'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${ragged} line 3 has 2 fields but the header has 3`);

    const t = await runCli(
      ['train', 'logistic', '--data', csv, '--target', 'late', '--experiment', 'cli-fail', '--json'],
      env,
    );
    expect(t.code).toBe(1);
    expect(t.stderr).toContain(
      "the training data has no target column 'late' (its columns: distance, hour, origin, delayed)",
    );
    const runs = await runCli(['runs', 'list', '--experiment', 'cli-fail', '--json'], env);
    const { runs: items } = JSON.parse(runs.stdout) as {
      runs: { info: { status: string }; data: { tags: { key: string; value: string }[] } }[];
    };
    expect(items.map((x) => x.info.status)).toEqual(['FAILED']);
    const reason = items[0]!.data.tags.find((tag) => tag.key === 'trestle.failure')?.value;
    expect(reason).toContain("no target column 'late'");
  });

  it('gives usage errors exit code 2 and has --help', async () => {
    const noTarget = await runCli(['train', 'gbdt', '--data', csv], env);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain('--target COLUMN is required');
    const unknown = await runCli(['train', 'forest', '--data', csv, '--target', 'delayed'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown trainer 'forest'; use one of gbdt, logistic, linear");
    const help = await runCli(['predict', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: trestle predict MODEL_URI');
  });
});
