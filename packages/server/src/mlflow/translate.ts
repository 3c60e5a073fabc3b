/**
 * Entity ↔ MLflow JSON. MLflow's server writes its protos (proto2) with `MessageToJson` plus a
 * pass that turns int64 fields back into numbers, so on the wire:
 *
 * - ids are strings, timestamps and steps are JSON numbers (epoch ms);
 * - doubles are numbers, except NaN and ±Infinity, which are the strings `"NaN"`,
 *   `"Infinity"` and `"-Infinity"`;
 * - enums are their names (`"FINISHED"`, `"active"` is a plain string field);
 * - empty repeated fields are left out (`data: {}` for a run that logged nothing), as are
 *   optional fields never set (`end_time` of a running run).
 *
 * Artifact locations in the server's own store are reported in MLflow's proxied form
 * (`mlflow-artifacts:/<exp>/<run>/artifacts`) so that MLflow clients upload and download through
 * this server's `/mlflow-artifacts` routes, whose paths are the artifact store's keys; an
 * experiment's own location elsewhere is reported as given (see `artifact-locations.ts`).
 */
import type {
  Dataset,
  DatasetInput,
  Experiment,
  Metric,
  Param,
  Run,
  RunInfo,
  RunStatus,
  Tag,
  ViewType,
} from '@trestle/core';
import { RUN_STATUSES } from '@trestle/core';
import type { RequestMessage } from './request-message.js';

/** A double as MLflow's JSON carries it. */
export type MlflowDouble = number | 'NaN' | 'Infinity' | '-Infinity';

/** `{key, value}`: tags of experiments, runs and dataset inputs, and params. */
interface MlflowKeyValue {
  key: string;
  value: string;
}

/** MLflow `Experiment`. */
export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time?: number;
  creation_time?: number;
  tags?: MlflowKeyValue[];
}

/** MLflow `RunInfo` (`run_uuid` is the deprecated twin of `run_id`, still sent by MLflow). */
export interface MlflowRunInfo {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

/** MLflow `Metric`. */
export interface MlflowMetric {
  key: string;
  value: MlflowDouble;
  timestamp: number;
  step: number;
}

/** MLflow `Dataset`. */
interface MlflowDataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

/** MLflow `DatasetInput`. */
interface MlflowDatasetInput {
  tags?: MlflowKeyValue[];
  dataset: MlflowDataset;
}

/** MLflow `Run`. */
export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] };
  inputs: { dataset_inputs?: MlflowDatasetInput[]; model_inputs?: { model_id: string }[] };
  outputs?: { model_outputs?: { model_id: string; step: number }[] };
}

/** MLflow's `ViewType` names, in proto order (`ACTIVE_ONLY = 1`). */
export const VIEW_TYPES: readonly ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];

/** MLflow's `RunStatus` names, in proto order (`RUNNING = 1 … KILLED = 5`). */
export const MLFLOW_RUN_STATUSES: readonly RunStatus[] = RUN_STATUSES;

/**
 * A double for MLflow JSON.
 *
 * @example encodeDouble(0.5) // 0.5
 * @example encodeDouble(NaN) // 'NaN'
 */
export function encodeDouble(value: number): MlflowDouble {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** What turns stored artifact locations into the URIs MLflow clients are given. */
export interface ClientUris {
  clientUri(location: string): string;
}

function keyValues(pairs: readonly (Tag | Param)[]): MlflowKeyValue[] {
  return pairs.map(({ key, value }) => ({ key, value }));
}

/** An experiment as MLflow JSON; zero times and empty tags are left out, as MLflow does. */
export function toMlflowExperiment(experiment: Experiment, locations: ClientUris): MlflowExperiment {
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: locations.clientUri(experiment.artifactLocation),
    lifecycle_stage: experiment.lifecycleStage,
    ...(experiment.lastUpdateTime ? { last_update_time: experiment.lastUpdateTime } : {}),
    ...(experiment.creationTime ? { creation_time: experiment.creationTime } : {}),
    ...(experiment.tags.length > 0 ? { tags: keyValues(experiment.tags) } : {}),
  };
}

/**
 * A run's info as MLflow JSON; `end_time` is left out while the run has none. `artifact_uri` is
 * `<experiment's artifact_location>/<run_id>/artifacts`, proxied when it is in the server's store.
 */
export function toMlflowRunInfo(info: RunInfo, locations: ClientUris): MlflowRunInfo {
  return {
    run_id: info.runId,
    run_uuid: info.runId,
    run_name: info.runName,
    experiment_id: info.experimentId,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    ...(info.endTime ? { end_time: info.endTime } : {}),
    artifact_uri: locations.clientUri(info.artifactUri),
    lifecycle_stage: info.lifecycleStage,
  };
}

/** One metric point as MLflow JSON. */
export function toMlflowMetric(metric: Metric): MlflowMetric {
  return { key: metric.key, value: encodeDouble(metric.value), timestamp: metric.timestamp, step: metric.step };
}

function toMlflowDatasetInput(input: DatasetInput): MlflowDatasetInput {
  const { dataset } = input;
  return {
    ...(input.tags.length > 0 ? { tags: keyValues(input.tags) } : {}),
    dataset: {
      name: dataset.name,
      digest: dataset.digest,
      source_type: dataset.sourceType,
      source: dataset.source,
      ...(dataset.schema === undefined ? {} : { schema: dataset.schema }),
      ...(dataset.profile === undefined ? {} : { profile: dataset.profile }),
    },
  };
}

/** A run as MLflow JSON: latest metric values, params and tags, dataset inputs; empty lists left out. */
export function toMlflowRun(run: Run, locations: ClientUris): MlflowRun {
  const { metrics, params, tags } = run.data;
  const inputs = run.inputs.datasetInputs;
  return {
    info: toMlflowRunInfo(run.info, locations),
    data: {
      ...(metrics.length > 0 ? { metrics: metrics.map(toMlflowMetric) } : {}),
      ...(params.length > 0 ? { params: keyValues(params) } : {}),
      ...(tags.length > 0 ? { tags: keyValues(tags) } : {}),
    },
    inputs: inputs.length > 0 ? { dataset_inputs: inputs.map(toMlflowDatasetInput) } : {},
  };
}

/**
 * Reads a repeated `{key, value}` field (tags, params); `key` is required, an absent `value` is `''`.
 *
 * @example readKeyValues(msg, 'tags') // [{ key: 'team', value: 'fraud' }]
 */
export function readKeyValues(msg: RequestMessage, field: string): Tag[] {
  return msg.messages(field).map((m) => ({ key: m.requiredString('key'), value: m.string('value') ?? '' }));
}

/**
 * Reads one MLflow `Metric` (`key`, `value`, `timestamp` required; `step` defaults to 0).
 *
 * @example readMetric(RequestMessage.fromBody({ key: 'loss', value: 0.3, timestamp: 1717000000000 }))
 * // { key: 'loss', value: 0.3, timestamp: 1717000000000, step: 0 }
 */
export function readMetric(msg: RequestMessage): Metric {
  return {
    key: msg.requiredString('key'),
    value: msg.requiredDouble('value'),
    timestamp: msg.requiredInt64('timestamp'),
    step: msg.int64('step') ?? 0,
  };
}

/** Reads one MLflow `DatasetInput` (`dataset.name`, `digest`, `source_type`, `source` required). */
export function readDatasetInput(msg: RequestMessage): DatasetInput {
  const d = msg.requiredMessage('dataset');
  const schema = d.string('schema');
  const profile = d.string('profile');
  const dataset: Dataset = {
    name: d.requiredString('name'),
    digest: d.requiredString('digest'),
    sourceType: d.requiredString('source_type'),
    source: d.requiredString('source'),
    ...(schema === undefined || schema === '' ? {} : { schema }),
    ...(profile === undefined || profile === '' ? {} : { profile }),
  };
  return { dataset, tags: readKeyValues(msg, 'tags') };
}
