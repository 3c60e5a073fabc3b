import type { Tag } from './experiment.js';
import type { Param } from './run.js';

/**
 * MLflow 3's logged models: a model logged to an experiment (usually by a run) with its own
 * artifact root (`<experiment>/models/<model_id>/artifacts` in the artifact store), params,
 * tags and the metrics that were logged against it. The registry registers them as versions
 * (`source: models:/m-<id>`).
 */

/** Status of a logged model: PENDING while its files upload, then READY or FAILED. */
export const LOGGED_MODEL_STATUSES = ['PENDING', 'READY', 'FAILED'] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** A metric point attached to a logged model (and kept on its run). */
export interface LoggedModelMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  runId?: string;
  datasetName?: string;
  datasetDigest?: string;
}

/** A logged model. Times are epoch ms. */
export interface LoggedModel {
  /** `m-` and 32 lowercase hex characters. */
  modelId: string;
  experimentId: string;
  name: string;
  creationTime: number;
  lastUpdatedTime: number;
  status: LoggedModelStatus;
  statusMessage?: string;
  modelType?: string;
  sourceRunId?: string;
  /** Who created it; '' when unknown. */
  creator: string;
  tags: Tag[];
  params: Param[];
  metrics: LoggedModelMetric[];
  /** Registered versions made from it. */
  registrations: { name: string; version: number }[];
}

/**
 * The artifact store key of a logged model's file: `<experimentId>/models/<modelId>/artifacts/<path>`,
 * what MLflow clients reach as `mlflow-artifacts:/<experimentId>/models/<modelId>/artifacts/<path>`.
 *
 * @example loggedModelArtifactKey({ experimentId: '1', modelId: 'm-0f…' }, 'MLmodel') // '1/models/m-0f…/artifacts/MLmodel'
 */
export function loggedModelArtifactKey(model: { experimentId: string; modelId: string }, path = ''): string {
  const root = `${model.experimentId}/models/${model.modelId}/artifacts`;
  const rest = path.replace(/^\/+/, '');
  return rest === '' ? root : `${root}/${rest}`;
}
