/**
 * The pipeline engine: `trestle.yaml` (DVC's `dvc.yaml` shape), the DAG, the stage cache,
 * the lock file and the executors.
 */
export * from './lockfile.js';
export * from './definition.js';
export * from './graph.js';
export * from './runner.js';
export { RepoLock } from './repo-lock.js';
export * from './queue.js';
export * from './k8s.js';
