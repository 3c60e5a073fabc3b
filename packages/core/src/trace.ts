/**
 * Traces (MLflow Tracing): one record per traced request of an application, kept in the
 * metadata store (times, state, previews, tags and request metadata), with its spans in the
 * artifact store as `traces.json` under the trace's own artifact root.
 */

/** State of a trace: MLflow 3's `TraceInfoV3.State` (MLflow 2's `TraceStatus` uses the same names). */
export const TRACE_STATES = ['STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'] as const;
export type TraceState = (typeof TRACE_STATES)[number];

/** The tag holding a trace's artifact root, where MLflow clients upload `traces.json`. */
export const TRACE_ARTIFACT_LOCATION_TAG = 'mlflow.artifactLocation';
/** The tag holding a trace's name (the root span's name). */
export const TRACE_NAME_TAG = 'mlflow.traceName';
/** The request-metadata key naming the run a trace was recorded in. */
export const TRACE_SOURCE_RUN_METADATA = 'mlflow.sourceRun';
/** The file a trace's spans are kept in, under its artifact root. */
export const TRACE_DATA_FILE = 'traces.json';

/** One trace's record. Times are epoch ms. */
export interface TraceInfo {
  /** `tr-` and 32 hex characters (MLflow 3), or 32 hex characters (MLflow 2). */
  traceId: string;
  experimentId: string;
  /** When the traced request started. */
  requestTime: number;
  /** How long it ran; absent while in progress. */
  executionDuration?: number;
  state: TraceState;
  /** The caller's own id of the request, if any. */
  clientRequestId?: string;
  /** The root span's input and output, as JSON text cut to a preview. */
  requestPreview?: string;
  responsePreview?: string;
  /** Immutable facts about the request (`mlflow.sourceRun`, `mlflow.modelId`, sizes…). */
  metadata: Record<string, string>;
  /** Mutable labels. */
  tags: Record<string, string>;
}

/**
 * The artifact store key of a trace's artifact root (or of a file under it).
 *
 * @example traceArtifactKey('1', 'tr-4f2a') // '1/traces/tr-4f2a/artifacts'
 * @example traceArtifactKey('1', 'tr-4f2a', 'traces.json') // '1/traces/tr-4f2a/artifacts/traces.json'
 */
export function traceArtifactKey(experimentId: string, traceId: string, path = ''): string {
  const root = `${experimentId}/traces/${traceId}/artifacts`;
  return path === '' ? root : `${root}/${path}`;
}
