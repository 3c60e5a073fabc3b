/**
 * A real model package for tests: `@trestle/models` trains a logistic regression on the seeded
 * flights-like table and writes the package (trestle-model.json, builtin model.json, model.onnx, MLmodel).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flightsTable } from './logistic-predictor.js';

interface TrainingModule {
  trainModel: (table: unknown, valid: undefined, options: { trainer: string; target: string }) => { contents: unknown };
  writeModelPackage: (dir: string, contents: unknown) => Promise<unknown>;
}

const MODELS_PACKAGE: string = '@trestle/models';

/** Whether `@trestle/models` can be loaded here (tests that need real packages skip, saying why, when not). */
export async function modelsAvailable(): Promise<boolean> {
  try {
    await import(MODELS_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

/** Writes a package into a new temporary folder named `name`; `seed` changes the data (another version). */
export async function writeTestPackage(name = 'flights-model', seed = 5): Promise<string> {
  const { trainModel, writeModelPackage } = (await import(MODELS_PACKAGE)) as TrainingModule;
  const t = flightsTable(3000, seed);
  const origins = [...new Set(t.origin)];
  const table = {
    rows: t.distance.length,
    columns: {
      distance: { type: 'double', values: t.distance },
      hour: { type: 'long', values: t.hour },
      origin: { type: 'string', codes: Int32Array.from(t.origin, (o) => origins.indexOf(o)), dictionary: origins },
      delayed: { type: 'long', values: Float64Array.from(t.delayed) },
    },
  };
  const trained = trainModel(table, undefined, { trainer: 'logistic', target: 'delayed' });
  const dir = join(await mkdtemp(join(tmpdir(), 'serving-pkg-')), name);
  await writeModelPackage(dir, trained.contents);
  return dir;
}
