/**
 * A real model for tests and benchmarks while no model package is at hand: an L2 logistic
 * regression from `@trestle/learn`, trained on a seeded flights-like table (distance, hour,
 * origin), wrapped as a `Predictor` with its reference profile.
 */
import { predictProba, trainLogisticRegression, type DesignMatrix, type LogisticRegressionModel } from '@trestle/learn';
import { buildReferenceProfile } from '@trestle/monitoring';
import type { InputColumns, Outputs, Predictor } from '../predictor.js';
import { seededRandom } from '@trestle/core';

const ORIGINS = ['ATL', 'ORD', 'DFW', 'LAX', 'SFO', 'DEN'];

const rng = seededRandom;

/** A seeded table of `rows` flights and their delay labels. */
export function flightsTable(
  rows: number,
  seed = 7,
): { distance: Float64Array; hour: Float64Array; origin: string[]; delayed: Uint8Array } {
  const r = rng(seed);
  const distance = new Float64Array(rows);
  const hour = new Float64Array(rows);
  const origin: string[] = [];
  const delayed = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    distance[i] = Math.round(100 + r() * 2400);
    hour[i] = Math.floor(r() * 24);
    const o = Math.floor(r() * ORIGINS.length);
    origin.push(ORIGINS[o]!);
    const z = -1.2 + 0.08 * (hour[i]! - 12) + 0.3 * (o === 1 ? 1 : 0) - 0.0002 * distance[i]!;
    delayed[i] = r() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { distance, hour, origin, delayed };
}

function design(columns: InputColumns, rows: number): DesignMatrix {
  const distance = columns['distance'] as Float64Array;
  const hour = columns['hour'] as Float64Array;
  const origin = columns['origin'] as (string | null)[];
  const dense = new Float64Array(rows * 2);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    dense[2 * i] = distance[i]! / 1000;
    dense[2 * i + 1] = hour[i]! / 24;
    const o = origin[i];
    codes[i] = o === null || o === undefined ? -1 : ORIGINS.indexOf(o);
  }
  return { rows, denseNames: ['distance', 'hour'], dense, categorical: [{ name: 'origin', levels: ORIGINS, codes }] };
}

/** Trains the model; `bias` shifts the intercept so two versions answer differently. */
function trainFlightsModel(rows = 5000, seed = 7): LogisticRegressionModel {
  const t = flightsTable(rows, seed);
  return trainLogisticRegression(design({ distance: t.distance, hour: t.hour, origin: t.origin }, rows), t.delayed, {
    l2: 1e-3,
  });
}

/** The trained model as a `Predictor` named `name` at `version`. */
export function logisticPredictor(
  options: { name?: string; version?: string; rows?: number; seed?: number; delayMs?: number } = {},
): Predictor {
  const rows = options.rows ?? 5000;
  const model = trainFlightsModel(rows, options.seed ?? 7);
  const t = flightsTable(rows, options.seed ?? 7);
  const predict = (columns: InputColumns, n: number): Outputs => {
    const p = predictProba(model, design(columns, n));
    const label = new Array<string>(n);
    for (let i = 0; i < n; i++) label[i] = p[i]! >= 0.5 ? '1' : '0';
    return { probability: p, label };
  };
  const train = predict({ distance: t.distance, hour: t.hour, origin: t.origin }, rows);
  const profile = buildReferenceProfile(
    { distance: t.distance, hour: t.hour, origin: t.origin },
    {
      prediction: {
        task: 'binary-classification',
        outputs: { probability: train['probability']!, label: train['label'] as string[] },
      },
    },
  );
  const delay = options.delayMs ?? 0;
  return {
    name: options.name ?? 'flights-delay',
    version: options.version ?? '1',
    platform: 'builtin',
    task: 'binary-classification',
    classes: ['0', '1'],
    profile,
    signature: {
      inputs: [
        { name: 'distance', type: 'double' },
        { name: 'hour', type: 'long' },
        { name: 'origin', type: 'string', optional: true },
      ],
      outputs: [
        { name: 'probability', type: 'double' },
        { name: 'label', type: 'string' },
      ],
    },
    predict:
      delay === 0
        ? predict
        : async (columns, n) => {
            await new Promise((resolve) => setTimeout(resolve, delay));
            return predict(columns, n);
          },
  };
}
