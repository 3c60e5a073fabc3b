import type { LogBatchInput, MetadataStore, Param, Run, SearchRunsOptions } from '@trestle/core';
import { DEFAULT_EXPERIMENT_ID, isTrestleError, LIMITS, TrestleError } from '@trestle/core';
import { LOG_BATCH_MAX_BYTES, missingParameter } from './errors.js';
import { readMaxResults, type RequestMessage } from './request-message.js';
import type { MlflowRoute } from './routes.js';
import { modelMetrics } from './logged-models.js';
import {
  MLFLOW_RUN_STATUSES,
  readDatasetInput,
  readKeyValues,
  readMetric,
  toMlflowRun,
  toMlflowRunInfo,
  VIEW_TYPES,
  type ClientUris,
  type MlflowRun,
} from './translate.js';

/** The tag in which MLflow 2.x records the models a run logged (`runs/log-model`). */
const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';

const MODEL_JSON_REQUIRED_FIELDS = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'] as const;

/** MLflow's `_validate_batch_limit` wording, checked before anything is written. */
function checkBatchLimits(batch: Required<LogBatchInput>): void {
  const limits: [string, number, number][] = [
    ['metrics', LIMITS.batchMetrics, batch.metrics.length],
    ['params', LIMITS.batchParams, batch.params.length],
    ['tags', LIMITS.batchTags, batch.tags.length],
    ['metrics, params, and tags', LIMITS.batchTotal, batch.metrics.length + batch.params.length + batch.tags.length],
  ];
  for (const [entity, limit, length] of limits) {
    if (length > limit) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`,
        { limit, length },
      );
    }
  }
}

/**
 * Writes a batch; a param that changes value (the store's `CONFLICT`) is reported with
 * MLflow's wording, naming the key, the value already logged and the new one.
 */
async function logBatch(metadata: MetadataStore, runId: string, batch: LogBatchInput): Promise<void> {
  try {
    await metadata.logBatch(runId, batch);
  } catch (err) {
    if (isTrestleError(err, 'CONFLICT') && batch.params !== undefined && batch.params.length > 0) {
      throw await paramChangeError(metadata, runId, batch.params, err);
    }
    throw err;
  }
}

async function paramChangeError(
  metadata: MetadataStore,
  runId: string,
  params: Param[],
  cause: TrestleError,
): Promise<TrestleError> {
  let logged = new Map<string, string>();
  try {
    logged = new Map((await metadata.getRun(runId)).data.params.map((p) => [p.key, p.value]));
  } catch {
    // The store's own message is still a good answer.
  }
  const changed = params.flatMap((p) => {
    const old = logged.get(p.key);
    return old !== undefined && old !== p.value ? [{ key: p.key, old_value: old, new_value: p.value }] : [];
  });
  const [first] = changed;
  let message: string;
  if (params.length === 1 && first !== undefined) {
    message =
      `Changing param values is not allowed. Param with key='${first.key}' was already logged with value='${first.old_value}' ` +
      `for run ID='${runId}'. Attempted logging new value '${first.new_value}'.`;
  } else if (changed.length > 0) {
    message = `Changing param values is not allowed. Params were already logged='${JSON.stringify(changed)}' for run ID='${runId}'.`;
  } else {
    message = `Changing param values is not allowed. ${cause.message}`;
  }
  return new TrestleError('INVALID_ARGUMENT', message, { runId, changed }, { cause });
}

/** Attaches metric points sent with a `model_id` to their logged models (after the run kept them). */
async function attachModelMetrics(
  metadata: MetadataStore,
  messages: readonly RequestMessage[],
  runId: string,
): Promise<void> {
  for (const [modelId, points] of modelMetrics(messages, runId)) {
    await metadata.loggedModels.logLoggedModelMetrics(modelId, points);
  }
}

/** A run as MLflow JSON with the logged models it read and produced (MLflow 3's `model_inputs`, `model_outputs`). */
async function runWithModels(metadata: MetadataStore, run: Run, locations: ClientUris): Promise<MlflowRun> {
  const json = toMlflowRun(run, locations);
  const { inputs, outputs } = await metadata.loggedModels.getRunModels(run.info.runId);
  if (inputs.length > 0) json.inputs.model_inputs = inputs.map((m) => ({ model_id: m.modelId }));
  if (outputs.length > 0) json.outputs = { model_outputs: outputs.map((m) => ({ model_id: m.modelId, step: m.step })) };
  return json;
}

function searchOptions(msg: RequestMessage): SearchRunsOptions {
  const filter = msg.string('filter');
  const orderBy = msg.strings('order_by');
  const maxResults = readMaxResults(msg);
  const pageToken = msg.string('page_token');
  const viewType = msg.enumOf('run_view_type', VIEW_TYPES);
  return {
    experimentIds: msg.strings('experiment_ids'),
    // MLflow accepts any status string in a filter; one that is no status matches nothing.
    anyStatus: true,
    ...(filter ? { filter } : {}),
    ...(orderBy.length > 0 ? { orderBy } : {}),
    ...(maxResults === undefined ? {} : { maxResults }),
    ...(pageToken ? { pageToken } : {}),
    ...(viewType === undefined ? {} : { viewType }),
  };
}

/**
 * MLflow's run RPCs (`/mlflow/runs/...`): create, get, update, delete, restore, search, the
 * logging calls (log-metric, log-parameter, set-tag, delete-tag, log-batch, log-inputs,
 * log-model) and `outputs`, which answers `NOT_IMPLEMENTED` (MLflow 3 logged models).
 */
export const runRoutes: readonly MlflowRoute[] = [
  {
    methods: ['POST'],
    url: '/runs/create',
    handle: async (msg, { metadata, locations }) => {
      // The store takes the run name and user from the `mlflow.runName` / `mlflow.user` tags when these are
      // absent; it adds no `mlflow.user` tag the client did not send, as MLflow's server does not.
      const tags = readKeyValues(msg, 'tags');
      const runName = msg.string('run_name');
      const userId = msg.string('user_id');
      const startTime = msg.int64('start_time');
      const run = await metadata.createRun({
        experimentId: msg.string('experiment_id') || DEFAULT_EXPERIMENT_ID,
        ...(runName ? { runName } : {}),
        ...(userId ? { userId } : {}),
        userTag: false,
        ...(startTime ? { startTime } : {}),
        ...(tags.length > 0 ? { tags } : {}),
      });
      return { run: toMlflowRun(run, locations) };
    },
  },
  {
    methods: ['GET'],
    url: '/runs/get',
    handle: async (msg, { metadata, locations }) => ({
      run: await runWithModels(metadata, await metadata.getRun(msg.runId()), locations),
    }),
  },
  {
    methods: ['POST'],
    url: '/runs/update',
    handle: async (msg, { metadata, locations }) => {
      const runId = msg.runId();
      const status = msg.enumOf('status', MLFLOW_RUN_STATUSES);
      const endTime = msg.int64('end_time');
      const runName = msg.string('run_name');
      const info = await metadata.updateRun(runId, {
        ...(status === undefined ? {} : { status }),
        ...(endTime === undefined ? {} : { endTime }),
        ...(runName ? { runName } : {}),
      });
      return { run_info: toMlflowRunInfo(info, locations) };
    },
  },
  {
    methods: ['POST'],
    url: '/runs/delete',
    handle: async (msg, { metadata }) => {
      await metadata.deleteRun(msg.runId());
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/restore',
    handle: async (msg, { metadata }) => {
      await metadata.restoreRun(msg.runId());
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/search',
    handle: async (msg, { metadata, locations }) => {
      const page = await metadata.searchRuns(searchOptions(msg));
      return {
        ...(page.items.length > 0 ? { runs: page.items.map((run) => toMlflowRun(run, locations)) } : {}),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  },
  {
    methods: ['POST'],
    url: '/runs/log-metric',
    handle: async (msg, { metadata }) => {
      const runId = msg.runId();
      await metadata.logBatch(runId, { metrics: [readMetric(msg)] });
      await attachModelMetrics(metadata, [msg], runId);
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/log-parameter',
    handle: async (msg, { metadata }) => {
      const runId = msg.runId();
      const key = msg.requiredString('key');
      const value = msg.string('value');
      if (value === undefined) throw missingParameter('value');
      await logBatch(metadata, runId, { params: [{ key, value }] });
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/set-tag',
    handle: async (msg, { metadata }) => {
      await metadata.setTag(msg.runId(), msg.requiredString('key'), msg.string('value') ?? '');
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/delete-tag',
    handle: async (msg, { metadata }) => {
      await metadata.deleteTag(msg.runId(), msg.requiredString('key'));
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/log-batch',
    bodyLimit: LOG_BATCH_MAX_BYTES,
    handle: async (msg, { metadata }) => {
      const runId = msg.runId();
      const batch = {
        metrics: msg.messages('metrics').map(readMetric),
        params: readKeyValues(msg, 'params'),
        tags: readKeyValues(msg, 'tags'),
      };
      checkBatchLimits(batch);
      await logBatch(metadata, runId, {
        ...(batch.metrics.length > 0 ? { metrics: batch.metrics } : {}),
        ...(batch.params.length > 0 ? { params: batch.params } : {}),
        ...(batch.tags.length > 0 ? { tags: batch.tags } : {}),
      });
      await attachModelMetrics(metadata, msg.messages('metrics'), runId);
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/log-inputs',
    handle: async (msg, { metadata }) => {
      const runId = msg.runId();
      const datasets = msg.messages('datasets').map(readDatasetInput);
      const models = msg.messages('models').map((m) => ({ modelId: m.requiredString('model_id') }));
      // MLflow requires `datasets`; its 3.x clients send `models` alone for model inputs.
      if (datasets.length === 0 && models.length === 0) throw missingParameter('datasets');
      if (datasets.length > 0) await metadata.logInputs(runId, datasets);
      if (models.length > 0) await metadata.loggedModels.logRunModels(runId, 'input', models);
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/log-model',
    handle: async (msg, { metadata }) => {
      const runId = msg.runId();
      const modelJson = msg.requiredString('model_json');
      let model: unknown;
      try {
        model = JSON.parse(modelJson);
      } catch {
        model = undefined;
      }
      if (typeof model !== 'object' || model === null || Array.isArray(model)) {
        throw new TrestleError('INVALID_ARGUMENT', `Malformed model info. \n ${modelJson} \n is not a valid JSON.`);
      }
      const missing = MODEL_JSON_REQUIRED_FIELDS.filter((field) => !(field in model));
      if (missing.length > 0) {
        throw new TrestleError('INVALID_ARGUMENT', `Model json is missing mandatory fields: ${missing.join(', ')}`, {
          missing,
        });
      }
      const run = await metadata.getRun(runId);
      const previous = run.data.tags.find((t) => t.key === LOG_MODEL_HISTORY_TAG)?.value;
      let history: unknown[] = [];
      try {
        const parsed = previous === undefined ? [] : (JSON.parse(previous) as unknown);
        history = Array.isArray(parsed) ? parsed : [];
      } catch {
        // A tag edited by hand: start the history again rather than fail the logging call.
      }
      await metadata.setTag(runId, LOG_MODEL_HISTORY_TAG, JSON.stringify([...history, model]));
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/runs/outputs',
    handle: async (msg, { metadata }) => {
      const runId = msg.runId();
      const models = msg.messages('models').map((m) => ({
        modelId: m.requiredString('model_id'),
        step: m.int64('step') ?? 0,
      }));
      await metadata.loggedModels.logRunModels(runId, 'output', models);
      return {};
    },
  },
];
