/**
 * The pipeline engine: `trestle.yaml` (DVC's `dvc.yaml` shape), the DAG, the stage cache,
 * the lock file and the executors.
 */
export * from './lockfile.js';
