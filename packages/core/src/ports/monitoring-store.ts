/**
 * What monitoring keeps in the metadata store: inference logs (with the labels joined to them
 * later), window summaries shipped by serving, the reference profile per model version, the
 * computed results per window as a time series, alert state, and a lease so that only one
 * server replica runs the window job. Summaries, profiles and results are JSON documents whose
 * shapes `@trestle/monitoring` owns; the store keeps them as text. Times are epoch ms.
 */

/** The model version a log, window or result belongs to (and the alias it was served as). */
export interface MonitoredModel {
  name: string;
  version: string;
  alias?: string;
}

/** One logged prediction. */
export interface InferenceRecord {
  requestId: string;
  /** A business key feedback may use instead of the request id (a flight number, an order id). */
  key?: string;
  time: number;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  latencyMs?: number;
}

/**
 * Logged predictions as columns: value `i` of every array belongs to the prediction
 * `requestIds[i]` (see `inference-batch.ts`). Inputs and outputs are scalars (null where there
 * is none) or flat lists of them.
 */
export interface InferenceBatch {
  requestIds: string[];
  /** Epoch ms each prediction's request arrived. */
  times: number[];
  latencyMs?: (number | null)[];
  /** Business keys feedback may use instead of the request id. */
  keys?: (string | null)[];
  inputs: Record<string, unknown[]>;
  outputs: Record<string, unknown[]>;
}

/** A logged prediction with its label, when one arrived. */
export interface LabelledInference {
  requestId: string;
  time: number;
  outputs: Record<string, unknown>;
  label: unknown;
}

/** A label that arrived before its prediction was logged (by request id or key). */
export interface PendingLabel {
  requestId?: string;
  key?: string;
  /** The label as sent (JSON). */
  label: string;
  /** When the outcome was observed (epoch ms). */
  time: number;
}

/** A logged prediction a feedback record matched. */
export interface MatchedInference {
  requestId: string;
  key: string | null;
  model: string;
  version: string;
  time: number;
}

/** A window of one model version: the key of its summaries and its result. */
export interface WindowKey {
  name: string;
  version: string;
  alias: string | null;
  start: number;
  end: number;
}

/** The computed monitoring result of one window. */
export interface MonitorResult extends WindowKey {
  computedTime: number;
  rows: number;
  /** Predictions of the window that have a label. */
  labelled: number;
  /** Share of drifted features (null when drift could not be computed). */
  driftShare: number | null;
  datasetDrift: boolean;
  /** JSON documents of `@trestle/monitoring`: DatasetDrift, WindowQuality, Performance. */
  drift: unknown;
  quality: unknown;
  performance: unknown;
  /** Why the window could not be computed (no reference profile, say). */
  error?: string;
}

/** State of one alert rule for one model version. */
export interface AlertState {
  key: string;
  firing: boolean;
  since: number;
  value: number | null;
}

/**
 * @example
 * await store.monitoring.logInferences({ name: 'flights', version: '3' }, records);
 * await store.monitoring.recordWindow({ name: 'flights', version: '3', alias: 'champion' }, start, end, JSON.stringify(summary));
 * for (const w of await store.monitoring.pendingWindows(Date.now())) { … await store.monitoring.putResult(result); }
 */
export interface MonitoringStore {
  /**
   * Stores a batch of predictions as one (with an index of its request ids and keys for
   * feedback); a request id seen before for the model version is skipped (counted as a duplicate).
   */
  logInferenceBatch(model: MonitoredModel, batch: InferenceBatch): Promise<{ accepted: number; duplicates: number }>;
  /** {@link logInferenceBatch} for row records. */
  logInferences(model: MonitoredModel, records: InferenceRecord[]): Promise<{ accepted: number; duplicates: number }>;
  /** Adds a window summary (replicas add one each; they are merged when the window is computed). */
  recordWindow(model: MonitoredModel, start: number, end: number, summary: string): Promise<void>;
  /** The logged predictions with these request ids or keys. */
  findInferences(ids: { requestIds: string[]; keys: string[] }): Promise<MatchedInference[]>;
  /**
   * Sets the labels of logged predictions (by request id) and marks the windows they fall in as
   * changed, so that the job computes their performance again. Returns the number updated.
   */
  applyLabels(labels: { requestId: string; label: string; time: number }[]): Promise<number>;
  /**
   * Holds labels whose prediction is not logged yet, and forgets held labels received before
   * `expireBefore` (epoch ms) so that labels for predictions that never come cannot pile up.
   */
  holdLabels(labels: PendingLabel[], expireBefore: number): Promise<void>;
  /** Removes and returns the held labels for these request ids or keys (cheap when none are held). */
  takePendingLabels(ids: { requestIds: string[]; keys: string[] }): Promise<PendingLabel[]>;
  /** Stores the reference profile (JSON) of a model version, replacing an earlier one. */
  setReference(name: string, version: string, profile: string): Promise<void>;
  /** The reference profile (JSON) of a model version, or undefined. */
  getReference(name: string, version: string): Promise<string | undefined>;
  /** Summaries (JSON) recorded for a window. */
  windowSummaries(key: Pick<WindowKey, 'name' | 'version' | 'start' | 'end'>): Promise<string[]>;
  /** Windows that ended at or before `closedBefore` and changed since they were last computed (or never were). */
  pendingWindows(closedBefore: number, filter?: { name?: string; version?: string }): Promise<WindowKey[]>;
  /** Windows of a model (all versions unless one is given), newest first. */
  listWindows(filter: { name: string; version?: string; limit?: number }): Promise<WindowKey[]>;
  /** Logged predictions in [start, end) of a model version that have a label. */
  labelledInferences(key: Pick<WindowKey, 'name' | 'version' | 'start' | 'end'>): Promise<LabelledInference[]>;
  /** Stores a window's result (replacing the previous one) and marks the window computed. */
  putResult(result: MonitorResult): Promise<void>;
  /** Results, oldest first, of a model (optionally one version or alias, from a time, at most `limit`, the newest ones). */
  listResults(filter: {
    name: string;
    version?: string;
    alias?: string;
    since?: number;
    limit?: number;
  }): Promise<MonitorResult[]>;
  /** Model names (and versions) with windows, for the metrics page. */
  listMonitoredModels(): Promise<{ name: string; version: string; alias: string | null }[]>;
  /** Alert state by key. */
  getAlertState(key: string): Promise<AlertState | undefined>;
  setAlertState(state: AlertState): Promise<void>;
  /**
   * Takes or renews a named lease for `holder` until `now + ttlMs`; true when `holder` has it.
   * Several server replicas call this; only one runs the window job at a time.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
}
