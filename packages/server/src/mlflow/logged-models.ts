/**
 * MLflow 3's logged models (`service.proto`: CreateLoggedModel, GetLoggedModel, FinalizeLoggedModel,
 * DeleteLoggedModel, SetLoggedModelTags, DeleteLoggedModelTag, LogLoggedModelParamsRequest,
 * SearchLoggedModels, ListLoggedModelArtifacts) on the `LoggedModelStore` port. A model's files
 * live under its own artifact root, `mlflow-artifacts:/<experiment>/models/<model_id>/artifacts`,
 * which clients upload to through the proxied artifact service.
 */
import type { LoggedModel, LoggedModelMetric } from '@trestle/core';
import { loggedModelArtifactKey, TrestleError } from '@trestle/core';
import type { FastifyRequest } from 'fastify';
import { baseName, checkedArtifactPath, fileInfo } from './artifacts.js';
import { missingParameter } from './errors.js';
import { readMaxResults, type RequestMessage } from './request-message.js';
import type { MlflowRoute } from './routes.js';
import { encodeDouble, readKeyValues, type MlflowDouble } from './translate.js';

/** MLflow `LoggedModelStatus` names, by our status. */
const STATUS_NAMES = {
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
};
const STATUS_NUMBERS: Readonly<Record<string, string>> = {
  '1': 'LOGGED_MODEL_PENDING',
  '2': 'LOGGED_MODEL_READY',
  '3': 'LOGGED_MODEL_UPLOAD_FAILED',
};

/** The proxied artifact root of a logged model. */
function loggedModelArtifactUri(model: { experimentId: string; modelId: string }): string {
  return `mlflow-artifacts:/${loggedModelArtifactKey(model)}`;
}

/** MLflow `Metric` of a logged model (3.x adds the model, run and dataset fields). */
interface MlflowModelMetric {
  key: string;
  value: MlflowDouble;
  timestamp: number;
  step: number;
  model_id: string;
  run_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

/** A logged model as MLflow JSON (`LoggedModel{info, data}`); empty lists are left out. */
function toMlflowLoggedModel(m: LoggedModel): object {
  const metrics: MlflowModelMetric[] = m.metrics.map((x) => ({
    key: x.key,
    value: encodeDouble(x.value),
    timestamp: x.timestamp,
    step: x.step,
    model_id: m.modelId,
    ...(x.runId ? { run_id: x.runId } : {}),
    ...(x.datasetName ? { dataset_name: x.datasetName } : {}),
    ...(x.datasetDigest ? { dataset_digest: x.datasetDigest } : {}),
  }));
  return {
    info: {
      model_id: m.modelId,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.creationTime,
      last_updated_timestamp_ms: m.lastUpdatedTime,
      artifact_uri: loggedModelArtifactUri(m),
      status: STATUS_NAMES[m.status],
      ...(m.modelType ? { model_type: m.modelType } : {}),
      ...(m.sourceRunId ? { source_run_id: m.sourceRunId } : {}),
      ...(m.statusMessage ? { status_message: m.statusMessage } : {}),
      ...(m.tags.length > 0 ? { tags: m.tags } : {}),
      ...(m.registrations.length > 0
        ? { registrations: m.registrations.map((r) => ({ name: r.name, version: String(r.version) })) }
        : {}),
    },
    data: {
      ...(m.params.length > 0 ? { params: m.params } : {}),
      ...(metrics.length > 0 ? { metrics } : {}),
    },
  };
}

function modelIdOf(request: FastifyRequest): string {
  const id = (request.params as { model_id?: string }).model_id;
  if (id === undefined || id === '') throw missingParameter('model_id');
  return id;
}

function readStatus(msg: RequestMessage): string {
  const raw = msg.has('status')
    ? msg.enumOf('status', ['LOGGED_MODEL_STATUS_UNSPECIFIED', ...Object.values(STATUS_NAMES)])
    : undefined;
  if (raw === undefined) throw missingParameter('status');
  return STATUS_NUMBERS[raw] ?? raw;
}

/**
 * Metric points a request carried with a `model_id` (MLflow 3 clients log training metrics
 * against the logged model): attached to those models as well as kept on the run.
 */
export function modelMetrics(messages: readonly RequestMessage[], runId: string): Map<string, LoggedModelMetric[]> {
  const out = new Map<string, LoggedModelMetric[]>();
  for (const m of messages) {
    const modelId = m.string('model_id');
    if (!modelId) continue;
    const datasetName = m.string('dataset_name');
    const datasetDigest = m.string('dataset_digest');
    const point: LoggedModelMetric = {
      key: m.requiredString('key'),
      value: m.requiredDouble('value'),
      timestamp: m.requiredInt64('timestamp'),
      step: m.int64('step') ?? 0,
      runId,
      ...(datasetName ? { datasetName } : {}),
      ...(datasetDigest ? { datasetDigest } : {}),
    };
    out.set(modelId, [...(out.get(modelId) ?? []), point]);
  }
  return out;
}

/** The logged-model RPCs under `/mlflow`. */
export const loggedModelRoutes: readonly MlflowRoute[] = [
  {
    methods: ['POST'],
    url: '/logged-models',
    handle: async (msg, { metadata }) => {
      const experimentId = msg.requiredString('experiment_id');
      const name = msg.string('name');
      const modelType = msg.string('model_type');
      const sourceRunId = msg.string('source_run_id');
      const model = await metadata.loggedModels.createLoggedModel({
        experimentId,
        ...(name ? { name } : {}),
        ...(modelType ? { modelType } : {}),
        ...(sourceRunId ? { sourceRunId } : {}),
        params: readKeyValues(msg, 'params'),
        tags: readKeyValues(msg, 'tags'),
      });
      return { model: toMlflowLoggedModel(model) };
    },
  },
  {
    methods: ['POST'],
    url: '/logged-models/search',
    handle: async (msg, { metadata }) => {
      const filter = msg.string('filter');
      const pageToken = msg.string('page_token');
      const maxResults = readMaxResults(msg, 'max_results');
      const datasets = msg.messages('datasets').map((d) => {
        const digest = d.string('dataset_digest');
        return { datasetName: d.requiredString('dataset_name'), ...(digest ? { datasetDigest: digest } : {}) };
      });
      const orderBy = msg.messages('order_by').map((o) => {
        const datasetName = o.string('dataset_name');
        const datasetDigest = o.string('dataset_digest');
        return {
          field: o.requiredString('field_name'),
          ascending: o.bool('ascending') ?? true,
          ...(datasetName ? { datasetName } : {}),
          ...(datasetDigest ? { datasetDigest } : {}),
        };
      });
      const page = await metadata.loggedModels.searchLoggedModels({
        experimentIds: msg.strings('experiment_ids'),
        ...(filter ? { filter } : {}),
        ...(pageToken ? { pageToken } : {}),
        ...(maxResults === undefined ? {} : { maxResults }),
        ...(datasets.length > 0 ? { datasets } : {}),
        ...(orderBy.length > 0 ? { orderBy } : {}),
      });
      return {
        ...(page.items.length > 0 ? { models: page.items.map(toMlflowLoggedModel) } : {}),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  },
  {
    methods: ['GET'],
    url: '/logged-models/:model_id',
    handle: async (_msg, { metadata, request }) => ({
      model: toMlflowLoggedModel(await metadata.loggedModels.getLoggedModel(modelIdOf(request))),
    }),
  },
  {
    methods: ['DELETE'],
    url: '/logged-models/:model_id',
    handle: async (_msg, { metadata, request }) => {
      await metadata.loggedModels.deleteLoggedModel(modelIdOf(request));
      return {};
    },
  },
  {
    methods: ['PATCH'],
    url: '/logged-models/:model_id',
    handle: async (msg, { metadata, request }) => {
      const status = readStatus(msg);
      if (status === 'LOGGED_MODEL_STATUS_UNSPECIFIED') {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          'status must be LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED to finalize a logged model',
        );
      }
      const model = await metadata.loggedModels.finalizeLoggedModel(
        modelIdOf(request),
        status.replace(/^LOGGED_MODEL_/, '').replace('UPLOAD_FAILED', 'FAILED') as 'READY' | 'FAILED' | 'PENDING',
      );
      return { model: toMlflowLoggedModel(model) };
    },
  },
  {
    methods: ['PATCH'],
    url: '/logged-models/:model_id/tags',
    handle: async (msg, { metadata, request }) => {
      await metadata.loggedModels.setLoggedModelTags(modelIdOf(request), readKeyValues(msg, 'tags'));
      return {};
    },
  },
  {
    methods: ['DELETE'],
    url: '/logged-models/:model_id/tags/:tag_key',
    handle: async (_msg, { metadata, request }) => {
      const key = (request.params as { tag_key?: string }).tag_key ?? '';
      await metadata.loggedModels.deleteLoggedModelTag(modelIdOf(request), key);
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/logged-models/:model_id/params',
    handle: async (msg, { metadata, request }) => {
      await metadata.loggedModels.logLoggedModelParams(modelIdOf(request), readKeyValues(msg, 'params'));
      return {};
    },
  },
  {
    methods: ['GET'],
    url: '/logged-models/:model_id/artifacts/directories',
    handle: async (msg, { metadata, artifacts, request }) => {
      const model = await metadata.loggedModels.getLoggedModel(modelIdOf(request));
      const path = checkedArtifactPath(msg.string('artifact_directory_path') ?? '', { allowRoot: true });
      const entries = await artifacts.list(loggedModelArtifactKey(model, path));
      const files = entries.map((e) => fileInfo(e, path === '' ? baseName(e.path) : `${path}/${baseName(e.path)}`));
      return { root_uri: loggedModelArtifactUri(model), ...(files.length > 0 ? { files } : {}) };
    },
  },
];
