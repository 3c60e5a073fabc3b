import type { Task } from '../model.js';

/**
 * Boosting losses. Raw scores, gradients and hessians are class-major: entry `k * n + i`
 * belongs to class k (tree k of each round) and row i.
 */
export interface Loss {
  /** Trees grown per boosting round (1, or the class count for multiclass). */
  readonly treesPerRound: number;
  /** The constant raw score every row starts from, per tree slot. */
  baseline(y: Float64Array): Float64Array;
  /** Fills gradients and hessians of the loss at `raw`. */
  gradients(y: Float64Array, raw: Float64Array, grad: Float64Array, hess: Float64Array): void;
  /** Mean loss at `raw`. */
  loss(y: Float64Array, raw: Float64Array): number;
}

/** The loss of a task; `classes` is the class count of a classifier. */
export function lossFor(task: Task, classes: number): Loss {
  if (task === 'binary') return binaryLogLoss;
  if (task === 'multiclass') return multinomialLoss(classes);
  return squaredError;
}

const binaryLogLoss: Loss = {
  treesPerRound: 1,
  baseline(y) {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]!;
    const p = Math.min(Math.max(s / y.length, 1e-15), 1 - 1e-15);
    return Float64Array.of(Math.log(p / (1 - p)));
  },
  gradients(y, raw, grad, hess) {
    const n = y.length;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-raw[i]!));
      grad[i] = p - y[i]!;
      hess[i] = p * (1 - p);
    }
  },
  loss(y, raw) {
    const n = y.length;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const z = raw[i]!;
      // log(1 + e^z) − y z, stable for large |z|.
      s += (z > 0 ? z : 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i]! * z;
    }
    return s / n;
  },
};

function multinomialLoss(K: number): Loss {
  return {
    treesPerRound: K,
    baseline(y) {
      const counts = new Float64Array(K);
      for (let i = 0; i < y.length; i++) counts[y[i]!]!++;
      return counts.map((c) => Math.log(Math.max(c / y.length, 1e-15)));
    },
    gradients(y, raw, grad, hess) {
      const n = y.length;
      for (let i = 0; i < n; i++) {
        let max = -Infinity;
        for (let k = 0, at = i; k < K; k++, at += n) if (raw[at]! > max) max = raw[at]!;
        let sum = 0;
        for (let k = 0, at = i; k < K; k++, at += n) {
          const e = Math.exp(raw[at]! - max);
          grad[at] = e;
          sum += e;
        }
        const yi = y[i]!;
        for (let k = 0, at = i; k < K; k++, at += n) {
          const p = grad[at]! / sum;
          grad[at] = p - (k === yi ? 1 : 0);
          hess[at] = p * (1 - p);
        }
      }
    },
    loss(y, raw) {
      const n = y.length;
      let s = 0;
      for (let i = 0; i < n; i++) {
        let max = -Infinity;
        for (let k = 0, at = i; k < K; k++, at += n) if (raw[at]! > max) max = raw[at]!;
        let sum = 0;
        for (let k = 0, at = i; k < K; k++, at += n) sum += Math.exp(raw[at]! - max);
        s += max + Math.log(sum) - raw[y[i]! * n + i]!;
      }
      return s / n;
    },
  };
}

const squaredError: Loss = {
  treesPerRound: 1,
  baseline(y) {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]!;
    return Float64Array.of(s / y.length);
  },
  gradients(y, raw, grad, hess) {
    const n = y.length;
    for (let i = 0; i < n; i++) {
      grad[i] = raw[i]! - y[i]!;
      hess[i] = 1;
    }
  },
  loss(y, raw) {
    const n = y.length;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = raw[i]! - y[i]!;
      s += d * d;
    }
    return s / n;
  },
};
