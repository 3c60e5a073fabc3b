import { Worker } from 'node:worker_threads';
import { buildHistogram, histogramLength } from './histogram.js';

/**
 * Histogram building on a second core. The binned rows, the row indices and the
 * gradients live in SharedArrayBuffers; for a large node the helper thread sums one half
 * of the rows into its own histogram while this thread sums the other half, and the two
 * are added. Hand-off is a counter in shared memory with Atomics.wait/notify (tens of
 * microseconds), not messages: training stays a synchronous call.
 *
 * The helper's code is plain JavaScript evaluated in the worker, so it runs the same
 * under tsx, vitest and a bundled CLI.
 */

/** Nodes with fewer rows than this are built on one thread (the hand-off would cost more). */
const MIN_ROWS_TO_SHARE = 30_000;

// Control words: [0] task sequence, [1] start, [2] end, [3] gradient offset, [4] done sequence, [5] stop.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.ctl);
const binned = new Uint8Array(workerData.binned);
const idx = new Int32Array(workerData.idx);
const grad = new Float64Array(workerData.grad);
const hess = new Float64Array(workerData.hess);
const hist = new Float64Array(workerData.hist);
const F = workerData.features;
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (Atomics.load(ctl, 5) === 1) break;
  const start = ctl[1], end = ctl[2], off = ctl[3];
  hist.fill(0);
  for (let i = start; i < end; i++) {
    const r = idx[i];
    const g = grad[off + r];
    const h = hess[off + r];
    const base = r * F;
    for (let f = 0; f < F; f++) {
      const o = ((f << 8) | binned[base + f]) * 3;
      hist[o] += g;
      hist[o + 1] += h;
      hist[o + 2] += 1;
    }
  }
  Atomics.store(ctl, 4, seen);
  Atomics.notify(ctl, 4);
}
`;

/** Shared arrays the trainer fills and the helper reads. */
export interface SharedTrainingArrays {
  readonly binned: Uint8Array;
  readonly idx: Int32Array;
  /** Gradients and hessians of every tree slot (class-major). */
  readonly grad: Float64Array;
  readonly hess: Float64Array;
}

/**
 * Allocates a typed array on a SharedArrayBuffer (so a helper thread can read it).
 *
 * @example
 * const grad = sharedArray(Float64Array, n);
 */
export function sharedArray<T extends Float64Array | Int32Array | Uint8Array>(
  Type: { new (buffer: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Type(new SharedArrayBuffer(Math.max(1, length) * Type.BYTES_PER_ELEMENT));
}

/** A helper thread for histogram building; call {@link HistogramHelper.close} when done. */
export class HistogramHelper {
  readonly #worker: Worker;
  readonly #ctl: Int32Array;
  readonly #hist: Float64Array;
  readonly #arrays: SharedTrainingArrays;
  readonly #F: number;
  #seq = 0;

  constructor(arrays: SharedTrainingArrays, features: number) {
    this.#arrays = arrays;
    this.#F = features;
    this.#ctl = sharedArray(Int32Array, 8);
    this.#hist = sharedArray(Float64Array, histogramLength(features));
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        ctl: this.#ctl.buffer,
        binned: arrays.binned.buffer,
        idx: arrays.idx.buffer,
        grad: arrays.grad.buffer,
        hess: arrays.hess.buffer,
        hist: this.#hist.buffer,
        features,
      },
    });
    this.#worker.unref();
  }

  /**
   * Builds the histogram of rows idx[start..end) with the gradients at `offset` (the tree
   * slot's block) into `hist`, splitting the rows with the helper when there are many.
   */
  build(hist: Float64Array, start: number, end: number, offset: number, grad: Float64Array, hess: Float64Array): void {
    const { binned, idx } = this.#arrays;
    if (end - start < MIN_ROWS_TO_SHARE) {
      buildHistogram(hist, binned, this.#F, idx, start, end, grad, hess);
      return;
    }
    const mid = (start + end) >>> 1;
    const ctl = this.#ctl;
    ctl[1] = mid;
    ctl[2] = end;
    ctl[3] = offset;
    const seq = ++this.#seq;
    Atomics.store(ctl, 0, seq);
    Atomics.notify(ctl, 0);
    buildHistogram(hist, binned, this.#F, idx, start, mid, grad, hess);
    while (Atomics.load(ctl, 4) !== seq) Atomics.wait(ctl, 4, Atomics.load(ctl, 4), 1000);
    const other = this.#hist;
    for (let i = 0; i < hist.length; i++) hist[i] = hist[i]! + other[i]!;
  }

  /** Stops the helper thread. */
  close(): void {
    Atomics.store(this.#ctl, 5, 1);
    Atomics.add(this.#ctl, 0, 1);
    Atomics.notify(this.#ctl, 0);
    void this.#worker.terminate();
  }
}
