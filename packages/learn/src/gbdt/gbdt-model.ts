import { featureMatrix, RemapCache, type ColumnBatch, type FeatureSpec } from '../columns.js';
import type { ModelJson, Task, TrainedModel } from '../model.js';
import { gbdtToOnnx } from '../onnx/tree-ensemble.js';
import type { OnnxInputTypes } from '../onnx/columns.js';
import { FlatEnsemble, type Tree } from './ensemble.js';
import { json } from '../json-reader.js';

/** The `format` of a serialised GBDT. */
export const GBDT_FORMAT = 'trestle.gbdt';
/** Its current layout version. */
export const GBDT_FORMAT_VERSION = 1;

/** How a GBDT was trained (kept in its JSON for the record). */
export interface GbdtTrainingInfo {
  readonly params: Readonly<Record<string, number | string | boolean | null>>;
  readonly trainingRows: number;
  /** Boosting rounds kept in the model (the best round when early stopping cut it short). */
  readonly rounds: number;
  /** Training loss after each round (recorded when training had an `onIteration` callback). */
  readonly trainLoss: readonly number[];
  /** Validation loss after each round (empty without validation data). */
  readonly validLoss: readonly number[];
}

/**
 * A gradient-boosted tree ensemble. Made by `trainGbdt`, or read with
 * {@link GbdtModel.fromJSON}.
 *
 * @example
 * const model = trainGbdt(batch, y, { task: 'binary' });
 * const p = model.predict(batch); // [P(class 0), P(class 1)] per row
 */
export class GbdtModel implements TrainedModel {
  readonly kind = 'gbdt' as const;
  readonly task: Task;
  readonly features: readonly FeatureSpec[];
  readonly classes: readonly string[];
  readonly outputsPerRow: number;
  /** Starting raw score of each tree slot (log-odds, log-prior or mean). */
  readonly baseScore: Float64Array;
  readonly trees: readonly Tree[];
  readonly training: GbdtTrainingInfo;
  /** Tree slots: 1, or the class count of a multiclass model. */
  readonly slots: number;
  readonly #flat: FlatEnsemble;
  readonly #remap = new RemapCache();

  constructor(init: {
    task: Task;
    features: readonly FeatureSpec[];
    classes: readonly string[];
    baseScore: Float64Array;
    trees: readonly Tree[];
    training: GbdtTrainingInfo;
  }) {
    this.task = init.task;
    this.features = init.features;
    this.classes = init.classes;
    this.baseScore = init.baseScore;
    this.trees = init.trees;
    this.training = init.training;
    this.slots = init.baseScore.length;
    this.outputsPerRow = init.task === 'regression' ? 1 : init.classes.length;
    this.#flat = new FlatEnsemble(
      init.trees,
      init.features.map((s) => (s.type === 'categorical' ? s.categories.length : 0)),
      init.baseScore,
    );
  }

  /** See {@link TrainedModel.predict}. */
  predict(batch: ColumnBatch): Float64Array {
    const raw = this.predictRaw(batch);
    return transformRaw(this.task, raw, batch.rows, this.slots);
  }

  /**
   * Raw scores (log-odds, per-class scores before softmax, or values), rows × slots.
   *
   * @example
   * model.predictRaw(batch)[0]; // log-odds of row 0 for a binary model
   */
  predictRaw(batch: ColumnBatch): Float64Array {
    const X = featureMatrix(this.features, batch, this.#remap);
    return this.#flat.predictRaw(X, batch.rows, this.slots);
  }

  /**
   * Total split gain per feature, normalised to sum 1 (0 for unused features).
   *
   * @example
   * model.featureImportance(); // [{ name: 'hour', importance: 0.41 }, …]
   */
  featureImportance(): { name: string; importance: number }[] {
    const gain = new Float64Array(this.features.length);
    for (const t of this.trees)
      for (let i = 0; i < t.feature.length; i++) {
        const f = t.feature[i]!;
        if (f >= 0) gain[f] = gain[f]! + t.gain[i]!;
      }
    const total = gain.reduce((a, b) => a + b, 0) || 1;
    return this.features.map((f, i) => ({ name: f.name, importance: gain[i]! / total }));
  }

  /** See {@link TrainedModel.toOnnx}. */
  toOnnx(types?: OnnxInputTypes): Uint8Array {
    return gbdtToOnnx(this, types);
  }

  /** See {@link TrainedModel.toJSON}; read back with {@link GbdtModel.fromJSON}. */
  toJSON(): ModelJson {
    return {
      format: GBDT_FORMAT,
      formatVersion: GBDT_FORMAT_VERSION,
      task: this.task,
      features: this.features,
      classes: this.classes,
      baseScore: Array.from(this.baseScore),
      trees: this.trees.map((t) => ({
        slot: t.slot,
        feature: Array.from(t.feature),
        // JSON has no Infinity: null stands for "+Infinity" (all non-missing values go left).
        threshold: Array.from(t.threshold, (v) => (v === Infinity ? null : v)),
        leftCategories: t.leftCategories.map((c) => Array.from(c)),
        missingLeft: Array.from(t.missingLeft),
        left: Array.from(t.left),
        right: Array.from(t.right),
        value: Array.from(t.value),
        gain: Array.from(t.gain),
        count: Array.from(t.count),
      })),
      training: this.training,
    };
  }

  /**
   * Reads a model from {@link GbdtModel.toJSON} output (parsed, or as a JSON string).
   *
   * @throws TrestleError `INVALID_ARGUMENT` when the value is not a GBDT of a supported version.
   */
  static fromJSON(value: unknown): GbdtModel {
    const o = json.object(typeof value === 'string' ? json.parse(value, 'GBDT model') : value, 'model');
    json.format(o, GBDT_FORMAT, GBDT_FORMAT_VERSION);
    const task = json.oneOf(o['task'], ['binary', 'multiclass', 'regression'] as const, 'task');
    const features = json.featureSpecs(o['features'], 'features');
    const classes = json.strings(o['classes'], 'classes');
    const baseScore = Float64Array.from(json.numbers(o['baseScore'], 'baseScore'));
    const F = features.length;
    const trees = json.array(o['trees'], 'trees').map((tv, ti): Tree => {
      const path = `trees[${ti}]`;
      const t = json.object(tv, path);
      const feature = Int32Array.from(json.numbers(t['feature'], `${path}.feature`));
      const n = feature.length;
      const sized = (key: string): number[] => {
        const a = json.numbers(t[key], `${path}.${key}`, key === 'threshold');
        if (a.length !== n) json.fail(`${path}.${key} has ${a.length} entries for ${n} nodes`);
        return a;
      };
      const left = Int32Array.from(sized('left'));
      const right = Int32Array.from(sized('right'));
      for (let i = 0; i < n; i++) {
        const f = feature[i]!;
        if (f >= F) json.fail(`${path} node ${i} uses feature ${f} but the model has ${F}`);
        if (f >= 0 && !(left[i]! > i && left[i]! < n && right[i]! > i && right[i]! < n))
          json.fail(`${path} node ${i} has children outside the tree`);
      }
      const cats = json.array(t['leftCategories'], `${path}.leftCategories`);
      if (cats.length !== n) json.fail(`${path}.leftCategories has ${cats.length} entries for ${n} nodes`);
      return {
        slot: json.integer(t['slot'], `${path}.slot`),
        feature,
        threshold: Float64Array.from(sized('threshold'), (v) => (v === null ? Infinity : v)),
        leftCategories: cats.map((c, i) => Int32Array.from(json.numbers(c, `${path}.leftCategories[${i}]`))),
        missingLeft: Uint8Array.from(sized('missingLeft')),
        left,
        right,
        value: Float64Array.from(sized('value')),
        gain: Float64Array.from(sized('gain')),
        count: Float64Array.from(sized('count')),
      };
    });
    for (const t of trees)
      if (t.slot < 0 || t.slot >= baseScore.length) json.fail(`a tree adds to slot ${t.slot} of ${baseScore.length}`);
    if (task !== 'regression' && classes.length < 2) json.fail('a classifier needs at least two classes');
    const tr = json.object(o['training'], 'training');
    return new GbdtModel({
      task,
      features,
      classes,
      baseScore,
      trees,
      training: {
        params: json.object(tr['params'], 'training.params') as GbdtTrainingInfo['params'],
        trainingRows: json.integer(tr['trainingRows'], 'training.trainingRows'),
        rounds: json.integer(tr['rounds'], 'training.rounds'),
        trainLoss: json.numbers(tr['trainLoss'], 'training.trainLoss'),
        validLoss: json.numbers(tr['validLoss'], 'training.validLoss'),
      },
    });
  }
}

/** Turns raw scores (rows × slots) into predictions (rows × outputs). */
function transformRaw(task: Task, raw: Float64Array, rows: number, slots: number): Float64Array {
  if (task === 'regression') return raw;
  if (task === 'binary') {
    const out = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      const p = 1 / (1 + Math.exp(-raw[i]!));
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return out;
  }
  const out = new Float64Array(rows * slots);
  for (let i = 0; i < rows; i++) {
    const b = i * slots;
    let max = -Infinity;
    for (let k = 0; k < slots; k++) if (raw[b + k]! > max) max = raw[b + k]!;
    let sum = 0;
    for (let k = 0; k < slots; k++) sum += out[b + k] = Math.exp(raw[b + k]! - max);
    for (let k = 0; k < slots; k++) out[b + k] = out[b + k]! / sum;
  }
  return out;
}
