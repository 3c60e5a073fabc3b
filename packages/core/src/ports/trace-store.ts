import type { Page } from '../page.js';
import type { TraceInfo, TraceState } from '../trace.js';

/** Input of {@link TraceStore.startTrace}: a whole trace record, or the start of one. */
export interface StartTraceInput {
  /** Default: a new `tr-<32 hex>` id. */
  traceId?: string;
  experimentId: string;
  requestTime: number;
  executionDuration?: number;
  /** Default `IN_PROGRESS`. */
  state?: TraceState;
  clientRequestId?: string;
  requestPreview?: string;
  responsePreview?: string;
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

/** Input of {@link TraceStore.endTrace} (MLflow 2's EndTrace). */
export interface EndTraceInput {
  /** When the request ended; the duration is this minus the request time. */
  endTime: number;
  state: TraceState;
  /** Merged into what the trace has. */
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

/** Options of {@link TraceStore.searchTraces}. */
export interface SearchTracesOptions {
  experimentIds: string[];
  /** e.g. `trace.status = 'OK' AND timestamp_ms > 1717000000000 AND tags.topic = 'x' AND metadata.mlflow.sourceRun = '…'`. */
  filter?: string;
  /** e.g. `['timestamp_ms DESC']`; default `timestamp_ms DESC, trace_id`. */
  orderBy?: string[];
  /** Default 100, at most 500. */
  maxResults?: number;
  pageToken?: string;
}

/** Options of {@link TraceStore.deleteTraces}: by ids, or the oldest up to a time. */
export interface DeleteTracesOptions {
  experimentId: string;
  traceIds?: string[];
  /** Deletes traces that started at or before this time… */
  maxTimestampMillis?: number;
  /** …at most this many of them, oldest first. */
  maxTraces?: number;
}

/**
 * Trace records in the metadata store (their spans live in the artifact store).
 *
 * @example
 * const t = await store.traces.startTrace({ experimentId: '1', requestTime: Date.now(), state: 'OK', executionDuration: 12 });
 * await store.traces.setTraceTag(t.traceId, 'topic', 'billing');
 */
export interface TraceStore {
  /** Creates the record; one that exists already takes the new fields and merges tags and metadata. `NOT_FOUND` for an unknown experiment. */
  startTrace(input: StartTraceInput): Promise<TraceInfo>;
  /** Ends a trace started in progress. `NOT_FOUND` when it does not exist. */
  endTrace(traceId: string, input: EndTraceInput): Promise<TraceInfo>;
  /** `NOT_FOUND` when it does not exist. */
  getTraceInfo(traceId: string): Promise<TraceInfo>;
  searchTraces(options: SearchTracesOptions): Promise<Page<TraceInfo>>;
  setTraceTag(traceId: string, key: string, value: string): Promise<void>;
  /** `NOT_FOUND` when the trace or the tag does not exist. */
  deleteTraceTag(traceId: string, key: string): Promise<void>;
  /** Deletes the records (not their artifacts); returns how many were deleted. */
  deleteTraces(options: DeleteTracesOptions): Promise<number>;
  /** Links traces to a run (MLflow's LinkTracesToRun); `NOT_FOUND` for an unknown run or trace. */
  linkTracesToRun(runId: string, traceIds: string[]): Promise<void>;
  /** Ids of the traces linked to a run, oldest link first. */
  linkedTraces(runId: string): Promise<string[]>;
}
