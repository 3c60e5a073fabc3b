/**
 * The model of `bench/serving`: a seeded flights-like table written as CSV (the reference reads
 * the same file) and a Trestle model package trained on it with `@trestle/models`.
 */
import { writeFileSync } from 'node:fs';
import { seededRandom } from '../../packages/core/src/index.js';

/** The slice of `@trestle/models` and `@trestle/tables` used here (imported on use). */
interface Training {
  getTrainer: (name: string) => unknown;
  trainModel: (
    table: unknown,
    valid: undefined,
    options: { trainer: string; target: string; params: Record<string, string>; holdout: number },
  ) => {
    contents: unknown;
    metrics: Record<string, number>;
  };
  writeModelPackage: (dir: string, contents: unknown) => Promise<unknown>;
}
const MODELS: string = '@trestle/models';
const TABLES: string = '@trestle/tables';

const AIRPORTS = [
  'ATL',
  'ORD',
  'DFW',
  'LAX',
  'SFO',
  'DEN',
  'PHX',
  'LAS',
  'DTW',
  'IAH',
  'MSP',
  'EWR',
  'SEA',
  'BOS',
  'CLT',
  'MCO',
  'SLC',
  'JFK',
  'BWI',
  'PHL',
];

const rng = seededRandom;

export interface FlightRow {
  hour: number;
  weekday: number;
  distance: number;
  origin: string;
  destination: string;
}

/** The i-th seeded flight (the same in the CSV and the request bodies). */
function flight(r: () => number): FlightRow {
  return {
    hour: Math.floor(r() * 24),
    weekday: 1 + Math.floor(r() * 7),
    distance: Math.round(100 + r() * 2400),
    origin: AIRPORTS[Math.floor(r() * AIRPORTS.length)]!,
    destination: AIRPORTS[Math.floor(r() * AIRPORTS.length)]!,
  };
}

/** Writes `rows` flights with a `delayed` label (0/1) that depends on hour, weekday, distance and airports. */
export function flightsCsv(path: string, rows: number, seed = 2001): number {
  const r = rng(seed);
  const lines = ['hour,weekday,distance,origin,destination,delayed'];
  for (let i = 0; i < rows; i++) {
    const f = flight(r);
    const z =
      -1.4 +
      0.09 * (f.hour - 12) +
      (f.weekday === 5 ? 0.4 : 0) -
      0.0002 * f.distance +
      (f.origin === 'ORD' || f.destination === 'EWR' ? 0.6 : 0);
    const delayed = r() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    lines.push(`${f.hour},${f.weekday},${f.distance},${f.origin},${f.destination},${delayed}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return rows;
}

/** Trains the package (GBDT when the models package offers it, else logistic regression) into `dir`. */
export async function buildBenchModel(
  csv: string,
  dir: string,
): Promise<{ description: string; trainer: string; sampleRow: (i: number) => FlightRow }> {
  const { getTrainer, trainModel, writeModelPackage } = (await import(MODELS)) as Training;
  const { readTable } = (await import(TABLES)) as { readTable: (path: string) => Promise<unknown> };
  let trainer = 'gbdt';
  try {
    getTrainer('gbdt');
  } catch {
    trainer = 'logistic';
  }
  const table = await readTable(csv);
  const params: Record<string, string> =
    trainer === 'gbdt' ? { rounds: '100', max_leaves: '31', learning_rate: '0.1', max_bins: '255' } : {};
  const trained = trainModel(table, undefined, { trainer, target: 'delayed', params, holdout: 0.1 });
  await writeModelPackage(dir, trained.contents);
  const r = rng(99);
  const samples = Array.from({ length: 100 }, () => flight(r));
  return {
    trainer,
    description: `${trainer} model package (builtin + onnx flavors) at ${dir}; holdout AUC ${trained.metrics['valid_auc']?.toFixed(3) ?? '?'}`,
    sampleRow: (i) => samples[i % samples.length]!,
  };
}
