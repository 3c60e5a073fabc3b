import { availableParallelism } from 'node:os';
import { TrestleError } from '@trestle/core';
import { featureSpecs, validateBatch, type ColumnBatch, type Column } from '../columns.js';
import type { IterationInfo, Task } from '../model.js';
import { binBatch, fitBinners } from './binning.js';
import { treeFromBinned, type Tree } from './ensemble.js';
import { GbdtModel } from './gbdt-model.js';
import { addTreeValues, TreeGrower, type GrowParams } from './grower.js';
import { HistogramHelper, sharedArray } from './histogram-pool.js';
import { lossFor } from './loss.js';
import { seededRandom, type Random } from './random.js';

/**
 * Options of {@link trainGbdt}. Defaults follow scikit-learn's HistGradientBoosting
 * (100 rounds, learning rate 0.1, 31 leaves, 20 rows per leaf, no L2, 255 bins).
 */
export interface GbdtOptions {
  /** What to predict. `y` holds class codes 0…K−1 for classifiers, numbers for regression. */
  readonly task: Task;
  /** Class names (index = code in `y`); default '0', '1', … up to the largest code. */
  readonly classes?: readonly string[];
  /** Feature columns to use, by name; default every column of the batch. */
  readonly features?: readonly string[];
  /** Boosting rounds (trees per class). Default 100. */
  readonly rounds?: number;
  /** Shrinkage applied to every leaf value. Default 0.1. */
  readonly learningRate?: number;
  /** Leaves per tree. Default 31. */
  readonly maxLeaves?: number;
  /** Maximum depth (root = 0); default unlimited (`maxLeaves` bounds the tree). */
  readonly maxDepth?: number;
  /** Minimum training rows in a leaf. Default 20. */
  readonly minSamplesLeaf?: number;
  /** Minimum hessian sum in a leaf. Default 1e-3. */
  readonly minHessianLeaf?: number;
  /** L2 penalty on leaf values (λ in −G/(H+λ)). Default 0. */
  readonly l2?: number;
  /** Bins per feature for non-missing values, 2…255. Default 255. */
  readonly maxBins?: number;
  /** Fraction of rows sampled (without replacement) for each round. Default 1. */
  readonly subsample?: number;
  /** Fraction of features sampled for each tree. Default 1. */
  readonly featureFraction?: number;
  /**
   * Stop when the validation loss has not improved by `tolerance` for `patience` rounds and
   * keep the best round. Uses `validation` when given, else holds out `validationFraction`
   * of the training rows. Default off.
   */
  readonly earlyStopping?:
    boolean | { readonly patience?: number; readonly tolerance?: number; readonly validationFraction?: number };
  /** Validation data: its loss is reported each round (and drives early stopping). */
  readonly validation?: { readonly batch: ColumnBatch; readonly y: ArrayLike<number> };
  /**
   * Threads for histogram building: 2 uses a helper thread for nodes of ≥ 30 000 rows.
   * Default 2 when the machine has two cores or more and there are ≥ 100 000 training rows.
   */
  readonly threads?: 1 | 2;
  /** Seed for row and feature sampling and the early-stopping split. Default 0. */
  readonly seed?: number;
  /** Called after every round, e.g. to log per-iteration metrics. */
  readonly onIteration?: (info: IterationInfo) => void;
}

/**
 * Trains a histogram-based gradient-boosted tree ensemble (leaf-wise growth, the
 * histogram subtraction trick, native missing values with a learned direction per split,
 * and categorical splits that order categories by gradient statistics, as LightGBM and
 * scikit-learn do). Works on typed arrays throughout: features are binned once into a
 * row-major Uint8Array, and nothing is allocated per row while growing trees.
 *
 * @param batch feature columns: numeric (NaN = missing) and categorical (codes, −1 = missing).
 * @param y one label per row: class code for classifiers, value for regression.
 * @throws TrestleError `INVALID_ARGUMENT` for bad data (shape, labels, a single class, no
 *   rows, no features) or out-of-range options.
 * @example
 * const model = trainGbdt(batch, y, {
 *   task: 'binary',
 *   classes: ['on time', 'delayed'],
 *   rounds: 200,
 *   earlyStopping: { patience: 10 },
 *   onIteration: ({ iteration, trainLoss, validLoss }) => console.log(iteration, trainLoss, validLoss),
 * });
 * model.predict(test); // P(on time), P(delayed) per row
 */
export function trainGbdt(batch: ColumnBatch, y: ArrayLike<number>, options: GbdtOptions): GbdtModel {
  const started = performance.now();
  validateBatch(batch, 'training data');
  const task = options.task;
  if (task !== 'binary' && task !== 'multiclass' && task !== 'regression')
    bad(`task must be 'binary', 'multiclass' or 'regression', got ${JSON.stringify(task)}`);
  const specs = featureSpecs(batch, options.features);
  if (specs.length === 0) bad('training data has no feature columns');
  if (specs.length > 1 << 20) bad('too many features');
  const n = batch.rows;
  if (n < 2) bad(`training data needs at least 2 rows, got ${n}`);
  if (y.length !== n) bad(`y has ${y.length} labels for ${n} rows`);

  const rounds = intOption(options.rounds, 100, 1, 1e6, 'rounds');
  const maxBins = intOption(options.maxBins, 255, 2, 255, 'maxBins');
  const params: GrowParams = {
    learningRate: numOption(options.learningRate, 0.1, 1e-12, 1e3, 'learningRate'),
    maxLeaves: intOption(options.maxLeaves, 31, 2, 1 << 16, 'maxLeaves'),
    maxDepth: options.maxDepth === undefined ? Infinity : intOption(options.maxDepth, 0, 1, 1000, 'maxDepth'),
    minSamplesLeaf: intOption(options.minSamplesLeaf, 20, 1, n, 'minSamplesLeaf'),
    minHessianLeaf: numOption(options.minHessianLeaf, 1e-3, 0, 1e12, 'minHessianLeaf'),
    l2: numOption(options.l2, 0, 0, 1e12, 'l2'),
  };
  const subsample = numOption(options.subsample, 1, 1e-6, 1, 'subsample');
  const featureFraction = numOption(options.featureFraction, 1, 1e-6, 1, 'featureFraction');
  const seed = intOption(options.seed, 0, 0, 2 ** 32 - 1, 'seed');
  const es = options.earlyStopping;
  const early =
    es === undefined || es === false
      ? null
      : {
          patience: intOption(es === true ? undefined : es.patience, 10, 1, 1e6, 'earlyStopping.patience'),
          tolerance: numOption(es === true ? undefined : es.tolerance, 1e-7, 0, 1e12, 'earlyStopping.tolerance'),
          fraction: numOption(
            es === true ? undefined : es.validationFraction,
            0.1,
            1e-6,
            0.9,
            'earlyStopping.validationFraction',
          ),
        };

  const { labels, classes } = readLabels(task, y, options.classes, 'y');
  const random = seededRandom(seed);

  // The training and validation rows.
  let trainBatch = batch;
  let yTrain = labels;
  let validBatch: ColumnBatch | null = null;
  let yValid: Float64Array | null = null;
  if (options.validation) {
    validateBatch(options.validation.batch, 'validation data');
    validBatch = options.validation.batch;
    yValid = readLabels(task, options.validation.y, classes, 'validation y').labels;
    if (yValid.length !== validBatch.rows) bad(`validation y has ${yValid.length} labels for ${validBatch.rows} rows`);
  } else if (early !== null) {
    const split = holdOut(n, early.fraction, random);
    trainBatch = takeRows(batch, split.train, specs);
    yTrain = pick(labels, split.train);
    validBatch = takeRows(batch, split.valid, specs);
    yValid = pick(labels, split.valid);
  }
  const nTrain = trainBatch.rows;
  if (task !== 'regression') {
    const seen = new Uint8Array(classes.length);
    for (let i = 0; i < nTrain; i++) seen[yTrain[i]!] = 1;
    if (seen.reduce((a, b) => a + b, 0) < 2)
      bad('the training labels contain a single class; a classifier needs at least two');
  }

  const binners = fitBinners(trainBatch, specs, maxBins, random);
  const F = specs.length;
  const threads = options.threads ?? (availableParallelism() >= 2 && trainBatch.rows >= 100_000 ? 2 : 1);
  if (threads !== 1 && threads !== 2) bad(`threads must be 1 or 2, got ${String(threads)}`);
  let binned = binBatch(trainBatch, specs, binners);
  const validBinned = validBatch ? binBatch(validBatch, specs, binners) : null;
  const nValid = validBatch?.rows ?? 0;

  const loss = lossFor(task, classes.length);
  const K = loss.treesPerRound;
  const base = loss.baseline(yTrain);
  const raw = new Float64Array(K * nTrain);
  const validRaw = new Float64Array(K * nValid);
  for (let k = 0; k < K; k++) {
    raw.fill(base[k]!, k * nTrain, (k + 1) * nTrain);
    validRaw.fill(base[k]!, k * nValid, (k + 1) * nValid);
  }
  const shared = threads === 2;
  if (shared) {
    const copy = sharedArray(Uint8Array, binned.length);
    copy.set(binned);
    binned = copy;
  }
  const grad = shared ? sharedArray(Float64Array, K * nTrain) : new Float64Array(K * nTrain);
  const hess = shared ? sharedArray(Float64Array, K * nTrain) : new Float64Array(K * nTrain);
  const idx = shared ? sharedArray(Int32Array, nTrain) : new Int32Array(nTrain);
  const helper = shared ? new HistogramHelper({ binned, idx, grad, hess }, F) : null;
  const grower = new TreeGrower(binned, idx, binners, helper);
  const trees: Tree[] = [];
  const trainLoss: number[] = [];
  const validLoss: number[] = [];
  let best = { loss: Infinity, round: 0 };
  let roundsDone = 0;
  try {
    const mask = new Uint8Array(F);
    const sampleSize = Math.max(1, Math.round(nTrain * subsample));
    const sampled = subsample < 1 ? new Int32Array(sampleSize) : null;
    const featureCount = Math.max(1, Math.round(F * featureFraction));
    const featureOrder = Int32Array.from({ length: F }, (_, f) => f);

    for (let round = 1; round <= rounds; round++) {
      loss.gradients(yTrain, raw, grad, hess);
      if (sampled) sampleRows(nTrain, sampled, random);
      for (let k = 0; k < K; k++) {
        sampleFeatures(featureOrder, featureCount, mask, random);
        const g = grad.subarray(k * nTrain, (k + 1) * nTrain);
        const h = hess.subarray(k * nTrain, (k + 1) * nTrain);
        const tree = grower.grow(sampled, g, h, mask, params, k * nTrain, shared ? { grad, hess } : null);
        if (sampled) addTreeValues(tree, binned, F, nTrain, raw, k * nTrain);
        else grower.addLeafValues(tree, raw, k * nTrain);
        if (validBinned) addTreeValues(tree, validBinned, F, nValid, validRaw, k * nValid);
        trees.push(treeFromBinned(tree, binners, k));
      }
      let vl: number | undefined;
      if (yValid) {
        vl = loss.loss(yValid, validRaw);
        validLoss.push(vl);
      }
      // The training loss costs a pass of logarithms over every row: only when asked for.
      if (options.onIteration) {
        const tl = loss.loss(yTrain, raw);
        trainLoss.push(tl);
        options.onIteration({
          iteration: round,
          trainLoss: tl,
          ...(vl === undefined ? {} : { validLoss: vl }),
          elapsedMs: performance.now() - started,
        });
      }
      roundsDone = round;
      if (early !== null && vl !== undefined) {
        if (vl < best.loss - early.tolerance) best = { loss: vl, round };
        else if (round - best.round >= early.patience) break;
      }
    }
  } finally {
    helper?.close();
  }
  const kept = early !== null && best.round > 0 ? best.round : roundsDone;
  return new GbdtModel({
    task,
    features: specs,
    classes: task === 'regression' ? [] : classes,
    baseScore: base,
    trees: trees.slice(0, kept * K),
    training: {
      params: {
        rounds,
        learningRate: params.learningRate,
        maxLeaves: params.maxLeaves,
        maxDepth: Number.isFinite(params.maxDepth) ? params.maxDepth : null,
        minSamplesLeaf: params.minSamplesLeaf,
        minHessianLeaf: params.minHessianLeaf,
        l2: params.l2,
        maxBins,
        subsample,
        featureFraction,
        earlyStopping: early !== null,
        seed,
      },
      trainingRows: nTrain,
      rounds: kept,
      trainLoss,
      validLoss,
    },
  });
}

function readLabels(
  task: Task,
  y: ArrayLike<number>,
  names: readonly string[] | undefined,
  what: string,
): { labels: Float64Array; classes: readonly string[] } {
  const labels = Float64Array.from(y);
  if (task === 'regression') {
    for (let i = 0; i < labels.length; i++)
      if (!Number.isFinite(labels[i])) bad(`${what}[${i}] is ${labels[i]}; regression targets must be finite`);
    return { labels, classes: [] };
  }
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (!Number.isInteger(v) || v < 0) bad(`${what}[${i}] is ${v}; classifier labels must be class codes 0, 1, 2, …`);
    if (v > max) max = v;
  }
  if (names !== undefined && max >= names.length)
    bad(`${what} has class code ${max} but only ${names.length} classes are named`);
  const classes = names ?? Array.from({ length: Math.max(max + 1, 2) }, (_, k) => String(k));
  if (task === 'binary' && classes.length !== 2)
    bad(`a binary classifier needs exactly 2 classes, got ${classes.length}; use task 'multiclass'`);
  if (task === 'multiclass' && classes.length < 2) bad('a multiclass classifier needs at least 2 classes');
  return { labels, classes };
}

function holdOut(n: number, fraction: number, random: Random): { train: Int32Array; valid: Int32Array } {
  const nValid = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  const isValid = new Uint8Array(n);
  // Floyd's sampling: nValid distinct rows.
  for (let j = n - nValid; j < n; j++) {
    const t = Math.floor(random.next() * (j + 1));
    if (isValid[t] === 1) isValid[j] = 1;
    else isValid[t] = 1;
  }
  const train = new Int32Array(n - nValid);
  const valid = new Int32Array(nValid);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (isValid[i] === 1) valid[b++] = i;
    else train[a++] = i;
  }
  return { train, valid };
}

function takeRows(batch: ColumnBatch, rows: Int32Array, specs: readonly { name: string }[]): ColumnBatch {
  const wanted = new Set(specs.map((s) => s.name));
  const columns: Column[] = batch.columns
    .filter((c) => wanted.has(c.name))
    .map((c) =>
      c.type === 'numeric'
        ? { name: c.name, type: 'numeric', values: pick(c.values, rows) }
        : {
            name: c.name,
            type: 'categorical',
            categories: c.categories,
            codes: Int32Array.from(rows, (r) => c.codes[r]!),
          },
    );
  return { rows: rows.length, columns };
}

function pick(a: ArrayLike<number>, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = a[rows[i]!]!;
  return out;
}

/** A sorted sample of `out.length` distinct rows out of n (selection sampling, one pass). */
function sampleRows(n: number, out: Int32Array, random: Random): void {
  let need = out.length;
  let j = 0;
  for (let i = 0; i < n && need > 0; i++) {
    if (random.next() * (n - i) < need) {
      out[j++] = i;
      need--;
    }
  }
}

function sampleFeatures(order: Int32Array, count: number, mask: Uint8Array, random: Random): void {
  if (count >= order.length) {
    mask.fill(1);
    return;
  }
  mask.fill(0);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random.next() * (order.length - i));
    const t = order[j]!;
    order[j] = order[i]!;
    order[i] = t;
    mask[t] = 1;
  }
}

function intOption(v: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min || v > max) bad(`${name} must be an integer in ${min}…${max}, got ${v}`);
  return v;
}

function numOption(v: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= min && v <= max)) bad(`${name} must be a number in ${min}…${max}, got ${v}`);
  return v;
}

function bad(message: string): never {
  throw new TrestleError('INVALID_ARGUMENT', message);
}
