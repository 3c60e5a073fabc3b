import type { LifecycleStage, Tag } from './experiment.js';
import type { DatasetInput } from './dataset.js';

/** Run status, with MLflow's names and numbering (`RUNNING=1 … KILLED=5`). */
export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export function isRunStatus(value: unknown): value is RunStatus {
  return typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value);
}

/** Run metadata (MLflow `RunInfo`). Times are epoch milliseconds; `endTime` is null while running. */
export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

/** One point of a metric's history. `timestamp` is epoch ms; `step` defaults to 0. */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A run parameter. Immutable: logging the same key with another value is a `CONFLICT`. */
export interface Param {
  key: string;
  value: string;
}

/** What a run recorded: latest value per metric key, params and tags. */
export interface RunData {
  metrics: Metric[];
  params: Param[];
  tags: Tag[];
}

/** A run: its info, its data, and the dataset versions it read. */
export interface Run {
  info: RunInfo;
  data: RunData;
  inputs: { datasetInputs: DatasetInput[] };
}

/** Tags with meaning, shared with MLflow so that MLflow clients and UIs understand them. */
export const SYSTEM_TAGS = {
  parentRunId: 'mlflow.parentRunId',
  runName: 'mlflow.runName',
  user: 'mlflow.user',
  source: 'mlflow.source.name',
  datasetContext: 'mlflow.data.context',
  note: 'mlflow.note.content',
} as const;

/** MLflow's limits, enforced by every store so both dialects agree. */
export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  runNameLength: 250,
  experimentNameLength: 500,
} as const;

/**
 * The artifact store key of a run's file: `<experimentId>/<runId>/artifacts/<path>`. The SDK,
 * the REST API and the MLflow proxied artifact service all use it. An empty `path` is the run's
 * artifact folder.
 *
 * @example runArtifactKey({ experimentId: '1', runId: '4f2a' }, 'model/MLmodel') // '1/4f2a/artifacts/model/MLmodel'
 */
export function runArtifactKey(info: Pick<RunInfo, 'experimentId' | 'runId'>, path = ''): string {
  const root = `${info.experimentId}/${info.runId}/artifacts`;
  return path === '' ? root : `${root}/${path}`;
}
