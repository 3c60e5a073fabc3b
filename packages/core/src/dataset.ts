import type { Tag } from './experiment.js';

/**
 * A dataset version (MLflow `Dataset`): identified by name + digest (a hash of its content).
 * `schema` and `profile` are JSON strings, as in MLflow.
 */
export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema?: string;
  profile?: string;
}

/** A dataset as read by a run, with input tags (e.g. `mlflow.data.context = training`). */
export interface DatasetInput {
  dataset: Dataset;
  tags: Tag[];
}
