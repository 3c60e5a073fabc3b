/**
 * `trestle quickstart` flags for tests: a small slice of the flights (5,000 of each window), a
 * small model, and a gate the slice can pass, so the real pipeline (stages, cache, tracking,
 * registry) runs in seconds rather than minutes.
 */
export const QUICKSTART_SLICE = [
  '--rows',
  '5000',
  '--set',
  'train.rounds=30',
  '--set',
  'train.max_leaves=7',
  '--set',
  'train.min_samples_leaf=100',
  '--set',
  'evaluate.min_auc=0.55',
  '--set',
  'evaluate.max_log_loss_ratio=1.1',
];
