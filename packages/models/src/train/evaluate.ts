import { accuracy, logLoss, rocAuc } from '@trestle/learn';
import type { Task } from '../manifest.js';

/**
 * Evaluation metrics of scores against the truth, keyed `<prefix>_<metric>`:
 * binary → auc, accuracy, log_loss; multiclass → accuracy, log_loss; regression → rmse, mae, r2.
 *
 * @param truth class indices (classification) or values (regression)
 * @param scores one score per row (binary, regression) or rows × classes probabilities
 */
export function evaluate(
  task: Exclude<Task, 'other'>,
  truth: Int32Array | Float64Array,
  scores: Float64Array,
  classes: number,
  prefix: string,
): Record<string, number> {
  const n = truth.length;
  const key = (m: string): string => `${prefix}_${m}`;
  if (n === 0) return {};
  if (task === 'regression') {
    let se = 0;
    let ae = 0;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += truth[i]!;
    mean /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = scores[i]! - truth[i]!;
      se += d * d;
      ae += Math.abs(d);
      ss += (truth[i]! - mean) ** 2;
    }
    return { [key('rmse')]: Math.sqrt(se / n), [key('mae')]: ae / n, [key('r2')]: ss > 0 ? 1 - se / ss : 0 };
  }
  if (task === 'binary-classification') {
    const y = Uint8Array.from(truth, (v) => (v === 1 ? 1 : 0));
    const p = Float64Array.from(scores, (v) => Math.min(1, Math.max(0, v)));
    const out: Record<string, number> = { [key('accuracy')]: accuracy(y, p), [key('log_loss')]: logLoss(y, p) };
    let positives = 0;
    for (const v of y) positives += v;
    if (positives > 0 && positives < n) out[key('auc')] = rocAuc(y, p);
    return out;
  }
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (scores[i * classes + j]! > scores[i * classes + best]!) best = j;
    if (best === truth[i]) correct++;
    loss -= Math.log(Math.max(scores[i * classes + truth[i]!]!, 1e-15));
  }
  return { [key('accuracy')]: correct / n, [key('log_loss')]: loss / n };
}
