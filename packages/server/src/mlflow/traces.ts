/**
 * MLflow Tracing over the MLflow dialect: MLflow 3's trace endpoints (`/api/3.0/mlflow/traces…`,
 * `TraceInfoV3`) and the MLflow 2 ones its 2.14+ clients call (`/api/2.0/mlflow/traces…`,
 * `TraceInfo` with `request_id`). Records live in the trace store; spans are the
 * `traces.json` that clients upload through the proxied artifact service to the location the
 * server names in the `mlflow.artifactLocation` tag.
 */
import { randomUUID } from 'node:crypto';
import type { StartTraceInput, TraceInfo, TraceState } from '@trestle/core';
import {
  TRACE_ARTIFACT_LOCATION_TAG,
  TRACE_DATA_FILE,
  TRACE_STATES,
  TrestleError,
  isTrestleError,
  traceArtifactKey,
} from '@trestle/core';
import { invalidParameter, missingParameter } from './errors.js';
import type { RequestMessage } from './request-message.js';
import { RawReply, type MlflowRoute, type MlflowRouteContext } from './routes.js';

/** MLflow's largest page of a trace search. */
const MAX_TRACE_SEARCH_RESULTS = 500;
/** MLflow's default page of a trace search. */
const DEFAULT_TRACE_SEARCH_RESULTS = 100;

/** MLflow 3's `TraceInfoV3` as JSON. */
interface MlflowTraceInfoV3 {
  trace_id: string;
  client_request_id?: string;
  trace_location: { type: 'MLFLOW_EXPERIMENT'; mlflow_experiment: { experiment_id: string } };
  request_preview?: string;
  response_preview?: string;
  request_time: string;
  execution_duration?: string;
  state: TraceState;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

/** MLflow 2's `TraceInfo` as JSON. */
interface MlflowTraceInfoV2 {
  request_id: string;
  experiment_id: string;
  timestamp_ms: number;
  execution_time_ms?: number;
  status: string;
  request_metadata?: { key: string; value: string }[];
  tags?: { key: string; value: string }[];
}

/**
 * The proxied artifact root of a trace, where MLflow clients upload `traces.json`.
 *
 * @example traceArtifactUri('1', 'tr-4f2a') // 'mlflow-artifacts:/1/traces/tr-4f2a/artifacts'
 */
function traceArtifactUri(experimentId: string, traceId: string): string {
  return `mlflow-artifacts:/${traceArtifactKey(experimentId, traceId)}`;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;
const DURATION = /^(\d+)(?:\.(\d{1,9}))?s$/;

/**
 * Epoch ms of a `google.protobuf.Timestamp` in proto JSON (RFC 3339), as MLflow clients send
 * `request_time`.
 *
 * @example parseProtoTimestamp('2025-06-01T10:00:00.123456Z') // 1748772000123
 */
export function parseProtoTimestamp(text: string, field: string): number {
  const m = TIMESTAMP.exec(text);
  const whole = m === null ? NaN : Date.parse(`${m[1] ?? ''}${m[3] ?? ''}`);
  if (m === null || Number.isNaN(whole)) {
    throw invalidParameter(field, text, "an RFC 3339 time such as '2025-06-01T10:00:00.123Z'");
  }
  return whole + Math.floor(Number(`0.${m[2] ?? '0'}`) * 1000);
}

/**
 * Milliseconds of a `google.protobuf.Duration` in proto JSON (`"1.250s"`).
 *
 * @example parseProtoDuration('0.120s') // 120
 */
export function parseProtoDuration(text: string, field: string): number {
  const m = DURATION.exec(text);
  if (m === null) throw invalidParameter(field, text, "a duration in seconds such as '1.250s'");
  return Number(m[1]) * 1000 + Math.round(Number(`0.${m[2] ?? '0'}`) * 1000);
}

function formatDuration(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

/** A trace record as MLflow 3's `TraceInfoV3` JSON (empty maps and unset fields left out). */
function toMlflowTraceInfoV3(info: TraceInfo): MlflowTraceInfoV3 {
  const nonEmpty = (map: Record<string, string>): Record<string, string> | undefined =>
    Object.keys(map).length > 0 ? map : undefined;
  const metadata = nonEmpty(info.metadata);
  const tags = nonEmpty(info.tags);
  return {
    trace_id: info.traceId,
    ...(info.clientRequestId === undefined ? {} : { client_request_id: info.clientRequestId }),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: info.experimentId } },
    ...(info.requestPreview === undefined ? {} : { request_preview: info.requestPreview }),
    ...(info.responsePreview === undefined ? {} : { response_preview: info.responsePreview }),
    request_time: new Date(info.requestTime).toISOString(),
    ...(info.executionDuration === undefined ? {} : { execution_duration: formatDuration(info.executionDuration) }),
    state: info.state,
    ...(metadata === undefined ? {} : { trace_metadata: metadata }),
    ...(tags === undefined ? {} : { tags }),
  };
}

/** A trace record as MLflow 2's `TraceInfo` JSON. */
function toMlflowTraceInfoV2(info: TraceInfo): MlflowTraceInfoV2 {
  const pairs = (map: Record<string, string>): { key: string; value: string }[] =>
    Object.entries(map).map(([key, value]) => ({ key, value }));
  return {
    request_id: info.traceId,
    experiment_id: info.experimentId,
    timestamp_ms: info.requestTime,
    ...(info.executionDuration === undefined ? {} : { execution_time_ms: info.executionDuration }),
    status: info.state === 'STATE_UNSPECIFIED' ? 'TRACE_STATUS_UNSPECIFIED' : info.state,
    ...(Object.keys(info.metadata).length > 0 ? { request_metadata: pairs(info.metadata) } : {}),
    ...(Object.keys(info.tags).length > 0 ? { tags: pairs(info.tags) } : {}),
  };
}

const V2_STATUSES = ['OK', 'ERROR', 'IN_PROGRESS'] as const;

function readState(msg: RequestMessage, field: string): TraceState | undefined {
  const raw = msg.string(field);
  if (raw === undefined) {
    // A proto enum may also arrive as its number.
    const n = msg.int64(field);
    if (n === undefined) return undefined;
    const byNumber = TRACE_STATES[n];
    if (byNumber === undefined) throw invalidParameter(field, n, `one of ${TRACE_STATES.join(', ')}`);
    return byNumber;
  }
  const name = raw === 'TRACE_STATUS_UNSPECIFIED' ? 'STATE_UNSPECIFIED' : raw;
  const found = TRACE_STATES.find((s) => s === name);
  if (found === undefined) throw invalidParameter(field, raw, `one of ${[...V2_STATUSES].join(', ')}`);
  return found;
}

/** A proto `map<string, string>` field (a JSON object of strings). */
function readStringMap(msg: RequestMessage, field: string): Record<string, string> {
  const map = msg.message(field);
  if (map === undefined) return {};
  const out: Record<string, string> = {};
  for (const key of map.keys()) out[key] = map.string(key) ?? '';
  return out;
}

/** A repeated `{key, value}` field as a map (MLflow 2's request metadata and tags). */
function readPairs(msg: RequestMessage, field: string): Record<string, string> {
  return Object.fromEntries(msg.messages(field).map((m) => [m.requiredString('key'), m.string('value') ?? '']));
}

function pathParam(context: MlflowRouteContext, name: string): string {
  const value = (context.request.params as Record<string, string | undefined>)[name];
  if (value === undefined || value === '') throw missingParameter(name);
  return value;
}

/** Starts (or merges) a trace, naming its artifact root in the tag MLflow clients upload `traces.json` to. */
async function withArtifactLocation(
  context: MlflowRouteContext,
  input: StartTraceInput & { traceId: string },
): Promise<TraceInfo> {
  const tags = { ...input.tags, [TRACE_ARTIFACT_LOCATION_TAG]: traceArtifactUri(input.experimentId, input.traceId) };
  return context.metadata.traces.startTrace({ ...input, tags });
}

function checkedExperimentId(id: string): string {
  if (!/^\d{1,9}$/.test(id)) {
    throw new TrestleError('NOT_FOUND', `Could not find experiment with ID ${id}`, { experimentId: id });
  }
  return id;
}

function readSearchPaging(msg: RequestMessage): { maxResults: number; pageToken?: string } {
  const maxResults = msg.int64('max_results') ?? DEFAULT_TRACE_SEARCH_RESULTS;
  if (maxResults < 1 || maxResults > MAX_TRACE_SEARCH_RESULTS) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `Invalid value ${maxResults} for parameter 'max_results' supplied. It must be at most ${MAX_TRACE_SEARCH_RESULTS} (and at least 1).`,
    );
  }
  const pageToken = msg.string('page_token');
  return { maxResults, ...(pageToken ? { pageToken } : {}) };
}

async function deleteTraces(msg: RequestMessage, context: MlflowRouteContext): Promise<{ traces_deleted: number }> {
  const experimentId = msg.requiredString('experiment_id');
  const maxTimestampMillis = msg.int64('max_timestamp_millis');
  const maxTraces = msg.int64('max_traces');
  const traceIds = msg.strings('request_ids');
  const deleted = await context.metadata.traces.deleteTraces({
    experimentId,
    ...(traceIds.length > 0 ? { traceIds } : {}),
    ...(maxTimestampMillis === undefined ? {} : { maxTimestampMillis }),
    ...(maxTraces === undefined ? {} : { maxTraces }),
  });
  return { traces_deleted: deleted };
}

async function setTag(msg: RequestMessage, context: MlflowRouteContext, param: string): Promise<object> {
  await context.metadata.traces.setTraceTag(
    pathParam(context, param),
    msg.requiredString('key'),
    msg.string('value') ?? '',
  );
  return {};
}

async function deleteTag(msg: RequestMessage, context: MlflowRouteContext, param: string): Promise<object> {
  await context.metadata.traces.deleteTraceTag(pathParam(context, param), msg.requiredString('key'));
  return {};
}

/**
 * The trace RPCs of both MLflow versions. Under `/api/3.0`: StartTraceV3 (`POST /traces`),
 * GetTraceInfoV3 (`GET /traces/{trace_id}`), SearchTracesV3 (`POST /traces/search`),
 * DeleteTracesV3, SetTraceTagV3 and DeleteTraceTagV3. Under `/api/2.0`: StartTrace, EndTrace
 * (`PATCH /traces/{request_id}`), GetTraceInfo (`GET /traces/{request_id}/info`),
 * SearchTraces (`GET /traces`), DeleteTraces, SetTraceTag, DeleteTraceTag, LinkTracesToRun, and
 * the web UI's `get-trace-artifact` (a trace's `traces.json`).
 */
export const traceRoutes: readonly MlflowRoute[] = [
  // ------------------------------------------------------------------ MLflow 3
  {
    methods: ['POST'],
    url: '/traces',
    versions: ['3.0'],
    handle: async (msg, context) => {
      const trace = msg.requiredMessage('trace');
      const info = trace.message('trace_info') ?? trace.message('traceInfo');
      if (info === undefined) throw missingParameter('trace.trace_info');
      const location = info.message('trace_location');
      const experimentId = location?.message('mlflow_experiment')?.string('experiment_id');
      if (experimentId === undefined || experimentId === '') {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          "Missing value for required parameter 'trace.trace_info.trace_location.mlflow_experiment.experiment_id': Trestle stores traces in MLflow experiments only.",
        );
      }
      const requestTime = info.string('request_time');
      const duration = info.string('execution_duration');
      const clientRequestId = info.string('client_request_id');
      const requestPreview = info.string('request_preview') ?? info.string('request');
      const responsePreview = info.string('response_preview') ?? info.string('response');
      const state = readState(info, 'state');
      const traceId = info.requiredString('trace_id');
      const created = await withArtifactLocation(context, {
        traceId,
        experimentId: checkedExperimentId(experimentId),
        requestTime:
          requestTime === undefined ? Date.now() : parseProtoTimestamp(requestTime, 'trace.trace_info.request_time'),
        ...(duration === undefined
          ? {}
          : { executionDuration: parseProtoDuration(duration, 'trace.trace_info.execution_duration') }),
        state: state ?? 'STATE_UNSPECIFIED',
        ...(clientRequestId ? { clientRequestId } : {}),
        ...(requestPreview === undefined ? {} : { requestPreview }),
        ...(responsePreview === undefined ? {} : { responsePreview }),
        metadata: readStringMap(info, 'trace_metadata'),
        tags: readStringMap(info, 'tags'),
      });
      return { trace: { trace_info: toMlflowTraceInfoV3(created) } };
    },
  },
  {
    methods: ['GET'],
    url: '/traces/:traceId',
    versions: ['3.0'],
    handle: async (_msg, context) => {
      const info = await context.metadata.traces.getTraceInfo(pathParam(context, 'traceId'));
      return { trace: { trace_info: toMlflowTraceInfoV3(info) } };
    },
  },
  {
    methods: ['POST'],
    url: '/traces/search',
    versions: ['3.0'],
    handle: async (msg, { metadata }) => {
      const locations = msg.messages('locations');
      if (locations.length === 0) throw missingParameter('locations');
      const experimentIds = locations.flatMap((l) => {
        const id = l.message('mlflow_experiment')?.string('experiment_id');
        return id === undefined || id === '' ? [] : [id];
      });
      if (experimentIds.length === 0) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          'locations must name at least one MLflow experiment ({"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "1"}})',
        );
      }
      const filter = msg.string('filter');
      const orderBy = msg.strings('order_by');
      const page = await metadata.traces.searchTraces({
        experimentIds,
        ...(filter ? { filter } : {}),
        ...(orderBy.length > 0 ? { orderBy } : {}),
        ...readSearchPaging(msg),
      });
      return {
        ...(page.items.length > 0 ? { traces: page.items.map(toMlflowTraceInfoV3) } : {}),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  },
  {
    methods: ['POST'],
    url: '/traces/delete-traces',
    versions: ['2.0', '3.0'],
    handle: deleteTraces,
  },
  {
    methods: ['PATCH'],
    url: '/traces/:traceId/tags',
    versions: ['2.0', '3.0'],
    handle: (msg, context) => setTag(msg, context, 'traceId'),
  },
  {
    methods: ['DELETE'],
    url: '/traces/:traceId/tags',
    versions: ['2.0', '3.0'],
    handle: (msg, context) => deleteTag(msg, context, 'traceId'),
  },
  {
    methods: ['POST'],
    url: '/traces/link-to-run',
    handle: async (msg, { metadata }) => {
      const traceIds = msg.strings('trace_ids');
      if (!msg.has('trace_ids')) throw missingParameter('trace_ids');
      await metadata.traces.linkTracesToRun(msg.requiredString('run_id'), traceIds);
      return {};
    },
  },
  // ------------------------------------------------------------------ MLflow 2
  {
    methods: ['POST'],
    url: '/traces',
    handle: async (msg, context) => {
      const experimentId = checkedExperimentId(msg.requiredString('experiment_id'));
      // MLflow 2 servers name traces by a bare uuid hex, and its clients expect one.
      const traceId = randomUUID().replaceAll('-', '');
      const info = await withArtifactLocation(context, {
        traceId,
        experimentId,
        requestTime: msg.int64('timestamp_ms') ?? Date.now(),
        state: 'IN_PROGRESS',
        metadata: readPairs(msg, 'request_metadata'),
        tags: readPairs(msg, 'tags'),
      });
      return { trace_info: toMlflowTraceInfoV2(info) };
    },
  },
  {
    methods: ['PATCH'],
    url: '/traces/:traceId',
    handle: async (msg, context) => {
      const info = await context.metadata.traces.endTrace(pathParam(context, 'traceId'), {
        endTime: msg.requiredInt64('timestamp_ms'),
        state: readState(msg, 'status') ?? 'STATE_UNSPECIFIED',
        metadata: readPairs(msg, 'request_metadata'),
        tags: readPairs(msg, 'tags'),
      });
      return { trace_info: toMlflowTraceInfoV2(info) };
    },
  },
  {
    methods: ['GET'],
    url: '/traces/:traceId/info',
    handle: async (_msg, context) => ({
      trace_info: toMlflowTraceInfoV2(await context.metadata.traces.getTraceInfo(pathParam(context, 'traceId'))),
    }),
  },
  {
    methods: ['GET'],
    url: '/traces',
    handle: async (msg, { metadata }) => {
      const experimentIds = msg.strings('experiment_ids');
      if (experimentIds.length === 0) throw missingParameter('experiment_ids');
      const filter = msg.string('filter');
      const orderBy = msg.strings('order_by');
      const page = await metadata.traces.searchTraces({
        experimentIds,
        ...(filter ? { filter } : {}),
        ...(orderBy.length > 0 ? { orderBy } : {}),
        ...readSearchPaging(msg),
      });
      return {
        ...(page.items.length > 0 ? { traces: page.items.map(toMlflowTraceInfoV2) } : {}),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  },
  {
    methods: ['GET'],
    url: '/get-trace-artifact',
    handle: async (msg, { metadata, artifacts }) => {
      const requestId = msg.string('request_id');
      if (!requestId) {
        throw new TrestleError('INVALID_ARGUMENT', 'Request must include the "request_id" query parameter.');
      }
      const info = await metadata.traces.getTraceInfo(requestId);
      const key = traceArtifactKey(info.experimentId, info.traceId, TRACE_DATA_FILE);
      try {
        const stream = await artifacts.get(key);
        return new RawReply(stream, {
          'content-type': 'application/octet-stream',
          'content-disposition': `attachment; filename="${TRACE_DATA_FILE}"`,
          'x-content-type-options': 'nosniff',
        });
      } catch (err) {
        if (isTrestleError(err, 'NOT_FOUND')) {
          throw new TrestleError(
            'NOT_FOUND',
            `Trace ${info.traceId} has no span data (${TRACE_DATA_FILE}) yet: its client has not uploaded it.`,
            { traceId: info.traceId },
            { cause: err },
          );
        }
        throw err;
      }
    },
  },
];
