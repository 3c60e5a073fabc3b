import type { Tag } from '../experiment.js';
import type { LoggedModel, LoggedModelMetric, LoggedModelStatus } from '../logged-model.js';
import type { Page } from '../page.js';
import type { Param } from '../run.js';

/** Input of {@link LoggedModelStore.createLoggedModel}. */
export interface CreateLoggedModelInput {
  experimentId: string;
  /** Default: a generated name such as `bold-heron-042`. */
  name?: string;
  modelType?: string;
  sourceRunId?: string;
  params?: Param[];
  tags?: Tag[];
  creator?: string;
}

/** Options of {@link LoggedModelStore.searchLoggedModels}. */
export interface SearchLoggedModelsOptions {
  experimentIds: string[];
  /** `name = 'x' AND metrics.accuracy > 0.9 AND params.alpha = '0.1' AND tags.t = 'v'` (plus OR, parentheses). */
  filter?: string;
  /** e.g. `['metrics.accuracy DESC', 'creation_timestamp']`; default `creation_timestamp DESC, model_id`. */
  orderBy?: { field: string; ascending: boolean; datasetName?: string; datasetDigest?: string }[];
  /** Only metrics of these datasets count in filters and order. */
  datasets?: { datasetName: string; datasetDigest?: string }[];
  /** Default 100, at most 50,000. */
  maxResults?: number;
  pageToken?: string;
}

/**
 * MLflow 3 logged models in the metadata store, and the model inputs and outputs of runs.
 *
 * @example
 * const m = await store.loggedModels.createLoggedModel({ experimentId: '1', name: 'model', sourceRunId: runId });
 * await store.loggedModels.finalizeLoggedModel(m.modelId, 'READY');
 */
export interface LoggedModelStore {
  /** `NOT_FOUND` for an unknown experiment or run; the model starts PENDING. */
  createLoggedModel(input: CreateLoggedModelInput): Promise<LoggedModel>;
  /** `NOT_FOUND` when it does not exist (or was deleted). */
  getLoggedModel(modelId: string): Promise<LoggedModel>;
  /** Soft-deletes it: hidden from get and search. */
  deleteLoggedModel(modelId: string): Promise<void>;
  /** Sets the status (READY or FAILED, or back to PENDING). */
  finalizeLoggedModel(modelId: string, status: LoggedModelStatus, statusMessage?: string): Promise<LoggedModel>;
  setLoggedModelTags(modelId: string, tags: Tag[]): Promise<void>;
  /** `NOT_FOUND` when the tag is not set. */
  deleteLoggedModelTag(modelId: string, key: string): Promise<void>;
  /** Params are immutable: the same value again is fine, another is `CONFLICT`. */
  logLoggedModelParams(modelId: string, params: Param[]): Promise<void>;
  /** Attaches metric points (logged to a run with this model's id). */
  logLoggedModelMetrics(modelId: string, metrics: LoggedModelMetric[]): Promise<void>;
  searchLoggedModels(options: SearchLoggedModelsOptions): Promise<Page<LoggedModel>>;
  /** Records that a run read (`input`) or produced (`output`, at `step`) these models. */
  logRunModels(
    runId: string,
    direction: 'input' | 'output',
    models: { modelId: string; step?: number }[],
  ): Promise<void>;
  /** The models a run read and produced. */
  getRunModels(runId: string): Promise<{ inputs: { modelId: string }[]; outputs: { modelId: string; step: number }[] }>;
}
