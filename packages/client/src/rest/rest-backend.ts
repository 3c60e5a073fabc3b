import {
  TrestleError,
  type CreateRunInput,
  type DatasetInput,
  type DownsampleOptions,
  type Experiment,
  type LogBatchInput,
  type Metric,
  type MetricHistoryOptions,
  type Page,
  type Run,
  type RunInfo,
  type RunKeys,
  type SearchExperimentsOptions,
  type SearchRunsOptions,
  type Tag,
  type TrackingBackend,
  type UpdateRunInput,
} from '@trestle/core';
import {
  API_V1_PREFIX as API,
  fromWireMetric as metric,
  fromWireRun as run,
  toWireBatch,
  type WireCreateExperiment,
  type WireCreateRun,
  type WireDownsampledHistory,
  type WireExperiment,
  type WireExperimentPage,
  type WireRenameExperiment,
  type WireTagValue,
  type WireLogInputs,
  type WireMetricPage,
  type WireRun,
  type WireRunInfo,
  type WireRunPage,
  type WireRunKeys,
  type WireSearchExperiments,
  type WireSearchRuns,
  type WireUpdateRun,
} from '@trestle/core/rest';
import { assertOpen, pathSegment, type HttpClient, type HttpRequest } from './http.js';

/** A body or query whose absent fields may be sent as `undefined` (JSON and the query string drop them). */
type Omittable<T> = { [K in keyof T]: T[K] | undefined };

function page<W, T>(wire: { items: W[]; nextPageToken?: string }, map: (item: W) => T): Page<T> {
  const items = wire.items.map(map);
  return typeof wire.nextPageToken === 'string' && wire.nextPageToken !== ''
    ? { items, nextPageToken: wire.nextPageToken }
    : { items };
}

const runPath = (runId: string): string => `${API}/runs/${pathSegment(runId, 'runId')}`;
const experimentPath = (experimentId: string): string =>
  `${API}/experiments/${pathSegment(experimentId, 'experimentId')}`;

/**
 * The {@link TrackingBackend} port over HTTP: every method is one call to the Trestle REST API
 * v1, so the SDK works the same against a server as against the embedded store. Errors come
 * back as the server's {@link TrestleError} (same code, message and details). Constructing it
 * does no I/O.
 *
 * @example
 * const backend = new RestBackend(new HttpClient({ trackingUri: 'http://localhost:5000' }));
 * const exp = await backend.createExperiment({ name: 'flights' });
 * const run = await backend.createRun({ experimentId: exp.experimentId });
 */
export class RestBackend implements TrackingBackend {
  readonly #http: HttpClient;
  #closed = false;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  // Experiments

  async createExperiment(input: { name: string; artifactLocation?: string; tags?: Tag[] }): Promise<Experiment> {
    return await this.#json<WireExperiment>({
      method: 'POST',
      path: `${API}/experiments`,
      json: input satisfies WireCreateExperiment,
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return await this.#json<WireExperiment>({ method: 'GET', path: experimentPath(experimentId) });
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    if (name === '.' || name === '..') {
      // URL parsing would resolve these as path segments; look them up by search instead.
      const found = await this.searchExperiments({ filter: `name = '${name}'`, viewType: 'ALL', maxResults: 1 });
      const exp = found.items[0];
      if (exp === undefined) throw new TrestleError('NOT_FOUND', `experiment '${name}' does not exist`, { name });
      return exp;
    }
    return this.#json<WireExperiment>({
      method: 'GET',
      path: `${API}/experiments/by-name/${pathSegment(name, 'name')}`,
    });
  }

  async searchExperiments(options: SearchExperimentsOptions = {}): Promise<Page<Experiment>> {
    const wire = await this.#json<WireExperimentPage>({
      method: 'GET',
      path: `${API}/experiments`,
      query: {
        filter: options.filter,
        orderBy: options.orderBy,
        maxResults: options.maxResults,
        pageToken: options.pageToken,
        viewType: options.viewType,
      } satisfies Omittable<WireSearchExperiments>,
    });
    return page(wire, (e) => e);
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    await this.#empty({
      method: 'PATCH',
      path: experimentPath(experimentId),
      json: { name: newName } satisfies WireRenameExperiment,
    });
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    await this.#empty({ method: 'DELETE', path: experimentPath(experimentId) });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.#empty({ method: 'POST', path: `${experimentPath(experimentId)}/restore`, idempotent: true });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.#empty({
      method: 'PUT',
      path: `${experimentPath(experimentId)}/tags/${pathSegment(key, 'tag key')}`,
      json: { value } satisfies WireTagValue,
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    await this.#empty({
      method: 'DELETE',
      path: `${experimentPath(experimentId)}/tags/${pathSegment(key, 'tag key')}`,
    });
  }

  // Runs

  async createRun(input: CreateRunInput): Promise<Run> {
    return run(await this.#json<WireRun>({ method: 'POST', path: `${API}/runs`, json: input satisfies WireCreateRun }));
  }

  async getRun(runId: string): Promise<Run> {
    return run(await this.#json<WireRun>({ method: 'GET', path: runPath(runId) }));
  }

  async updateRun(runId: string, input: UpdateRunInput): Promise<RunInfo> {
    // Absolute values: sending them twice has the effect of once.
    return await this.#json<WireRunInfo>({
      method: 'PATCH',
      path: runPath(runId),
      json: input satisfies WireUpdateRun,
      idempotent: true,
    });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.#empty({ method: 'DELETE', path: runPath(runId) });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.#empty({ method: 'POST', path: `${runPath(runId)}/restore`, idempotent: true });
  }

  async logBatch(runId: string, batch: LogBatchInput): Promise<void> {
    // Idempotent by the store's rules: an identical point is kept once, a param may be logged
    // again with the same value, tags overwrite. No key needed, and no stored answer per batch.
    await this.#empty({ method: 'POST', path: `${runPath(runId)}/batch`, json: toWireBatch(batch), idempotent: true });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.#empty({
      method: 'PUT',
      path: `${runPath(runId)}/tags/${pathSegment(key, 'tag key')}`,
      json: { value } satisfies WireTagValue,
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.#empty({ method: 'DELETE', path: `${runPath(runId)}/tags/${pathSegment(key, 'tag key')}` });
  }

  async logInputs(runId: string, inputs: DatasetInput[]): Promise<void> {
    // The same dataset version is recorded once per run.
    await this.#empty({
      method: 'POST',
      path: `${runPath(runId)}/inputs`,
      json: { inputs } satisfies WireLogInputs,
      idempotent: true,
    });
  }

  async getMetricHistory(runId: string, key: string, options: MetricHistoryOptions = {}): Promise<Page<Metric>> {
    const wire = await this.#json<WireMetricPage>({
      method: 'GET',
      path: `${runPath(runId)}/metrics/${pathSegment(key, 'metric key')}/history`,
      query: { maxResults: options.maxResults, pageToken: options.pageToken },
    });
    return page(wire, metric);
  }

  async getMetricHistoryDownsampled(runId: string, key: string, options: DownsampleOptions): Promise<Metric[]> {
    const wire = await this.#json<WireDownsampledHistory>({
      method: 'GET',
      path: `${runPath(runId)}/metrics/${pathSegment(key, 'metric key')}/downsampled`,
      query: { points: options.points, startStep: options.startStep, endStep: options.endStep },
    });
    return wire.items.map(metric);
  }

  async searchRuns(options: SearchRunsOptions): Promise<Page<Run>> {
    // The server's schema is closed: send the known fields only, whatever else the object carries.
    const { experimentIds, filter, orderBy, maxResults, pageToken, viewType } = options;
    const wire = await this.#json<WireRunPage>({
      method: 'POST',
      path: `${API}/runs/search`,
      json: { experimentIds, filter, orderBy, maxResults, pageToken, viewType } satisfies Omittable<WireSearchRuns>,
      idempotent: true,
    });
    return page(wire, run);
  }

  async listRunKeys(experimentId: string): Promise<RunKeys> {
    return await this.#json<WireRunKeys>({ method: 'GET', path: `${experimentPath(experimentId)}/run-keys` });
  }

  /** Marks the client closed; fetch's connection pool is shared and needs no release. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  async #json<T>(request: HttpRequest): Promise<T> {
    this.#assertOpen();
    return await this.#http.json<T>(request);
  }

  async #empty(request: HttpRequest): Promise<void> {
    this.#assertOpen();
    await this.#http.empty(request);
  }

  #assertOpen(): void {
    assertOpen(this.#closed, this.#http);
  }
}
