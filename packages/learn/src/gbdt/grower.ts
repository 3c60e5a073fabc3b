import { BINS_PER_FEATURE, type Binner } from './binning.js';
import { buildHistogram, histogramLength, HIST_STRIDE, subtractHistogram } from './histogram.js';
import type { HistogramHelper } from './histogram-pool.js';
import { findBestSplit, type Split, type SplitParams } from './split.js';

/** Growth limits of one tree. */
export interface GrowParams extends SplitParams {
  readonly maxLeaves: number;
  /** Maximum depth of a leaf (root = 0); Infinity for none. */
  readonly maxDepth: number;
  readonly learningRate: number;
}

/**
 * A tree as grown on bins. Node i is a leaf when `feature[i] === −1`; otherwise a row
 * goes left when `goLeft[i * 256 + bin] === 1`. `value` holds leaf values (learning rate
 * applied).
 */
export interface BinnedTree {
  readonly feature: Int32Array;
  /** Numeric split bin (bins ≤ it go left), −1 for a categorical split or a leaf. */
  readonly bin: Int32Array;
  readonly goLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  readonly gain: Float64Array;
  readonly count: Float64Array;
}

interface Leaf {
  readonly node: number;
  readonly start: number;
  readonly end: number;
  readonly depth: number;
  readonly G: number;
  readonly H: number;
  hist: Float64Array | null;
  split: Split | null;
}

/**
 * Grows trees leaf-wise (best gain first), as LightGBM and scikit-learn's
 * HistGradientBoosting do. Holds the row-index buffers and a pool of histograms so that
 * nothing per row is allocated while growing.
 */
export class TreeGrower {
  readonly #binned: Uint8Array;
  readonly #F: number;
  readonly #binners: readonly Binner[];
  readonly #idx: Int32Array;
  readonly #tmp: Int32Array;
  readonly #pool: Float64Array[] = [];

  readonly #helper: HistogramHelper | null;

  /**
   * @param idx the row-index buffer (length = rows); shared memory when `helper` is given.
   * @param helper a second thread for large histograms, or null.
   */
  constructor(binned: Uint8Array, idx: Int32Array, binners: readonly Binner[], helper: HistogramHelper | null = null) {
    this.#binned = binned;
    this.#F = binners.length;
    this.#binners = binners;
    this.#idx = idx;
    this.#tmp = new Int32Array(idx.length);
    this.#helper = helper;
  }

  #histogram(
    hist: Float64Array,
    start: number,
    end: number,
    grad: Float64Array,
    hess: Float64Array,
    offset: number,
    full: { grad: Float64Array; hess: Float64Array } | null,
  ): void {
    if (this.#helper !== null && full !== null) this.#helper.build(hist, start, end, offset, grad, hess);
    else buildHistogram(hist, this.#binned, this.#F, this.#idx, start, end, grad, hess);
  }

  /**
   * Grows one tree on the rows `rows` (all rows when null) with the given gradients,
   * hessians and feature mask. Returns the tree and, for each training row that took part,
   * nothing else: use {@link TreeGrower.addLeafValues} to update raw scores cheaply.
   */
  grow(
    rows: Int32Array | null,
    grad: Float64Array,
    hess: Float64Array,
    mask: Uint8Array,
    p: GrowParams,
    offset = 0,
    full: { grad: Float64Array; hess: Float64Array } | null = null,
  ): BinnedTree {
    const idx = this.#idx;
    let m: number;
    if (rows === null) {
      m = idx.length;
      for (let i = 0; i < m; i++) idx[i] = i;
    } else {
      m = rows.length;
      idx.set(rows);
    }
    this.#leafRanges.length = 0;
    const feature: number[] = [];
    const bin: number[] = [];
    const goLefts: Uint8Array[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const gain: number[] = [];
    const count: number[] = [];
    const newNode = (G: number, H: number, C: number): number => {
      feature.push(-1);
      bin.push(-1);
      goLefts.push(EMPTY_LUT);
      left.push(-1);
      right.push(-1);
      value.push((-p.learningRate * G) / (H + p.l2));
      gain.push(0);
      count.push(C);
      return feature.length - 1;
    };

    const rootHist = this.#take();
    this.#histogram(rootHist, 0, m, grad, hess, offset, full);
    let G = 0;
    let H = 0;
    for (let b = 0; b < BINS_PER_FEATURE; b++) {
      G += rootHist[b * HIST_STRIDE]!;
      H += rootHist[b * HIST_STRIDE + 1]!;
    }
    const root: Leaf = { node: newNode(G, H, m), start: 0, end: m, depth: 0, G, H, hist: rootHist, split: null };
    root.split = this.#splitOf(root, mask, p);
    const leaves: Leaf[] = [root];

    while (leaves.length < p.maxLeaves) {
      let at = -1;
      let bestGain = 0;
      for (let i = 0; i < leaves.length; i++) {
        const s = leaves[i]!.split;
        if (s !== null && s.gain > bestGain) {
          bestGain = s.gain;
          at = i;
        }
      }
      if (at < 0) break;
      const leaf = leaves[at]!;
      const split = leaf.split!;
      const mid = this.#partition(leaf.start, leaf.end, split);
      const nl = mid - leaf.start;
      const nr = leaf.end - mid;
      const gl = split.leftG;
      const hl = split.leftH;
      const l: Leaf = {
        node: newNode(gl, hl, nl),
        start: leaf.start,
        end: mid,
        depth: leaf.depth + 1,
        G: gl,
        H: hl,
        hist: null,
        split: null,
      };
      const r: Leaf = {
        node: newNode(leaf.G - gl, leaf.H - hl, nr),
        start: mid,
        end: leaf.end,
        depth: leaf.depth + 1,
        G: leaf.G - gl,
        H: leaf.H - hl,
        hist: null,
        split: null,
      };
      const n = leaf.node;
      feature[n] = split.feature;
      bin[n] = split.bin;
      goLefts[n] = split.goLeft;
      left[n] = l.node;
      right[n] = r.node;
      gain[n] = split.gain;

      // Histogram of the smaller child from its rows; the larger one's by subtraction.
      const [small, large] = nl <= nr ? [l, r] : [r, l];
      const parentHist = leaf.hist!;
      leaf.hist = null;
      const canSplit = (c: Leaf): boolean => c.depth < p.maxDepth && c.end - c.start >= 2 * p.minSamplesLeaf;
      if (canSplit(small) || canSplit(large)) {
        small.hist = this.#take();
        this.#histogram(small.hist, small.start, small.end, grad, hess, offset, full);
        subtractHistogram(parentHist, small.hist);
        large.hist = parentHist;
        for (const c of [small, large]) {
          if (canSplit(c)) c.split = this.#splitOf(c, mask, p);
          if (c.split === null) this.#release(c);
        }
      } else {
        this.#pool.push(parentHist);
      }
      leaves.splice(at, 1, l, r);
    }
    for (const leaf of leaves) {
      this.#release(leaf);
      this.#leafRanges.push(leaf.node, leaf.start, leaf.end);
    }
    const nodes = feature.length;
    const goLeft = new Uint8Array(nodes * BINS_PER_FEATURE);
    for (let i = 0; i < nodes; i++) if (feature[i]! >= 0) goLeft.set(goLefts[i]!, i * BINS_PER_FEATURE);
    return {
      feature: Int32Array.from(feature),
      bin: Int32Array.from(bin),
      goLeft,
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      value: Float64Array.from(value),
      gain: Float64Array.from(gain),
      count: Float64Array.from(count),
    };
  }

  /** Leaf node, start, end triples of the last grown tree (ranges of the row-index buffer). */
  readonly #leafRanges: number[] = [];

  /**
   * Adds the last tree's leaf values to `raw[offset + row]` for the rows it was grown on,
   * by walking the leaves' row ranges instead of the tree.
   */
  addLeafValues(tree: BinnedTree, raw: Float64Array, offset: number): void {
    const idx = this.#idx;
    const ranges = this.#leafRanges;
    for (let j = 0; j < ranges.length; j += 3) {
      const v = tree.value[ranges[j]!]!;
      for (let i = ranges[j + 1]!, end = ranges[j + 2]!; i < end; i++) {
        const r = offset + idx[i]!;
        raw[r] = raw[r]! + v;
      }
    }
  }

  #splitOf(leaf: Leaf, mask: Uint8Array, p: GrowParams): Split | null {
    return findBestSplit(leaf.hist!, this.#binners, mask, leaf.G, leaf.H, leaf.end - leaf.start, p);
  }

  /** Stable in-place partition of idx[start..end) by the split; returns the first right index. */
  #partition(start: number, end: number, split: Split): number {
    const idx = this.#idx;
    const tmp = this.#tmp;
    const binned = this.#binned;
    const F = this.#F;
    const f = split.feature;
    const goLeft = split.goLeft;
    let l = start;
    let t = 0;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      if (goLeft[binned[r * F + f]!] === 1) idx[l++] = r;
      else tmp[t++] = r;
    }
    idx.set(tmp.subarray(0, t), l);
    return l;
  }

  #take(): Float64Array {
    return this.#pool.pop() ?? new Float64Array(histogramLength(this.#F));
  }

  #release(leaf: Leaf): void {
    if (leaf.hist !== null) this.#pool.push(leaf.hist);
    leaf.hist = null;
  }
}

const EMPTY_LUT = new Uint8Array(BINS_PER_FEATURE);

/**
 * Adds the tree's values to `raw[offset + i]` for every row i of a binned matrix (rows × F),
 * walking the tree per row: for validation rows and rows left out by subsampling.
 */
export function addTreeValues(
  tree: BinnedTree,
  binned: Uint8Array,
  F: number,
  rows: number,
  raw: Float64Array,
  offset: number,
): void {
  const { feature, goLeft, left, right, value } = tree;
  for (let i = 0, base = 0; i < rows; i++, base += F) {
    let node = 0;
    let f: number;
    while ((f = feature[node]!) >= 0) {
      node = goLeft[node * BINS_PER_FEATURE + binned[base + f]!] === 1 ? left[node]! : right[node]!;
    }
    raw[offset + i] = raw[offset + i]! + value[node]!;
  }
}
