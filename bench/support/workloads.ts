import type { Metric } from '@trestle/core';

/** Points per log-batch call, as MLflow's limit. */
export const BATCH = 1000;
/** Metric keys logged at each step of the simulated training loop. */
export const KEYS_PER_BATCH = 5;

/** Batch `b` of a training loop logging KEYS_PER_BATCH metrics per step, BATCH points in all. */
export function trainingBatch(b: number): Metric[] {
  const steps = BATCH / KEYS_PER_BATCH;
  const out: Metric[] = [];
  for (let i = 0; i < steps; i++) {
    const step = b * steps + i;
    for (let k = 0; k < KEYS_PER_BATCH; k++) {
      out.push({
        key: `metric_${k}`,
        value: Math.sin(step / 50 + k) + Math.random() * 0.01,
        step,
        timestamp: 1_700_000_000_000 + step,
      });
    }
  }
  return out;
}
