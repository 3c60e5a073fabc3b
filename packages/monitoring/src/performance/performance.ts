/**
 * Model performance from predictions joined with their (late) labels, each metric with a
 * confidence interval: Wilson for accuracy, Hanley–McNeil for ROC AUC, a seeded bootstrap over
 * the confusion matrix for F1, normal intervals for MAE and (through the delta method) RMSE.
 */
import { TrestleError } from '@trestle/core';
import { normalQuantile } from '../stats/special.js';
import { rng } from '../testing/random.js';

export interface MetricValue {
  value: number | null;
  lower: number | null;
  upper: number | null;
}

export interface ClassificationPerformance {
  task: 'binary-classification' | 'multiclass-classification';
  /** Labelled predictions used. */
  n: number;
  positiveLabel?: string;
  accuracy: MetricValue;
  /** F1 of the positive class (binary) or the macro average (multiclass). */
  f1: MetricValue;
  /** ROC AUC of the positive-class score (binary with scores only). */
  auc?: MetricValue;
  precision?: number | null;
  recall?: number | null;
  confidence: number;
}

export interface RegressionPerformance {
  task: 'regression';
  n: number;
  rmse: MetricValue;
  mae: MetricValue;
  /** Mean of prediction − label. */
  bias: number | null;
  confidence: number;
}

export type Performance = ClassificationPerformance | RegressionPerformance;

export interface LabelledPredictions {
  task: 'binary-classification' | 'multiclass-classification' | 'regression';
  /** The labels (ground truth). */
  actual: readonly (string | number)[];
  /** The predicted labels (classification) or values (regression). */
  predicted: readonly (string | number)[];
  /** Binary classification: the predicted probability of `positiveLabel`, for AUC. */
  score?: ArrayLike<number>;
  /** Binary classification: which label is positive. Default '1' (or 'true'). */
  positiveLabel?: string;
  /** Confidence level of the intervals. Default 0.95. */
  confidence?: number;
  /** Seed of the bootstrap (F1). Default 1. */
  seed?: number;
}

const empty = (): MetricValue => ({ value: null, lower: null, upper: null });
const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

function wilson(k: number, n: number, z: number): MetricValue {
  if (n === 0) return empty();
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { value: p, lower: clamp01(centre - half), upper: clamp01(centre + half) };
}

/** ROC AUC by ranks (ties averaged), with the Hanley–McNeil standard error. */
export function rocAuc(score: ArrayLike<number>, positive: ArrayLike<boolean>, z = 1.959963984540054): MetricValue {
  const n = score.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && score[order[j + 1]!] === score[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (positive[order[k]!]) {
        rankSumPos += rank;
        nPos++;
      }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return empty();
  const auc = (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const se = Math.sqrt(
    (auc * (1 - auc) + (nPos - 1) * (q1 - auc * auc) + (nNeg - 1) * (q2 - auc * auc)) / (nPos * nNeg),
  );
  return { value: auc, lower: clamp01(auc - z * se), upper: clamp01(auc + z * se) };
}

function f1Of(tp: number, fp: number, fn: number): number | null {
  const d = 2 * tp + fp + fn;
  return d === 0 ? null : (2 * tp) / d;
}

/** A binomial draw: exact for small counts, the normal approximation when n·p·(1 − p) is large. */
function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const v = n * p * (1 - p);
  if (v > 50) {
    const u = 1 - random();
    const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.min(n, Math.max(0, Math.round(n * p + g * Math.sqrt(v))));
  }
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}

/** Percentile bootstrap of F1: 1,000 multinomial resamples of the confusion matrix, seeded. */
function f1Bootstrap(tp: number, fp: number, fn: number, tn: number, level: number, seed: number): MetricValue {
  const n = tp + fp + fn + tn;
  const value = f1Of(tp, fp, fn);
  if (value === null || n === 0) return { value, lower: null, upper: null };
  const random = rng(seed);
  const samples: number[] = [];
  for (let b = 0; b < 1000; b++) {
    // Multinomial as a chain of conditional binomials.
    const a = binomial(random, n, tp / n);
    const c = binomial(random, n - a, fp / Math.max(1, n - tp));
    const d = binomial(random, n - a - c, fn / Math.max(1, fn + tn));
    const f = f1Of(a, c, d);
    if (f !== null) samples.push(f);
  }
  samples.sort((x, y) => x - y);
  const pick = (q: number): number =>
    samples[Math.min(samples.length - 1, Math.max(0, Math.floor(q * samples.length)))]!;
  return { value, lower: pick((1 - level) / 2), upper: pick(1 - (1 - level) / 2) };
}

function meanInterval(values: Float64Array, z: number): { mean: number; half: number } {
  const n = values.length;
  let s = 0;
  for (const v of values) s += v;
  const mean = s / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { mean, half: (z * sd) / Math.sqrt(n) };
}

/**
 * Performance of labelled predictions.
 *
 * @example
 * performance({ task: 'binary-classification', actual: ['1', '0'], predicted: ['1', '1'], score: [0.9, 0.6] });
 */
export function performance(input: LabelledPredictions): Performance {
  const { actual, predicted } = input;
  if (actual.length !== predicted.length) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${actual.length} labels for ${predicted.length} predictions; they must pair up`,
    );
  }
  const level = input.confidence ?? 0.95;
  const z = normalQuantile(1 - (1 - level) / 2);
  const n = actual.length;
  if (input.task === 'regression') {
    if (n === 0) return { task: 'regression', n, rmse: empty(), mae: empty(), bias: null, confidence: level };
    const abs = new Float64Array(n);
    const sq = new Float64Array(n);
    let bias = 0;
    for (let i = 0; i < n; i++) {
      const y = Number(actual[i]);
      const p = Number(predicted[i]);
      if (!Number.isFinite(y) || !Number.isFinite(p)) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `regression label ${i} is ${JSON.stringify(actual[i])} for prediction ${JSON.stringify(predicted[i])}; both must be numbers`,
        );
      }
      abs[i] = Math.abs(p - y);
      sq[i] = (p - y) ** 2;
      bias += p - y;
    }
    const m = meanInterval(abs, z);
    const s = meanInterval(sq, z);
    const rmse = Math.sqrt(s.mean);
    return {
      task: 'regression',
      n,
      mae: { value: m.mean, lower: Math.max(0, m.mean - m.half), upper: m.mean + m.half },
      rmse: { value: rmse, lower: Math.sqrt(Math.max(0, s.mean - s.half)), upper: Math.sqrt(s.mean + s.half) },
      bias: bias / n,
      confidence: level,
    };
  }
  const a = actual.map(String);
  const p = predicted.map(String);
  let correct = 0;
  for (let i = 0; i < n; i++) if (a[i] === p[i]) correct++;
  const accuracy = wilson(correct, n, z);
  if (input.task === 'binary-classification') {
    const labels = new Set(a);
    const positive = input.positiveLabel ?? (labels.has('true') ? 'true' : '1');
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    for (let i = 0; i < n; i++) {
      const ya = a[i] === positive;
      const yp = p[i] === positive;
      if (ya && yp) tp++;
      else if (!ya && yp) fp++;
      else if (ya && !yp) fn++;
      else tn++;
    }
    const result: ClassificationPerformance = {
      task: 'binary-classification',
      n,
      positiveLabel: positive,
      accuracy,
      f1: f1Bootstrap(tp, fp, fn, tn, level, input.seed ?? 1),
      precision: tp + fp === 0 ? null : tp / (tp + fp),
      recall: tp + fn === 0 ? null : tp / (tp + fn),
      confidence: level,
    };
    if (input.score !== undefined) {
      if (input.score.length !== n)
        throw new TrestleError('INVALID_ARGUMENT', `${input.score.length} scores for ${n} labels`);
      result.auc = rocAuc(
        input.score,
        a.map((v) => v === positive),
        z,
      );
    }
    return result;
  }
  // Multiclass: macro F1, its interval from the accuracy's relative width (no cheap exact form).
  const classes = [...new Set([...a, ...p])];
  const f1s = classes.map((c) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < n; i++) {
      if (p[i] === c && a[i] === c) tp++;
      else if (p[i] === c) fp++;
      else if (a[i] === c) fn++;
    }
    return f1Of(tp, fp, fn) ?? 0;
  });
  const macro = f1s.length === 0 ? null : f1s.reduce((x, y) => x + y, 0) / f1s.length;
  const rel =
    accuracy.value && accuracy.lower !== null && accuracy.upper !== null ? (accuracy.upper - accuracy.lower) / 2 : 0;
  return {
    task: 'multiclass-classification',
    n,
    accuracy,
    f1: macro === null ? empty() : { value: macro, lower: clamp01(macro - rel), upper: clamp01(macro + rel) },
    confidence: level,
  };
}
