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
  // On 5,000 flights the logistic regression ranks as well as the GBDT (the trees need more
  // data): the slice does not ask the GBDT to beat it; the pipeline test's larger slice does.
  '--set',
  'evaluate.min_auc_over_logistic=-1',
];

/**
 * A larger slice (50,000 flights of each window) and model for the test that the GBDT beats
 * the logistic regression on the held-out week, with the gate checking it (as on the whole
 * data): the trees need that much data to pull ahead (test AUC about 0.598 against 0.589).
 */
export const QUICKSTART_COMPARE_SLICE = [
  '--rows',
  '50000',
  '--set',
  'train.rounds=60',
  '--set',
  'train.max_leaves=15',
  '--set',
  'train.learning_rate=0.2',
  '--set',
  'train.min_samples_leaf=100',
  '--set',
  'evaluate.min_auc=0.55',
  '--set',
  'evaluate.max_log_loss_ratio=1.1',
];
