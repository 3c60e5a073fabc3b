import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTable, sliceTable, type Table } from '@trestle/tables';
import { loadModel } from './load.js';
import { trainModel, type TrainModelOptions } from './train/train-model.js';
import { writeModelPackage } from './write-package.js';
import { syntheticCsv } from './testing-data.js';

const dir = mkdtempSync(join(tmpdir(), 'trestle-parity-'));
let table: Table;

beforeAll(async () => {
  const csv = join(dir, 'data.csv');
  writeFileSync(csv, syntheticCsv(4000, 11));
  table = await readTable(csv);
});

const cases: [string, Omit<TrainModelOptions, 'evalName'>, string[]][] = [
  [
    'gbdt, binary',
    { trainer: 'gbdt', target: 'delayed', categorical: ['hour'], params: { rounds: '30' } },
    ['probability'],
  ],
  [
    'gbdt, multiclass',
    { trainer: 'gbdt', target: 'origin', params: { rounds: '20' } },
    ['probability_SFO', 'probability_ORD'],
  ],
  [
    'gbdt, regression',
    { trainer: 'gbdt', target: 'distance', params: { task: 'regression', rounds: '20' } },
    ['value'],
  ],
  ['logistic', { trainer: 'logistic', target: 'delayed', categorical: ['hour'] }, ['probability']],
  ['linear', { trainer: 'linear', target: 'distance' }, ['value']],
];

describe('the builtin and onnx flavors of one package predict the same', () => {
  it.each(cases)(
    '%s, to 1e-5 (relative for values > 1) on 500 rows with missing and unseen values',
    async (name, options, outputs) => {
      const trained = trainModel(table, undefined, options);
      const packageDir = join(dir, name.replace(/[^a-z]+/g, '-'));
      await writeModelPackage(packageDir, trained.contents);
      const builtin = await loadModel(packageDir, { flavor: 'builtin' });
      const onnx = await loadModel(packageDir, { flavor: 'onnx' });
      expect(builtin.flavor).toBe('builtin');
      expect(onnx.flavor).toBe('onnx');
      const rows = sliceTable(table, 0, 500);
      const a = await builtin.predict(rows.columns);
      const b = await onnx.predict(rows.columns);
      for (const out of outputs) {
        const x = a.outputs[out] as Float64Array;
        const y = b.outputs[out] as Float64Array;
        expect(x.length).toBe(500);
        let worst = 0;
        // ONNX computes in float32: regression values (miles here) are compared relative to their size.
        for (let i = 0; i < x.length; i++)
          worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / Math.max(1, Math.abs(x[i]!)));
        expect(worst).toBeLessThan(1e-5);
      }
      if (a.outputs['label'] !== undefined) expect(b.outputs['label']).toEqual(a.outputs['label']);
      // A row the training never saw: unknown category, missing number.
      const odd = trained.signature.inputs.map((s) => [s.name, s.type === 'string' ? 'NOWHERE' : null]);
      const pa = await builtin.predictRows([Object.fromEntries(odd)]);
      const pb = await onnx.predictRows([Object.fromEntries(odd)]);
      for (const out of outputs) {
        const x = (pa.outputs[out] as Float64Array)[0]!;
        const y = (pb.outputs[out] as Float64Array)[0]!;
        expect(Math.abs(x - y) / Math.max(1, Math.abs(x))).toBeLessThan(1e-5);
      }
      await builtin.close();
      await onnx.close();
    },
  );
});
