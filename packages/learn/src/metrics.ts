import { TrestleError } from '@trestle/core';

/**
 * Binary classification metrics on typed arrays. Labels are 0/1 (`Uint8Array` or any
 * array-like of numbers); predictions are probabilities or scores, one per label.
 */

/**
 * Fraction of rows whose thresholded prediction (`p ≥ threshold` → 1) equals the label.
 *
 * @throws TrestleError `INVALID_ARGUMENT` on a length mismatch, empty input or labels
 *   other than 0/1.
 * @example
 * accuracy(Uint8Array.of(1, 0, 1), Float64Array.of(0.9, 0.4, 0.2)); // 2/3
 */
export function accuracy(labels: ArrayLike<number>, predictions: ArrayLike<number>, threshold = 0.5): number {
  checkPair(labels, predictions, 'accuracy');
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = predictions[i]! >= threshold ? 1 : 0;
    if (predicted === label(labels, i)) correct++;
  }
  return correct / labels.length;
}

/**
 * Mean binary cross-entropy −[y ln p + (1 − y) ln(1 − p)], with p and 1 − p clipped below
 * at `eps`, so a confident mistake costs at most −ln(eps) (≈ 34.54 for 1e-15).
 *
 * @throws TrestleError `INVALID_ARGUMENT` on a length mismatch, empty input, labels other
 *   than 0/1, or a probability outside [0, 1].
 * @example
 * logLoss(Uint8Array.of(1, 0), Float64Array.of(0.8, 0.4)); // (−ln 0.8 − ln 0.6) / 2 ≈ 0.367
 */
export function logLoss(labels: ArrayLike<number>, probabilities: ArrayLike<number>, eps = 1e-15): number {
  checkPair(labels, probabilities, 'logLoss');
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const raw = probabilities[i]!;
    if (!(raw >= 0 && raw <= 1)) {
      throw new TrestleError('INVALID_ARGUMENT', `logLoss needs probabilities in [0, 1]; value ${raw} at index ${i}`);
    }
    if (label(labels, i) === 1) sum -= Math.log(Math.max(raw, eps));
    // 1 − p is exact for p ≥ ½; below that log1p keeps the precision of tiny p.
    else sum -= raw > 0.5 ? Math.log(Math.max(1 - raw, eps)) : Math.log1p(-raw);
  }
  return sum / labels.length;
}

/**
 * Area under the ROC curve: the probability that a random positive scores higher than a
 * random negative, ties counting one half. This is the Mann–Whitney U statistic with tied
 * scores given their average rank, computed by sorting the positives' and the negatives'
 * scores separately and merging them: O(n log n), no comparator callbacks.
 *
 * @throws TrestleError `INVALID_ARGUMENT` on a length mismatch, labels other than 0/1,
 *   a NaN score, or when only one class occurs (AUC is then undefined).
 * @example
 * rocAuc(Uint8Array.of(0, 0, 1, 1), Float64Array.of(0.1, 0.4, 0.35, 0.8)); // 0.75
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkPair(labels, scores, 'rocAuc');
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += label(labels, i);
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `rocAuc needs both classes; got ${positives} positives and ${negatives} negatives`,
    );
  }
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  for (let i = 0, p = 0, q = 0; i < labels.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw new TrestleError('INVALID_ARGUMENT', `rocAuc got a NaN score at index ${i}`);
    if (labels[i] === 1) pos[p++] = s;
    else neg[q++] = s;
  }
  pos.sort();
  neg.sort();
  // For each positive: negatives strictly below it, plus half the negatives equal to it.
  let wins = 0;
  let below = 0; // negatives with score < current positive
  let upTo = 0; // negatives with score ≤ current positive
  for (let i = 0; i < positives; i++) {
    const s = pos[i]!;
    while (below < negatives && neg[below]! < s) below++;
    if (upTo < below) upTo = below;
    while (upTo < negatives && neg[upTo]! <= s) upTo++;
    wins += below + 0.5 * (upTo - below);
  }
  return wins / positives / negatives;
}

function checkPair(labels: ArrayLike<number>, values: ArrayLike<number>, fn: string): void {
  if (labels.length !== values.length) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${fn}: ${labels.length} labels but ${values.length} predictions; pass one prediction per label`,
    );
  }
  if (labels.length === 0) throw new TrestleError('INVALID_ARGUMENT', `${fn}: no rows`);
}

function label(labels: ArrayLike<number>, i: number): 0 | 1 {
  const v = labels[i];
  if (v === 0 || v === 1) return v;
  throw new TrestleError('INVALID_ARGUMENT', `labels must be 0 or 1; got ${v} at index ${i}`);
}

/** True/false positive/negative counts of thresholded binary predictions. */
function counts(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  fn: string,
): { tp: number; fp: number; fn: number; tn: number } {
  checkPair(labels, scores, fn);
  let tp = 0;
  let fp = 0;
  let fneg = 0;
  let tn = 0;
  for (let i = 0; i < labels.length; i++) {
    const positive = scores[i]! >= threshold;
    if (label(labels, i) === 1) {
      if (positive) tp++;
      else fneg++;
    } else if (positive) fp++;
    else tn++;
  }
  return { tp, fp, fn: fneg, tn };
}

/**
 * Precision TP / (TP + FP) of `p ≥ threshold` against 0/1 labels; 0 when nothing is
 * predicted positive (scikit-learn's `zero_division` default, with its warning dropped).
 *
 * @example
 * precision(Uint8Array.of(1, 0, 1), Float64Array.of(0.9, 0.8, 0.2)); // 0.5
 */
export function precision(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): number {
  const c = counts(labels, scores, threshold, 'precision');
  return c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
}

/**
 * Recall (sensitivity) TP / (TP + FN); 0 when there are no positive labels.
 *
 * @example
 * recall(Uint8Array.of(1, 0, 1), Float64Array.of(0.9, 0.8, 0.2)); // 0.5
 */
export function recall(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): number {
  const c = counts(labels, scores, threshold, 'recall');
  return c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
}

/**
 * F1, the harmonic mean of precision and recall: 2TP / (2TP + FP + FN); 0 when undefined.
 *
 * @example
 * f1Score(Uint8Array.of(1, 0, 1), Float64Array.of(0.9, 0.8, 0.2)); // 0.5
 */
export function f1Score(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): number {
  const c = counts(labels, scores, threshold, 'f1Score');
  const d = 2 * c.tp + c.fp + c.fn;
  return d === 0 ? 0 : (2 * c.tp) / d;
}

/**
 * Area under the precision–recall curve as average precision, Σ (Rₙ − Rₙ₋₁) Pₙ over
 * score thresholds from high to low (tied scores form one threshold), as scikit-learn's
 * `average_precision_score`.
 *
 * @throws TrestleError `INVALID_ARGUMENT` on a length mismatch, NaN scores, or no positives.
 * @example
 * prAuc(Uint8Array.of(0, 1, 1), Float64Array.of(0.1, 0.8, 0.4)); // 1
 */
export function prAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkPair(labels, scores, 'prAuc');
  const n = labels.length;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    positives += label(labels, i);
    if (Number.isNaN(scores[i]!)) throw new TrestleError('INVALID_ARGUMENT', `prAuc got a NaN score at index ${i}`);
  }
  if (positives === 0) throw new TrestleError('INVALID_ARGUMENT', 'prAuc needs at least one positive label');
  // Sort by score descending through the native numeric sort of (−score) keys.
  const order = sortedIndices(scores, true);
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let lastRecall = 0;
  for (let j = 0; j < n;) {
    const s = scores[order[j]!]!;
    while (j < n && scores[order[j]!] === s) {
      if (labels[order[j]!] === 1) tp++;
      else fp++;
      j++;
    }
    const r = tp / positives;
    ap += (r - lastRecall) * (tp / (tp + fp));
    lastRecall = r;
  }
  return ap;
}

/**
 * Confusion matrix of class codes: `matrix[t][p]` counts rows of true class t predicted
 * as p (scikit-learn's layout).
 *
 * @throws TrestleError `INVALID_ARGUMENT` on a length mismatch or a code outside 0…classes−1.
 * @example
 * confusionMatrix([0, 1, 1], [0, 0, 1], 2); // [[1, 0], [1, 1]]
 */
export function confusionMatrix(
  trueClasses: ArrayLike<number>,
  predictedClasses: ArrayLike<number>,
  classes: number,
): number[][] {
  checkPair(trueClasses, predictedClasses, 'confusionMatrix');
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < trueClasses.length; i++) {
    const t = trueClasses[i]!;
    const p = predictedClasses[i]!;
    if (!(Number.isInteger(t) && t >= 0 && t < classes && Number.isInteger(p) && p >= 0 && p < classes)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `confusionMatrix: row ${i} has classes ${t} → ${p}; codes must be integers in 0…${classes - 1}`,
      );
    }
    m[t]![p]!++;
  }
  return m;
}

/**
 * The most probable class of each row of a row-major rows × classes probability matrix
 * (what `model.predict` returns for a classifier).
 *
 * @example
 * argmaxRows(Float64Array.of(0.2, 0.8, 0.6, 0.4), 2); // Int32Array [1, 0]
 */
export function argmaxRows(probabilities: ArrayLike<number>, classes: number): Int32Array {
  const rows = Math.floor(probabilities.length / classes);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (probabilities[i * classes + k]! > probabilities[i * classes + best]!) best = k;
    out[i] = best;
  }
  return out;
}

/**
 * Fraction of rows whose predicted class code equals the true one (multiclass accuracy).
 *
 * @example
 * classAccuracy([0, 2, 1], [0, 2, 2]); // 2/3
 */
export function classAccuracy(trueClasses: ArrayLike<number>, predictedClasses: ArrayLike<number>): number {
  checkPair(trueClasses, predictedClasses, 'classAccuracy');
  let ok = 0;
  for (let i = 0; i < trueClasses.length; i++) if (trueClasses[i] === predictedClasses[i]) ok++;
  return ok / trueClasses.length;
}

/**
 * Mean cross-entropy −ln p(true class) over rows of a row-major probability matrix,
 * probabilities clipped at `eps` (scikit-learn's `log_loss` for several classes).
 *
 * @throws TrestleError `INVALID_ARGUMENT` on shape mismatches or a class code out of range.
 * @example
 * multiclassLogLoss([0, 2], Float64Array.of(0.7, 0.2, 0.1, 0.1, 0.1, 0.8), 3); // (−ln 0.7 − ln 0.8) / 2
 */
export function multiclassLogLoss(
  trueClasses: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  classes: number,
  eps = 1e-15,
): number {
  const n = trueClasses.length;
  if (n === 0) throw new TrestleError('INVALID_ARGUMENT', 'multiclassLogLoss: no rows');
  if (probabilities.length !== n * classes) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `multiclassLogLoss: ${probabilities.length} probabilities for ${n} rows × ${classes} classes`,
    );
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = trueClasses[i]!;
    if (!(Number.isInteger(t) && t >= 0 && t < classes))
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `multiclassLogLoss: class ${t} at row ${i} is not in 0…${classes - 1}`,
      );
    sum -= Math.log(Math.min(Math.max(probabilities[i * classes + t]!, eps), 1 - eps));
  }
  return sum / n;
}

/**
 * Root mean squared error.
 *
 * @example
 * rmse([3, -0.5, 2], [2.5, 0, 2]); // √(0.5 / 3) ≈ 0.408
 */
export function rmse(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPair(actual, predicted, 'rmse');
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += (actual[i]! - predicted[i]!) ** 2;
  return Math.sqrt(s / actual.length);
}

/**
 * Mean absolute error.
 *
 * @example
 * mae([3, -0.5, 2], [2.5, 0, 2]); // 1/3
 */
export function mae(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPair(actual, predicted, 'mae');
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i]! - predicted[i]!);
  return s / actual.length;
}

/**
 * Coefficient of determination 1 − SS_res / SS_tot. For constant `actual` it is 1 when
 * the predictions are exact and 0 otherwise (as scikit-learn's `r2_score`).
 *
 * @example
 * r2([1, 2, 3], [1, 2, 3]); // 1
 */
export function r2(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkPair(actual, predicted, 'r2');
  const n = actual.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i]! / n;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    res += (actual[i]! - predicted[i]!) ** 2;
    tot += (actual[i]! - mean) ** 2;
  }
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}

/** Row indices ordered by score (descending when `descending`), via a native numeric sort. */
function sortedIndices(scores: ArrayLike<number>, descending: boolean): Int32Array {
  const n = scores.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = descending ? -scores[i]! : scores[i]!;
  const sorted = Float64Array.from(keys).sort();
  // Place each row at the first free slot of its key (ties keep row order).
  const next = new Int32Array(n).fill(-1);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    const slot = next[lo] === -1 ? lo : next[lo]!;
    next[lo] = slot + 1;
    out[slot] = i;
  }
  return out;
}
