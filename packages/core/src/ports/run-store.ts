import type { DatasetInput } from '../dataset.js';
import type { Tag, ViewType } from '../experiment.js';
import type { Page } from '../page.js';
import type { Metric, Param, Run, RunInfo, RunStatus } from '../run.js';

/** Input of {@link RunStore.createRun}. */
export interface CreateRunInput {
  experimentId: string;
  /** Default: a generated name such as `bold-heron-042`. */
  runName?: string;
  /** Epoch ms; default now. */
  startTime?: number;
  tags?: Tag[];
  userId?: string;
  /**
   * Whether `userId` is also recorded as the `mlflow.user` tag (default true). MLflow's
   * dialect passes false: MLflow keeps a run's tags as the client sent them, and a run created
   * without `mlflow.user` has none (filters on `tags.mlflow.user` depend on it).
   */
  userTag?: boolean;
  /** Makes this a child run (recorded as the `mlflow.parentRunId` tag). */
  parentRunId?: string;
}

/** Input of {@link RunStore.updateRun}; absent fields are left unchanged. */
export interface UpdateRunInput {
  status?: RunStatus;
  /** Epoch ms. */
  endTime?: number;
  runName?: string;
}

/** A batch of writes to one run, applied in one transaction. */
export interface LogBatchInput {
  metrics?: Metric[];
  params?: Param[];
  tags?: Tag[];
}

/** Options of {@link RunStore.searchRuns}. */
export interface SearchRunsOptions {
  experimentIds: string[];
  /** MLflow run filter, plus `OR` and parentheses, e.g. `metrics.auc > 0.7 AND params.l2 = '0.1'`. */
  filter?: string;
  /** e.g. `['metrics.auc DESC']`; ties and default: `start_time DESC, run_id ASC`. */
  orderBy?: string[];
  /** Page size; default 1000, at most 50,000. */
  maxResults?: number;
  pageToken?: string;
  viewType?: ViewType;
  /**
   * Accept any string in `status = '…'` (it then matches nothing), as MLflow's run search does;
   * default false: an unknown status is `INVALID_ARGUMENT` naming the statuses.
   */
  anyStatus?: boolean;
}

/** Options of {@link RunStore.getMetricHistory}. */
export interface MetricHistoryOptions {
  /** Page size; absent means the whole history in one page. */
  maxResults?: number;
  pageToken?: string;
}

/** Options of {@link RunStore.getMetricHistoryDownsampled}. */
export interface DownsampleOptions {
  /** About how many points to return (the result has at most ~`points` entries). */
  points: number;
  /** Inclusive step range; default the whole history. */
  startStep?: number;
  endStep?: number;
}

/** The params, metrics and tags keys of an experiment's active runs, each list sorted. */
export interface RunKeys {
  params: string[];
  metrics: string[];
  tags: string[];
}

/**
 * Runs and everything logged to them, with MLflow semantics: params are immutable,
 * tags overwrite, metrics append to a history (the latest value per key is kept for search).
 *
 * @example
 * const run = await store.createRun({ experimentId: '1', runName: 'lr-l2' });
 * await store.logBatch(run.info.runId, { params: [{ key: 'l2', value: '0.1' }],
 *   metrics: [{ key: 'loss', value: 0.6, timestamp: Date.now(), step: 0 }] });
 */
export interface RunStore {
  /** `NOT_FOUND` if the experiment does not exist; `FAILED_PRECONDITION` if it is deleted. */
  createRun(input: CreateRunInput): Promise<Run>;
  /** Latest metrics, params, tags and dataset inputs. `NOT_FOUND` if missing. */
  getRun(runId: string): Promise<Run>;
  updateRun(runId: string, input: UpdateRunInput): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  /**
   * Writes metrics, params and tags in one transaction. Params: same value again is fine,
   * another value is `CONFLICT`. Limits as MLflow: 1000 metrics, 100 params, 100 tags.
   */
  logBatch(runId: string, batch: LogBatchInput): Promise<void>;
  /** Sets (overwrites) one tag. */
  setTag(runId: string, key: string, value: string): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  /** Records dataset versions the run read; the same (name, digest) is stored once. */
  logInputs(runId: string, inputs: DatasetInput[]): Promise<void>;
  /** Full history of one metric, ordered by step, then timestamp. */
  getMetricHistory(runId: string, key: string, options?: MetricHistoryOptions): Promise<Page<Metric>>;
  /**
   * Optional: the whole history of one metric, as {@link getMetricHistory} without `maxResults`
   * would return it, already serialised: the text of a JSON array of
   * `{"key", "value", "timestamp", "step"}` objects in history order, with NaN and ±Infinity
   * as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (the wire encoding of both HTTP
   * APIs). Backends that build the text in the database implement it, so a server can send a
   * 100,000-point history without making and serialising 100,000 objects; callers fall back to
   * {@link getMetricHistory} when it is absent. Same errors as {@link getMetricHistory}.
   *
   * @example
   * await store.getMetricHistoryJson?.(runId, 'loss')
   * // '[{"key":"loss","value":0.5,"timestamp":1717000000000,"step":0},{"key":"loss","value":"NaN",…}]'
   */
  getMetricHistoryJson?(runId: string, key: string): Promise<string>;
  /**
   * A downsampled history for charts: per step bucket the first, min, max and last points,
   * so spikes survive. A 1,000,000-point metric comes back as a few thousand points.
   */
  getMetricHistoryDownsampled(runId: string, key: string, options: DownsampleOptions): Promise<Metric[]>;
  searchRuns(options: SearchRunsOptions): Promise<Page<Run>>;
  /**
   * The distinct params, metrics and tags keys over the active runs of one experiment, without
   * loading the runs (for a column picker over thousands of runs). `NOT_FOUND` for an unknown
   * experiment.
   *
   * @example
   * await store.listRunKeys('1') // { params: ['lr'], metrics: ['auc', 'loss'], tags: ['mlflow.runName'] }
   */
  listRunKeys(experimentId: string): Promise<RunKeys>;
}
