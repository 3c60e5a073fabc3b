import { MISSING_BIN, BINS_PER_FEATURE, type Binner } from './binning.js';
import type { BinnedTree } from './grower.js';

/**
 * One tree on raw feature values, as parallel arrays (node 0 is the root).
 *
 * A node with `feature ≥ 0` sends a row left when:
 * - numeric feature: `fround(x) ≤ threshold` (threshold may be +Infinity: every
 *   non-missing value goes left);
 * - categorical feature: the category code is in `leftCategories`;
 * and a missing value (NaN, or a category the model does not know) left when `missingLeft`.
 */
export interface Tree {
  /** Tree slot: the class whose score this tree adds to (0 for binary and regression). */
  readonly slot: number;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  /** Categories sent left by a categorical split, sorted; empty for other nodes. */
  readonly leftCategories: readonly Int32Array[];
  readonly missingLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf values (score added to the slot); 0 at split nodes. */
  readonly value: Float64Array;
  /** Split gain at split nodes (for feature importance). */
  readonly gain: Float64Array;
  /** Training rows that reached each node. */
  readonly count: Float64Array;
}

/** Converts a tree grown on bins into one on raw values. */
export function treeFromBinned(tree: BinnedTree, binners: readonly Binner[], slot: number): Tree {
  const nodes = tree.feature.length;
  const threshold = new Float64Array(nodes);
  const missingLeft = new Uint8Array(nodes);
  const leftCategories: Int32Array[] = [];
  for (let i = 0; i < nodes; i++) {
    const f = tree.feature[i]!;
    const lut = tree.goLeft.subarray(i * BINS_PER_FEATURE, (i + 1) * BINS_PER_FEATURE);
    let cats = NO_CATEGORIES;
    if (f >= 0) {
      missingLeft[i] = lut[MISSING_BIN]!;
      const binner = binners[f]!;
      if (binner.type === 'numeric') {
        const b = tree.bin[i]!;
        threshold[i] = b < binner.thresholds.length ? binner.thresholds[b]! : Infinity;
      } else {
        const codes: number[] = [];
        for (let c = 0; c < binner.codeToBin.length; c++) if (lut[binner.codeToBin[c]!] === 1) codes.push(c);
        cats = Int32Array.from(codes);
      }
    }
    leftCategories.push(cats);
  }
  return {
    slot,
    feature: tree.feature,
    threshold,
    leftCategories,
    missingLeft,
    left: tree.left,
    right: tree.right,
    value: tree.value,
    gain: tree.gain,
    count: tree.count,
  };
}

const NO_CATEGORIES = new Int32Array(0);

/**
 * All trees of a model in flat arrays with global node indices, for fast prediction:
 * one loop per row and tree, no objects. Categorical sets are bitsets in `catBits`.
 */
export class FlatEnsemble {
  readonly #feature: Int32Array;
  readonly #threshold: Float64Array;
  readonly #catOffset: Int32Array;
  readonly #catBits: Uint32Array;
  readonly #missingLeft: Uint8Array;
  readonly #left: Int32Array;
  readonly #right: Int32Array;
  readonly #value: Float64Array;
  readonly #roots: Int32Array;
  readonly #slots: Int32Array;
  readonly #base: Float64Array;
  readonly #F: number;

  /**
   * @param categoryCounts per feature, the number of categories (0 for numeric features).
   * @param base the starting raw score of each slot.
   */
  constructor(trees: readonly Tree[], categoryCounts: readonly number[], base: Float64Array) {
    let nodes = 0;
    let words = 0;
    for (const t of trees) {
      nodes += t.feature.length;
      for (let i = 0; i < t.feature.length; i++) {
        const f = t.feature[i]!;
        if (f >= 0 && categoryCounts[f]! > 0) words += (categoryCounts[f]! + 31) >>> 5;
      }
    }
    this.#feature = new Int32Array(nodes);
    this.#threshold = new Float64Array(nodes);
    this.#catOffset = new Int32Array(nodes).fill(-1);
    this.#catBits = new Uint32Array(words);
    this.#missingLeft = new Uint8Array(nodes);
    this.#left = new Int32Array(nodes);
    this.#right = new Int32Array(nodes);
    this.#value = new Float64Array(nodes);
    this.#roots = new Int32Array(trees.length);
    this.#slots = new Int32Array(trees.length);
    this.#base = base;
    this.#F = categoryCounts.length;
    let at = 0;
    let w = 0;
    trees.forEach((t, ti) => {
      this.#roots[ti] = at;
      this.#slots[ti] = t.slot;
      for (let i = 0; i < t.feature.length; i++) {
        const g = at + i;
        const f = t.feature[i]!;
        this.#feature[g] = f;
        this.#threshold[g] = t.threshold[i]!;
        this.#missingLeft[g] = t.missingLeft[i]!;
        this.#left[g] = f >= 0 ? at + t.left[i]! : -1;
        this.#right[g] = f >= 0 ? at + t.right[i]! : -1;
        this.#value[g] = t.value[i]!;
        if (f >= 0 && categoryCounts[f]! > 0) {
          this.#catOffset[g] = w;
          for (const c of t.leftCategories[i]!) this.#catBits[w + (c >>> 5)]! |= 1 << (c & 31);
          w += (categoryCounts[f]! + 31) >>> 5;
        }
      }
      at += t.feature.length;
    });
  }

  /**
   * Raw scores, row-major rows × slots, for a row-major feature matrix (see
   * `featureMatrix`: numeric values rounded to float32, categories as codes, NaN missing).
   */
  predictRaw(X: Float64Array, rows: number, slots: number): Float64Array {
    const out = new Float64Array(rows * slots);
    const F = this.#F;
    const feature = this.#feature;
    const threshold = this.#threshold;
    const catOffset = this.#catOffset;
    const catBits = this.#catBits;
    const missingLeft = this.#missingLeft;
    const left = this.#left;
    const right = this.#right;
    const value = this.#value;
    const roots = this.#roots;
    const slotOf = this.#slots;
    const T = roots.length;
    for (let i = 0; i < rows; i++) {
      const xb = i * F;
      const ob = i * slots;
      for (let k = 0; k < slots; k++) out[ob + k] = this.#base[k]!;
      for (let t = 0; t < T; t++) {
        let node = roots[t]!;
        let f: number;
        while ((f = feature[node]!) >= 0) {
          const x = X[xb + f]!;
          let goLeft: boolean;
          if (x !== x) goLeft = missingLeft[node] === 1;
          else {
            const co = catOffset[node]!;
            if (co < 0) goLeft = x <= threshold[node]!;
            else goLeft = ((catBits[co + (x >>> 5)]! >>> (x & 31)) & 1) === 1;
          }
          node = goLeft ? left[node]! : right[node]!;
        }
        const o = ob + slotOf[t]!;
        out[o] = out[o]! + value[node]!;
      }
    }
    return out;
  }
}
