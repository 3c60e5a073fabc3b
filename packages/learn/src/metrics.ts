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
