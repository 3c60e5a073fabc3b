/** Lifecycle of experiments and runs: deleted ones are hidden from default searches but can be restored. */
export type LifecycleStage = 'active' | 'deleted';

/** Which lifecycle stages a search returns (MLflow `ViewType`). */
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

/** A named group of runs (MLflow `Experiment`). Times are epoch milliseconds. */
export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Tag[];
}

/** A key/value string pair (tags of experiments and runs). */
export interface Tag {
  key: string;
  value: string;
}

/** The experiment every store creates on first use, as MLflow does. */
export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';
