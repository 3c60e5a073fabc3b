/**
 * Generators of malformed HTTP requests for `test/malformed-requests.test.ts`: a table of every
 * route the server answers (method, path template, a valid example request) and mutation
 * families that break one thing at a time. Deterministic: the same seed gives the same cases.
 *
 * Every case says what the server must do with it:
 *
 * - `reject`: malformed by construction; the answer must be a refusal (4xx, or the 501
 *   NOT_IMPLEMENTED of the few MLflow RPCs Trestle does not implement).
 * - `accept`: valid as MLflow reads it (MLflow ignores unknown fields); the answer must be 2xx.
 * - `any`: either, as long as it is not a 5xx (random filters may happen to be valid).
 *
 * Cases aimed at the seeded ("protected") experiments and runs never form a valid write, so a
 * test can snapshot them before and after and demand equality. Cases that may legitimately
 * write (`accept`, and `any` on a write route) are aimed at a scratch experiment and run, or
 * create experiments whose names start with {@link Seeded.scratchPrefix}, which the snapshot
 * leaves out.
 */
import { seededRandom } from '../../packages/core/src/index.js';

// ---------------------------------------------------------------- randomness

/**
 * The core's seeded source (mulberry32) with helpers.
 *
 * @example const rng = new Rng(42); rng.int(10); rng.pick(['a', 'b']);
 */
export class Rng {
  /** A float in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  hex(chars: number): string {
    let out = '';
    for (let i = 0; i < chars; i++) out += '0123456789abcdef'[this.int(16)];
    return out;
  }
}

// ---------------------------------------------------------------- the seeded world

/** Ids of what the test created before sending anything. */
export interface Seeded {
  /** An active experiment with tags and runs: must never change. */
  experimentId: string;
  /** A deleted experiment (with a run deleted along with it). */
  deletedExperimentId: string;
  /** An active run of `experimentId` with params, tags, a metric history and artifacts. */
  runId: string;
  /** A finished run of `experimentId`. */
  finishedRunId: string;
  /** A deleted run of `experimentId`. */
  deletedRunId: string;
  metricKey: string;
  tagKey: string;
  experimentTagKey: string;
  /** A file of `runId`, relative to its artifact root. */
  artifactPath: string;
  /** Where requests that may legitimately write go; left out of the snapshot. */
  scratchExperimentId: string;
  scratchRunId: string;
  /** Experiments whose name starts with this are scratch too. */
  scratchPrefix: string;
}

// ---------------------------------------------------------------- the route table

export type Scope = 'protected' | 'scratch';
type Expect = 'reject' | 'accept' | 'any';
type Api = 'v1' | 'mlflow' | 'proxied' | 'probe';
type Kind = 'string' | 'int' | 'double' | 'enum' | 'strings' | 'messages' | 'message';
type Limit = 'key' | 'paramValue' | 'tagValue' | 'expName' | 'runName';
type IdKind = 'run' | 'experiment' | 'experiments' | 'runs';
type Role = 'maxResults' | 'pageToken' | 'filter' | 'orderBy' | 'viewType' | 'step';

/** Where the request message of a route travels. */
type Input =
  | 'json' // a JSON body
  | 'query' // the query string
  | 'none' // nothing, but the root JSON/text parsers still read a body if one is sent
  | 'stream'; // any body, passed through unread (artifact routes)

interface FieldSpec {
  /** Dotted path in the message, e.g. `metrics.0.timestamp`. */
  path: string;
  kind: Kind;
  required?: boolean;
  limit?: Limit;
  id?: IdKind;
  role?: Role;
  /** Largest valid `maxResults`. */
  max?: number;
  artifactPath?: boolean;
  /** Most items a list may hold (batch limits, compared runs). */
  maxItems?: number;
  /** Makes a created experiment scratch (its prefixed name): never replaced on scratch cases. */
  scratchName?: boolean;
}

interface PathParamSpec {
  id?: IdKind;
  limit?: Limit;
  artifactPath?: boolean;
}

interface Example {
  /** Path parameters as they go on the wire (already percent-encoded); `*` is the wildcard. */
  params: Record<string, string>;
  message?: Record<string, unknown>;
}

/** One route of the server. */
export interface RouteSpec {
  /** Unique, e.g. `v1 POST /runs/:runId/batch`. */
  name: string;
  api: Api;
  method: string;
  /** Relative to the API root (`/api/v1`, `<root>/mlflow`, `<root>/mlflow-artifacts`, or `` for probes). */
  template: string;
  writes: boolean;
  input: Input;
  fields: FieldSpec[];
  pathParams?: Record<string, PathParamSpec>;
  /** v1: the query schema refuses unknown fields. */
  closedQuery?: boolean;
  /** Refuses a deleted run or experiment (FAILED_PRECONDITION). */
  needsActive?: boolean;
  /** MLflow: `{}` is a complete request (all fields optional). */
  emptyMessageOk?: boolean;
  /** May take valid-with-extras requests aimed at the scratch run or experiment. */
  lenient?: boolean;
  /** Answers 501 NOT_IMPLEMENTED by design (as MLflow does), however well-formed the request. */
  notImplemented?: boolean;
  example(s: Seeded, scope: Scope, uid: () => string): Example;
}

const enc = encodeURIComponent;
const runOf = (s: Seeded, scope: Scope): string => (scope === 'scratch' ? s.scratchRunId : s.runId);
const expOf = (s: Seeded, scope: Scope): string => (scope === 'scratch' ? s.scratchExperimentId : s.experimentId);
// A fresh name: scratch names are left out of the snapshot, protected ones would show up in it.
const newName = (s: Seeded, scope: Scope, uid: () => string): string =>
  scope === 'scratch' ? `${s.scratchPrefix}${uid()}` : `malformed-new-${uid()}`;
const NOW = 1_717_000_000_000;

const f = (path: string, kind: Kind, more: Omit<FieldSpec, 'path' | 'kind'> = {}): FieldSpec => ({
  path,
  kind,
  ...more,
});
const req = { required: true } as const;

const V1_BATCH_FIELDS: FieldSpec[] = [
  f('metrics', 'messages', { maxItems: 1000 }),
  f('metrics.0.key', 'string', { ...req, limit: 'key' }),
  f('metrics.0.value', 'double', req),
  f('metrics.0.timestamp', 'int', req),
  f('metrics.0.step', 'int'),
  f('params', 'messages', { maxItems: 100 }),
  f('params.0.key', 'string', { ...req, limit: 'key' }),
  f('params.0.value', 'string', { ...req, limit: 'paramValue' }),
  f('tags', 'messages', { maxItems: 100 }),
  f('tags.0.key', 'string', { ...req, limit: 'key' }),
  f('tags.0.value', 'string', { ...req, limit: 'tagValue' }),
];

const V1_ROUTES: RouteSpec[] = [
  {
    name: 'v1 POST /experiments',
    api: 'v1',
    method: 'POST',
    template: '/experiments',
    writes: true,
    input: 'json',
    fields: [
      f('name', 'string', { ...req, limit: 'expName', scratchName: true }),
      f('tags', 'messages'),
      f('tags.0.key', 'string', { ...req, limit: 'key' }),
      f('tags.0.value', 'string', { ...req, limit: 'tagValue' }),
    ],
    example: (s, scope, uid) => ({
      params: {},
      message: { name: newName(s, scope, uid), tags: [{ key: 'team', value: 'risk' }] },
    }),
  },
  {
    name: 'v1 GET /experiments',
    api: 'v1',
    method: 'GET',
    template: '/experiments',
    writes: false,
    input: 'query',
    closedQuery: true,
    fields: [
      f('filter', 'string', { role: 'filter' }),
      f('maxResults', 'int', { role: 'maxResults', max: 50_000 }),
      f('pageToken', 'string', { role: 'pageToken' }),
      f('viewType', 'enum', { role: 'viewType' }),
      f('orderBy', 'strings', { role: 'orderBy' }),
    ],
    example: () => ({
      params: {},
      message: { filter: "name LIKE 'malformed%'", maxResults: '10', viewType: 'ALL', orderBy: ['name ASC'] },
    }),
  },
  {
    name: 'v1 GET /experiments/:experimentId',
    api: 'v1',
    method: 'GET',
    template: '/experiments/:experimentId',
    writes: false,
    input: 'none',
    fields: [],
    pathParams: { experimentId: { id: 'experiment' } },
    example: (s, scope) => ({ params: { experimentId: expOf(s, scope) } }),
  },
  {
    name: 'v1 GET /experiments/:experimentId/run-keys',
    api: 'v1',
    method: 'GET',
    template: '/experiments/:experimentId/run-keys',
    writes: false,
    input: 'none',
    fields: [],
    pathParams: { experimentId: { id: 'experiment' } },
    example: (s, scope) => ({ params: { experimentId: expOf(s, scope) } }),
  },
  {
    name: 'v1 GET /experiments/by-name/:name',
    api: 'v1',
    method: 'GET',
    template: '/experiments/by-name/:name',
    writes: false,
    input: 'none',
    fields: [],
    pathParams: { name: { limit: 'expName' } },
    example: () => ({ params: { name: enc('malformed-protected') } }),
  },
  {
    name: 'v1 PATCH /experiments/:experimentId',
    api: 'v1',
    method: 'PATCH',
    template: '/experiments/:experimentId',
    writes: true,
    input: 'json',
    needsActive: true,
    fields: [f('name', 'string', { ...req, limit: 'expName' })],
    pathParams: { experimentId: { id: 'experiment' } },
    example: (s, scope, uid) => ({
      params: { experimentId: expOf(s, scope) },
      message: { name: scope === 'scratch' ? `${s.scratchPrefix}main` : `malformed-renamed-${uid()}` },
    }),
  },
  {
    name: 'v1 DELETE /experiments/:experimentId',
    api: 'v1',
    method: 'DELETE',
    template: '/experiments/:experimentId',
    writes: true,
    input: 'none',
    fields: [],
    pathParams: { experimentId: { id: 'experiment' } },
    example: (s) => ({ params: { experimentId: s.experimentId } }),
  },
  {
    name: 'v1 POST /experiments/:experimentId/restore',
    api: 'v1',
    method: 'POST',
    template: '/experiments/:experimentId/restore',
    writes: true,
    input: 'none',
    fields: [],
    pathParams: { experimentId: { id: 'experiment' } },
    example: (s) => ({ params: { experimentId: s.deletedExperimentId } }),
  },
  {
    name: 'v1 PUT /experiments/:experimentId/tags/:key',
    api: 'v1',
    method: 'PUT',
    template: '/experiments/:experimentId/tags/:key',
    writes: true,
    input: 'json',
    needsActive: true,
    fields: [f('value', 'string', { ...req, limit: 'tagValue' })],
    pathParams: { experimentId: { id: 'experiment' }, key: { limit: 'key' } },
    example: (s, scope, uid) => ({
      params: { experimentId: expOf(s, scope), key: `k-${uid()}` },
      message: { value: 'v' },
    }),
  },
  {
    name: 'v1 DELETE /experiments/:experimentId/tags/:key',
    api: 'v1',
    method: 'DELETE',
    template: '/experiments/:experimentId/tags/:key',
    writes: true,
    input: 'none',
    needsActive: true,
    fields: [],
    pathParams: { experimentId: { id: 'experiment' }, key: { limit: 'key' } },
    example: (s) => ({ params: { experimentId: s.experimentId, key: enc(s.experimentTagKey) } }),
  },
  {
    name: 'v1 POST /runs',
    api: 'v1',
    method: 'POST',
    template: '/runs',
    writes: true,
    input: 'json',
    needsActive: true,
    fields: [
      f('experimentId', 'string', { ...req, id: 'experiment' }),
      f('runName', 'string', { limit: 'runName' }),
      f('startTime', 'int'),
      f('userId', 'string'),
      f('parentRunId', 'string', { id: 'run' }),
      f('tags', 'messages'),
      f('tags.0.key', 'string', { ...req, limit: 'key' }),
      f('tags.0.value', 'string', { ...req, limit: 'tagValue' }),
    ],
    example: (s, scope, uid) => ({
      params: {},
      message: {
        experimentId: expOf(s, scope),
        runName: `r-${uid()}`,
        startTime: NOW,
        userId: 'ana',
        parentRunId: runOf(s, scope),
        tags: [{ key: 'a', value: 'b' }],
      },
    }),
  },
  {
    name: 'v1 GET /runs/:runId',
    api: 'v1',
    method: 'GET',
    template: '/runs/:runId',
    writes: false,
    input: 'none',
    fields: [],
    pathParams: { runId: { id: 'run' } },
    example: (s, scope) => ({ params: { runId: runOf(s, scope) } }),
  },
  {
    name: 'v1 PATCH /runs/:runId',
    api: 'v1',
    method: 'PATCH',
    template: '/runs/:runId',
    writes: true,
    input: 'json',
    needsActive: true,
    fields: [f('status', 'enum'), f('endTime', 'int'), f('runName', 'string', { limit: 'runName' })],
    pathParams: { runId: { id: 'run' } },
    example: (s, scope) => ({
      params: { runId: runOf(s, scope) },
      message: { status: 'RUNNING', endTime: NOW, runName: 'renamed' },
    }),
  },
  {
    name: 'v1 DELETE /runs/:runId',
    api: 'v1',
    method: 'DELETE',
    template: '/runs/:runId',
    writes: true,
    input: 'none',
    fields: [],
    pathParams: { runId: { id: 'run' } },
    example: (s) => ({ params: { runId: s.runId } }),
  },
  {
    name: 'v1 POST /runs/:runId/restore',
    api: 'v1',
    method: 'POST',
    template: '/runs/:runId/restore',
    writes: true,
    input: 'none',
    fields: [],
    pathParams: { runId: { id: 'run' } },
    example: (s) => ({ params: { runId: s.deletedRunId } }),
  },
  {
    name: 'v1 POST /runs/:runId/kill',
    api: 'v1',
    method: 'POST',
    template: '/runs/:runId/kill',
    writes: true,
    input: 'none',
    fields: [],
    pathParams: { runId: { id: 'run' } },
    // A finished run: killing it changes nothing, so the protected runs stay as they are.
    example: (s) => ({ params: { runId: s.finishedRunId } }),
  },
  {
    name: 'v1 POST /runs/:runId/batch',
    api: 'v1',
    method: 'POST',
    template: '/runs/:runId/batch',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: V1_BATCH_FIELDS,
    pathParams: { runId: { id: 'run' } },
    example: (s, scope, uid) => ({
      params: { runId: runOf(s, scope) },
      message: {
        metrics: [{ key: `m-${uid()}`, value: 0.5, timestamp: NOW, step: 1 }],
        params: [{ key: `p-${uid()}`, value: '0.1' }],
        tags: [{ key: `t-${uid()}`, value: 'x' }],
      },
    }),
  },
  {
    name: 'v1 PUT /runs/:runId/tags/:key',
    api: 'v1',
    method: 'PUT',
    template: '/runs/:runId/tags/:key',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [f('value', 'string', { ...req, limit: 'tagValue' })],
    pathParams: { runId: { id: 'run' }, key: { limit: 'key' } },
    example: (s, scope, uid) => ({ params: { runId: runOf(s, scope), key: `k-${uid()}` }, message: { value: 'v' } }),
  },
  {
    name: 'v1 DELETE /runs/:runId/tags/:key',
    api: 'v1',
    method: 'DELETE',
    template: '/runs/:runId/tags/:key',
    writes: true,
    input: 'none',
    needsActive: true,
    fields: [],
    pathParams: { runId: { id: 'run' }, key: { limit: 'key' } },
    example: (s) => ({ params: { runId: s.runId, key: enc(s.tagKey) } }),
  },
  {
    name: 'v1 POST /runs/:runId/inputs',
    api: 'v1',
    method: 'POST',
    template: '/runs/:runId/inputs',
    writes: true,
    input: 'json',
    needsActive: true,
    fields: [
      f('inputs', 'messages', req),
      f('inputs.0.dataset', 'message', req),
      f('inputs.0.dataset.name', 'string', req),
      f('inputs.0.dataset.digest', 'string', req),
      f('inputs.0.dataset.sourceType', 'string', req),
      f('inputs.0.dataset.source', 'string', req),
      f('inputs.0.tags', 'messages', req),
      f('inputs.0.tags.0.key', 'string', { ...req, limit: 'key' }),
    ],
    pathParams: { runId: { id: 'run' } },
    example: (s, scope, uid) => ({
      params: { runId: runOf(s, scope) },
      message: {
        inputs: [
          {
            dataset: { name: `d-${uid()}`, digest: 'abc', sourceType: 'local', source: 'x.csv' },
            tags: [{ key: 'mlflow.data.context', value: 'train' }],
          },
        ],
      },
    }),
  },
  {
    name: 'v1 POST /runs/search',
    api: 'v1',
    method: 'POST',
    template: '/runs/search',
    writes: false,
    input: 'json',
    fields: [
      f('experimentIds', 'strings', { ...req, id: 'experiments' }),
      f('filter', 'string', { role: 'filter' }),
      f('orderBy', 'strings', { role: 'orderBy' }),
      f('maxResults', 'int', { role: 'maxResults', max: 50_000 }),
      f('pageToken', 'string', { role: 'pageToken' }),
      f('viewType', 'enum', { role: 'viewType' }),
    ],
    example: (s) => ({
      params: {},
      message: {
        experimentIds: [s.experimentId],
        filter: 'metrics.loss < 1',
        orderBy: ['start_time DESC'],
        maxResults: 10,
        viewType: 'ALL',
      },
    }),
  },
  {
    name: 'v1 POST /runs/compare',
    api: 'v1',
    method: 'POST',
    template: '/runs/compare',
    writes: false,
    input: 'json',
    fields: [f('runIds', 'strings', { ...req, id: 'runs', maxItems: 100 })],
    example: (s) => ({ params: {}, message: { runIds: [s.runId, s.finishedRunId] } }),
  },
  {
    name: 'v1 GET /runs/:runId/metrics/:key/history',
    api: 'v1',
    method: 'GET',
    template: '/runs/:runId/metrics/:key/history',
    writes: false,
    input: 'query',
    closedQuery: true,
    fields: [
      f('maxResults', 'int', { role: 'maxResults', max: 50_000 }),
      f('pageToken', 'string', { role: 'pageToken' }),
    ],
    pathParams: { runId: { id: 'run' }, key: { limit: 'key' } },
    example: (s) => ({ params: { runId: s.runId, key: enc(s.metricKey) }, message: { maxResults: '5' } }),
  },
  {
    name: 'v1 GET /runs/:runId/metrics/:key/downsampled',
    api: 'v1',
    method: 'GET',
    template: '/runs/:runId/metrics/:key/downsampled',
    writes: false,
    input: 'query',
    closedQuery: true,
    fields: [
      f('points', 'int', { role: 'maxResults', max: 10_000 }),
      f('startStep', 'int', { role: 'step' }),
      f('endStep', 'int', { role: 'step' }),
    ],
    pathParams: { runId: { id: 'run' }, key: { limit: 'key' } },
    example: (s) => ({
      params: { runId: s.runId, key: enc(s.metricKey) },
      message: { points: '10', startStep: '0', endStep: '100' },
    }),
  },
  {
    name: 'v1 PUT /runs/:runId/artifacts/*',
    api: 'v1',
    method: 'PUT',
    template: '/runs/:runId/artifacts/*',
    writes: true,
    input: 'stream',
    needsActive: true,
    fields: [],
    pathParams: { runId: { id: 'run' }, '*': { artifactPath: true } },
    example: (s, scope, uid) => ({ params: { runId: runOf(s, scope), '*': `upload/${uid()}.bin` } }),
  },
  {
    name: 'v1 GET /runs/:runId/artifacts/*',
    api: 'v1',
    method: 'GET',
    template: '/runs/:runId/artifacts/*',
    writes: false,
    input: 'stream',
    fields: [],
    pathParams: { runId: { id: 'run' }, '*': { artifactPath: true } },
    example: (s) => ({ params: { runId: s.runId, '*': s.artifactPath } }),
  },
  {
    name: 'v1 GET /runs/:runId/artifacts',
    api: 'v1',
    method: 'GET',
    template: '/runs/:runId/artifacts',
    writes: false,
    input: 'query',
    closedQuery: true,
    fields: [f('path', 'string', { artifactPath: true })],
    pathParams: { runId: { id: 'run' } },
    example: (s) => ({ params: { runId: s.runId }, message: { path: 'model' } }),
  },
  {
    name: 'v1 DELETE /runs/:runId/artifacts/*',
    api: 'v1',
    method: 'DELETE',
    template: '/runs/:runId/artifacts/*',
    writes: true,
    input: 'stream',
    needsActive: true,
    fields: [],
    pathParams: { runId: { id: 'run' }, '*': { artifactPath: true } },
    example: (s) => ({ params: { runId: s.runId, '*': s.artifactPath } }),
  },
];

// Monitoring (contract 4): serving's shipments, feedback, reference profiles and results. The
// monitoring tables are outside the snapshot; what matters here is a 4xx (never a 5xx) for bad input.
const MONITOR_MODEL = { name: 'malformed-model', version: '1' };
const MONITOR_MODEL_FIELDS: FieldSpec[] = [
  f('model', 'message', req),
  f('model.name', 'string', req),
  f('model.version', 'string', req),
];
const EMPTY_SUMMARY = {
  format: 'trestle.window-summary',
  version: 1,
  binsDigest: '0000000000000000',
  rows: 0,
  features: [],
  outputs: [],
  missingFeatures: {},
  unknownFeatures: {},
};
const MONITOR_RESULTS_QUERY: FieldSpec[] = [
  f('version', 'string'),
  f('alias', 'string'),
  f('since', 'int'),
  f('limit', 'int', { max: 10_000 }),
];

const MONITORING_ROUTES: RouteSpec[] = [
  {
    name: 'v1 POST /inference-logs',
    api: 'v1',
    method: 'POST',
    template: '/inference-logs',
    writes: true,
    input: 'json',
    fields: [
      ...MONITOR_MODEL_FIELDS,
      f('records', 'messages', { ...req, maxItems: 10_000 }),
      f('records.0.requestId', 'string', req),
      f('records.0.time', 'int', req),
      f('records.0.inputs', 'message', req),
      f('records.0.outputs', 'message', req),
    ],
    example: (_s, _scope, uid) => ({
      params: {},
      message: {
        model: MONITOR_MODEL,
        records: [{ requestId: `r-${uid()}`, time: NOW, inputs: { x: 1 }, outputs: { y: 0.5 } }],
      },
    }),
  },
  {
    name: 'v1 POST /inference-windows',
    api: 'v1',
    method: 'POST',
    template: '/inference-windows',
    writes: true,
    input: 'json',
    fields: [...MONITOR_MODEL_FIELDS, f('start', 'int', req), f('end', 'int', req), f('summary', 'message', req)],
    example: () => ({
      params: {},
      message: { model: MONITOR_MODEL, start: NOW, end: NOW + 60_000, summary: EMPTY_SUMMARY },
    }),
  },
  {
    name: 'v1 POST /feedback',
    api: 'v1',
    method: 'POST',
    template: '/feedback',
    writes: true,
    input: 'json',
    fields: [f('records', 'messages', { ...req, maxItems: 10_000 }), f('records.0.requestId', 'string')],
    example: () => ({ params: {}, message: { records: [{ requestId: 'never-logged', label: '1' }] } }),
  },
  {
    name: 'v1 PUT /monitoring/references/:name/:version',
    api: 'v1',
    method: 'PUT',
    template: '/monitoring/references/:name/:version',
    writes: true,
    input: 'json',
    fields: [f('profile', 'message', req)],
    example: () => ({
      params: { name: 'malformed-model', version: '1' },
      message: { profile: { format: 'trestle.reference-profile', version: 1, rows: 0, features: [] } },
    }),
  },
  {
    name: 'v1 GET /monitoring/references/:name/:version',
    api: 'v1',
    method: 'GET',
    template: '/monitoring/references/:name/:version',
    writes: false,
    input: 'none',
    fields: [],
    example: () => ({ params: { name: 'malformed-model', version: '1' } }),
  },
  {
    name: 'v1 GET /monitoring/models/:name/results',
    api: 'v1',
    method: 'GET',
    template: '/monitoring/models/:name/results',
    writes: false,
    input: 'query',
    closedQuery: true,
    fields: MONITOR_RESULTS_QUERY,
    example: () => ({ params: { name: 'malformed-model' }, message: { version: '1', limit: '10' } }),
  },
  {
    name: 'v1 GET /monitoring/models/:name/status',
    api: 'v1',
    method: 'GET',
    template: '/monitoring/models/:name/status',
    writes: false,
    input: 'query',
    closedQuery: true,
    fields: MONITOR_RESULTS_QUERY,
    example: () => ({ params: { name: 'malformed-model' }, message: { alias: 'champion' } }),
  },
  {
    name: 'v1 POST /monitoring/models/:name/run',
    api: 'v1',
    method: 'POST',
    template: '/monitoring/models/:name/run',
    writes: true,
    input: 'query',
    closedQuery: true,
    fields: [f('version', 'string')],
    example: () => ({ params: { name: 'malformed-model' }, message: { version: '1' } }),
  },
  {
    name: 'v1 GET /monitoring/models/:name/versions/:version/summary',
    api: 'v1',
    method: 'GET',
    template: '/monitoring/models/:name/versions/:version/summary',
    writes: false,
    input: 'query',
    closedQuery: true,
    fields: [f('start', 'int'), f('end', 'int')],
    example: () => ({
      params: { name: 'malformed-model', version: '1' },
      message: { start: String(NOW), end: String(NOW + 60_000) },
    }),
  },
  {
    name: 'v1 GET /monitoring/metrics',
    api: 'v1',
    method: 'GET',
    template: '/monitoring/metrics',
    writes: false,
    input: 'none',
    fields: [],
    example: () => ({ params: {} }),
  },
];

const PROBE_ROUTES: RouteSpec[] = ['/health', '/ready', '/api/v1/openapi.json', '/docs'].map((path) => ({
  name: `probe GET ${path}`,
  api: 'probe' as const,
  method: 'GET',
  template: path,
  writes: false,
  input: 'none' as const,
  fields: [],
  example: () => ({ params: {} }),
}));

const ML_KV = (base: string, limit: Limit, maxItems?: number): FieldSpec[] => [
  f(base, 'messages', maxItems === undefined ? {} : { maxItems }),
  f(`${base}.0.key`, 'string', { ...req, limit: 'key' }),
  f(`${base}.0.value`, 'string', { limit }),
];

/** Relative to `<root>/mlflow`. */
const MLFLOW_ROUTES: RouteSpec[] = [
  {
    name: 'mlflow POST /experiments/create',
    api: 'mlflow',
    method: 'POST',
    template: '/experiments/create',
    writes: true,
    input: 'json',
    lenient: true,
    fields: [
      f('name', 'string', { ...req, limit: 'expName', scratchName: true }),
      f('artifact_location', 'string'),
      ...ML_KV('tags', 'tagValue'),
    ],
    example: (s, scope, uid) => ({
      params: {},
      message: { name: newName(s, scope, uid), tags: [{ key: 'team', value: 'risk' }] },
    }),
  },
  {
    name: 'mlflow GET /experiments/get',
    api: 'mlflow',
    method: 'GET',
    template: '/experiments/get',
    writes: false,
    input: 'query',
    fields: [f('experiment_id', 'string', { ...req, id: 'experiment' })],
    example: (s) => ({ params: {}, message: { experiment_id: s.experimentId } }),
  },
  {
    name: 'mlflow GET /experiments/get-by-name',
    api: 'mlflow',
    method: 'GET',
    template: '/experiments/get-by-name',
    writes: false,
    input: 'query',
    fields: [f('experiment_name', 'string', { ...req, limit: 'expName' })],
    example: () => ({ params: {}, message: { experiment_name: 'malformed-protected' } }),
  },
  ...(['GET', 'POST'] as const).map((method): RouteSpec => ({
    name: `mlflow ${method} /experiments/search`,
    api: 'mlflow',
    method,
    template: '/experiments/search',
    writes: false,
    input: method === 'GET' ? 'query' : 'json',
    emptyMessageOk: true,
    fields: [
      f('filter', 'string', { role: 'filter' }),
      f('order_by', 'strings', { role: 'orderBy' }),
      f('max_results', 'int', { role: 'maxResults', max: 50_000 }),
      f('page_token', 'string', { role: 'pageToken' }),
      f('view_type', 'enum', { role: 'viewType' }),
    ],
    example: () => ({
      params: {},
      message: {
        filter: "name LIKE 'malformed%'",
        order_by: ['name ASC'],
        max_results: method === 'GET' ? '10' : 10,
        view_type: 'ALL',
      },
    }),
  })),
  {
    name: 'mlflow GET /experiments/list',
    api: 'mlflow',
    method: 'GET',
    template: '/experiments/list',
    writes: false,
    input: 'query',
    emptyMessageOk: true,
    fields: [
      f('max_results', 'int', { role: 'maxResults', max: 50_000 }),
      f('page_token', 'string', { role: 'pageToken' }),
      f('view_type', 'enum', { role: 'viewType' }),
    ],
    example: () => ({ params: {}, message: { max_results: '10', view_type: 'ACTIVE_ONLY' } }),
  },
  {
    name: 'mlflow POST /experiments/update',
    api: 'mlflow',
    method: 'POST',
    template: '/experiments/update',
    writes: true,
    input: 'json',
    needsActive: true,
    fields: [
      f('experiment_id', 'string', { ...req, id: 'experiment' }),
      f('new_name', 'string', { ...req, limit: 'expName' }),
    ],
    example: (s, _scope, uid) => ({
      params: {},
      message: { experiment_id: s.experimentId, new_name: `malformed-renamed-${uid()}` },
    }),
  },
  {
    name: 'mlflow POST /experiments/delete',
    api: 'mlflow',
    method: 'POST',
    template: '/experiments/delete',
    writes: true,
    input: 'json',
    fields: [f('experiment_id', 'string', { ...req, id: 'experiment' })],
    example: (s) => ({ params: {}, message: { experiment_id: s.experimentId } }),
  },
  {
    name: 'mlflow POST /experiments/restore',
    api: 'mlflow',
    method: 'POST',
    template: '/experiments/restore',
    writes: true,
    input: 'json',
    fields: [f('experiment_id', 'string', { ...req, id: 'experiment' })],
    example: (s) => ({ params: {}, message: { experiment_id: s.deletedExperimentId } }),
  },
  {
    name: 'mlflow POST /experiments/set-experiment-tag',
    api: 'mlflow',
    method: 'POST',
    template: '/experiments/set-experiment-tag',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [
      f('experiment_id', 'string', { ...req, id: 'experiment' }),
      f('key', 'string', { ...req, limit: 'key' }),
      f('value', 'string', { limit: 'tagValue' }),
    ],
    example: (s, scope, uid) => ({
      params: {},
      message: { experiment_id: expOf(s, scope), key: `k-${uid()}`, value: 'v' },
    }),
  },
  {
    name: 'mlflow POST /experiments/delete-experiment-tag',
    api: 'mlflow',
    method: 'POST',
    template: '/experiments/delete-experiment-tag',
    writes: true,
    input: 'json',
    needsActive: true,
    fields: [f('experiment_id', 'string', { ...req, id: 'experiment' }), f('key', 'string', { ...req, limit: 'key' })],
    example: (s) => ({ params: {}, message: { experiment_id: s.experimentId, key: s.experimentTagKey } }),
  },
  {
    name: 'mlflow POST /runs/create',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/create',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    emptyMessageOk: true,
    fields: [
      f('experiment_id', 'string', { id: 'experiment' }),
      f('run_name', 'string', { limit: 'runName' }),
      f('user_id', 'string'),
      f('start_time', 'int'),
      ...ML_KV('tags', 'tagValue'),
    ],
    example: (s, scope, uid) => ({
      params: {},
      message: {
        experiment_id: expOf(s, scope),
        run_name: `r-${uid()}`,
        user_id: 'ana',
        start_time: NOW,
        tags: [{ key: 'a', value: 'b' }],
      },
    }),
  },
  {
    name: 'mlflow GET /runs/get',
    api: 'mlflow',
    method: 'GET',
    template: '/runs/get',
    writes: false,
    input: 'query',
    fields: [f('run_id', 'string', { ...req, id: 'run' })],
    example: (s) => ({ params: {}, message: { run_id: s.runId } }),
  },
  {
    name: 'mlflow POST /runs/update',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/update',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [
      f('run_id', 'string', { ...req, id: 'run' }),
      f('status', 'enum'),
      f('end_time', 'int'),
      f('run_name', 'string', { limit: 'runName' }),
    ],
    example: (s, scope) => ({
      params: {},
      message: { run_id: runOf(s, scope), status: 'RUNNING', end_time: NOW, run_name: 'renamed' },
    }),
  },
  {
    name: 'mlflow POST /runs/delete',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/delete',
    writes: true,
    input: 'json',
    fields: [f('run_id', 'string', { ...req, id: 'run' })],
    example: (s) => ({ params: {}, message: { run_id: s.runId } }),
  },
  {
    name: 'mlflow POST /runs/restore',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/restore',
    writes: true,
    input: 'json',
    fields: [f('run_id', 'string', { ...req, id: 'run' })],
    example: (s) => ({ params: {}, message: { run_id: s.deletedRunId } }),
  },
  {
    name: 'mlflow POST /runs/search',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/search',
    writes: false,
    input: 'json',
    emptyMessageOk: true,
    fields: [
      f('experiment_ids', 'strings', { id: 'experiments' }),
      f('filter', 'string', { role: 'filter' }),
      f('order_by', 'strings', { role: 'orderBy' }),
      f('max_results', 'int', { role: 'maxResults', max: 50_000 }),
      f('page_token', 'string', { role: 'pageToken' }),
      f('run_view_type', 'enum', { role: 'viewType' }),
    ],
    example: (s) => ({
      params: {},
      message: {
        experiment_ids: [s.experimentId],
        filter: "params.lr = '0.1'",
        order_by: ['attributes.start_time DESC'],
        max_results: 10,
        run_view_type: 'ALL',
      },
    }),
  },
  {
    name: 'mlflow POST /runs/log-metric',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/log-metric',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [
      f('run_id', 'string', { ...req, id: 'run' }),
      f('key', 'string', { ...req, limit: 'key' }),
      f('value', 'double', req),
      f('timestamp', 'int', req),
      f('step', 'int'),
    ],
    example: (s, scope, uid) => ({
      params: {},
      message: { run_id: runOf(s, scope), key: `m-${uid()}`, value: 0.25, timestamp: NOW, step: 3 },
    }),
  },
  {
    name: 'mlflow POST /runs/log-parameter',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/log-parameter',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [
      f('run_id', 'string', { ...req, id: 'run' }),
      f('key', 'string', { ...req, limit: 'key' }),
      f('value', 'string', { ...req, limit: 'paramValue' }),
    ],
    example: (s, scope, uid) => ({ params: {}, message: { run_id: runOf(s, scope), key: `p-${uid()}`, value: '0.1' } }),
  },
  {
    name: 'mlflow POST /runs/set-tag',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/set-tag',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [
      f('run_id', 'string', { ...req, id: 'run' }),
      f('key', 'string', { ...req, limit: 'key' }),
      f('value', 'string', { limit: 'tagValue' }),
    ],
    example: (s, scope, uid) => ({ params: {}, message: { run_id: runOf(s, scope), key: `t-${uid()}`, value: 'v' } }),
  },
  {
    name: 'mlflow POST /runs/delete-tag',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/delete-tag',
    writes: true,
    input: 'json',
    needsActive: true,
    fields: [f('run_id', 'string', { ...req, id: 'run' }), f('key', 'string', { ...req, limit: 'key' })],
    example: (s) => ({ params: {}, message: { run_id: s.runId, key: s.tagKey } }),
  },
  {
    name: 'mlflow POST /runs/log-batch',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/log-batch',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [
      f('run_id', 'string', { ...req, id: 'run' }),
      f('metrics', 'messages', { maxItems: 1000 }),
      f('metrics.0.key', 'string', { ...req, limit: 'key' }),
      f('metrics.0.value', 'double', req),
      f('metrics.0.timestamp', 'int', req),
      f('metrics.0.step', 'int'),
      ...ML_KV('params', 'paramValue', 100),
      ...ML_KV('tags', 'tagValue', 100),
    ],
    example: (s, scope, uid) => ({
      params: {},
      message: {
        run_id: runOf(s, scope),
        metrics: [{ key: `m-${uid()}`, value: 1.5, timestamp: NOW, step: 2 }],
        params: [{ key: `p-${uid()}`, value: '7' }],
        tags: [{ key: `t-${uid()}`, value: 'x' }],
      },
    }),
  },
  {
    name: 'mlflow POST /runs/log-inputs',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/log-inputs',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [
      f('run_id', 'string', { ...req, id: 'run' }),
      f('datasets', 'messages'),
      f('datasets.0.dataset', 'message', req),
      f('datasets.0.dataset.name', 'string', req),
      f('datasets.0.dataset.digest', 'string', req),
      f('datasets.0.dataset.source_type', 'string', req),
      f('datasets.0.dataset.source', 'string', req),
      f('datasets.0.dataset.schema', 'string'),
      ...ML_KV('datasets.0.tags', 'tagValue'),
    ],
    example: (s, scope, uid) => ({
      params: {},
      message: {
        run_id: runOf(s, scope),
        datasets: [
          {
            tags: [{ key: 'mlflow.data.context', value: 'train' }],
            dataset: { name: `d-${uid()}`, digest: 'abc', source_type: 'local', source: 'x.csv', schema: '{}' },
          },
        ],
      },
    }),
  },
  {
    name: 'mlflow POST /runs/log-model',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/log-model',
    writes: true,
    input: 'json',
    needsActive: true,
    lenient: true,
    fields: [f('run_id', 'string', { ...req, id: 'run' }), f('model_json', 'string', req)],
    example: (s, scope) => ({
      params: {},
      message: {
        run_id: runOf(s, scope),
        model_json: JSON.stringify({
          artifact_path: 'model',
          flavors: {},
          utc_time_created: '2024-01-01',
          run_id: runOf(s, scope),
        }),
      },
    }),
  },
  {
    name: 'mlflow POST /runs/outputs',
    api: 'mlflow',
    method: 'POST',
    template: '/runs/outputs',
    writes: true,
    input: 'json',
    // The example names a logged model that does not exist: refused (404) without a write.
    fields: [f('run_id', 'string', { id: 'run' })],
    example: (s) => ({ params: {}, message: { run_id: s.runId, models: [{ model_id: 'm-1', step: 0 }] } }),
  },
  {
    name: 'mlflow GET /metrics/get-history',
    api: 'mlflow',
    method: 'GET',
    template: '/metrics/get-history',
    writes: false,
    input: 'query',
    fields: [
      f('run_id', 'string', { ...req, id: 'run' }),
      f('metric_key', 'string', { ...req, limit: 'key' }),
      f('max_results', 'int', { role: 'maxResults', max: Number.MAX_SAFE_INTEGER }),
      f('page_token', 'string', { role: 'pageToken' }),
    ],
    example: (s) => ({ params: {}, message: { run_id: s.runId, metric_key: s.metricKey, max_results: '5' } }),
  },
  {
    name: 'mlflow GET /metrics/get-history-bulk-interval',
    api: 'mlflow',
    method: 'GET',
    template: '/metrics/get-history-bulk-interval',
    writes: false,
    input: 'query',
    fields: [
      f('run_ids', 'strings', { ...req, id: 'runs', maxItems: 100 }),
      f('metric_key', 'string', { ...req, limit: 'key' }),
      f('start_step', 'int', { role: 'step' }),
      f('end_step', 'int', { role: 'step' }),
      f('max_results', 'int', { role: 'maxResults', max: 2500 }),
    ],
    example: (s) => ({
      params: {},
      message: {
        run_ids: [s.runId, s.finishedRunId],
        metric_key: s.metricKey,
        start_step: '0',
        end_step: '50',
        max_results: '10',
      },
    }),
  },
  {
    name: 'mlflow GET /artifacts/list',
    api: 'mlflow',
    method: 'GET',
    template: '/artifacts/list',
    writes: false,
    input: 'query',
    fields: [f('run_id', 'string', { ...req, id: 'run' }), f('path', 'string', { artifactPath: true })],
    example: (s) => ({ params: {}, message: { run_id: s.runId, path: 'model' } }),
  },
  ...(['upload', 'download'] as const).map((kind): RouteSpec => ({
    name: `mlflow POST /artifacts/presigned-${kind}-url`,
    api: 'mlflow',
    method: 'POST',
    template: `/artifacts/presigned-${kind}-url`,
    writes: false,
    input: 'json',
    fields: [f('run_id', 'string', { ...req, id: 'run' }), f('path', 'string', { ...req, artifactPath: true })],
    example: (s) => ({ params: {}, message: { run_id: s.runId, path: s.artifactPath } }),
  })),
];

/** Relative to `<root>/mlflow-artifacts`; the wildcard is the artifact store key itself. */
const PROXIED_ROUTES: RouteSpec[] = [
  {
    name: 'proxied GET /artifacts',
    api: 'proxied',
    method: 'GET',
    template: '/artifacts',
    writes: false,
    input: 'query',
    fields: [f('path', 'string', { artifactPath: true })],
    example: (s) => ({ params: {}, message: { path: `${s.experimentId}/${s.runId}/artifacts` } }),
  },
  {
    name: 'proxied GET /artifacts/*',
    api: 'proxied',
    method: 'GET',
    template: '/artifacts/*',
    writes: false,
    input: 'stream',
    fields: [],
    pathParams: { '*': { artifactPath: true } },
    example: (s) => ({ params: { '*': `${s.experimentId}/${s.runId}/artifacts/${s.artifactPath}` } }),
  },
  {
    name: 'proxied PUT /artifacts/*',
    api: 'proxied',
    method: 'PUT',
    template: '/artifacts/*',
    writes: true,
    input: 'stream',
    fields: [],
    pathParams: { '*': { artifactPath: true } },
    example: (s, scope, uid) => ({
      params: { '*': `${expOf(s, scope)}/${runOf(s, scope)}/artifacts/upload/${uid()}.bin` },
    }),
  },
  {
    name: 'proxied DELETE /artifacts/*',
    api: 'proxied',
    method: 'DELETE',
    template: '/artifacts/*',
    writes: true,
    input: 'stream',
    fields: [],
    pathParams: { '*': { artifactPath: true } },
    example: (s) => ({ params: { '*': `${s.experimentId}/${s.runId}/artifacts/${s.artifactPath}` } }),
  },
  {
    name: 'proxied POST /mpu/*',
    api: 'proxied',
    method: 'POST',
    template: '/mpu/*',
    writes: true,
    input: 'stream',
    notImplemented: true,
    fields: [],
    pathParams: { '*': { artifactPath: true } },
    example: (s) => ({ params: { '*': `create/${s.experimentId}/${s.runId}/artifacts/big.bin` } }),
  },
];

/** Every route the server answers, as this test knows them. */
export const ROUTES: readonly RouteSpec[] = [
  ...V1_ROUTES,
  ...MONITORING_ROUTES,
  ...PROBE_ROUTES,
  ...MLFLOW_ROUTES,
  ...PROXIED_ROUTES,
];

/** The two roots MLflow serves under. */
const MLFLOW_ROOTS = ['/api/2.0', '/ajax-api/2.0'] as const;

function apiPrefix(api: Api, root: string): string {
  switch (api) {
    case 'v1':
      return '/api/v1';
    case 'mlflow':
      return `${root}/mlflow`;
    case 'proxied':
      return `${root}/mlflow-artifacts`;
    case 'probe':
      return '';
  }
}

/**
 * Every route of the table as `METHOD /full/template`, under both MLflow roots.
 *
 * @example routeKeys().includes('POST /ajax-api/2.0/mlflow/runs/log-batch') // true
 */
export function routeKeys(): string[] {
  return ROUTES.flatMap((r) =>
    (r.api === 'mlflow' || r.api === 'proxied' ? MLFLOW_ROOTS : ['']).map(
      (root) => `${r.method} ${apiPrefix(r.api, root)}${r.template}`,
    ),
  );
}

/**
 * The routes a Fastify app registered, as `METHOD /full/template`, read from `printRoutes()`
 * (Fastify has no other listing). HEAD, which Fastify adds to every GET, is left out, and so
 * are the lines its printer draws ambiguously (a bare `*` at the top).
 */
export function registeredRouteKeys(printed: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const m = /^([│ ]*)[├└]── (.+) \(([A-Z, ]+)\)$/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    const parent = depth === 0 ? '' : (stack[depth - 1] ?? '');
    // A wildcard child is printed as `*` under a parent without its trailing slash.
    const path = m[2] === '*' && parent !== '' && !parent.endsWith('/') ? `${parent}/*` : `${parent}${m[2]!}`;
    stack[depth] = path;
    if (depth === 0 && m[2] === '*') continue;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return [...new Set(out)];
}

// Whether `method path` would reach one of the table's routes (Fastify adds HEAD to every GET).
function matchesSomeRoute(method: string, pathname: string): boolean {
  const segments = pathname.split('/');
  return ROUTES.some((r) => {
    if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) return false;
    const roots = r.api === 'mlflow' || r.api === 'proxied' ? MLFLOW_ROOTS : [''];
    return roots.some((root) => {
      const template = `${apiPrefix(r.api, root)}${r.template}`.split('/');
      for (let i = 0; i < template.length; i++) {
        const t = template[i]!;
        if (t === '*') return segments.length >= i;
        const s = segments[i];
        if (s === undefined) return false;
        if (t.startsWith(':') ? s === '' : s !== t) return false;
      }
      return segments.length === template.length;
    });
  });
}

// ---------------------------------------------------------------- cases

/** One request to send and what the server must do with it. */
export interface MalformedCase {
  id: number;
  route: string;
  family: string;
  variant: string;
  scope: Scope;
  method: string;
  /** Request target exactly as sent (not normalised). */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body with `Transfer-Encoding: chunked` (no Content-Length). */
  chunked?: boolean;
  expect: Expect;
  /** The route answers 501 NOT_IMPLEMENTED by design. */
  notImplemented: boolean;
}

/** A request written byte by byte on a raw socket (for what an HTTP client refuses to send). */
export interface RawCase {
  name: string;
  bytes: Buffer;
}

/** JSON text spliced in as is (`NaN`, `1e400`, 10,000 nested arrays). */
class RawJson {
  constructor(readonly text: string) {}
}

function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function parentOf(
  root: Record<string, unknown>,
  path: string,
): { parent: Record<string, unknown> | unknown[]; last: string } | undefined {
  const parts = path.split('.');
  let node: unknown = root;
  for (const part of parts.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  if (typeof node !== 'object' || node === null) return undefined;
  return { parent: node as Record<string, unknown>, last: parts[parts.length - 1]! };
}

function setAt(message: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const out = clone(message);
  const at = parentOf(out, path);
  if (at !== undefined) (at.parent as Record<string, unknown>)[at.last] = value;
  return out;
}

function deleteAt(message: Record<string, unknown>, path: string): Record<string, unknown> {
  const out = clone(message);
  const at = parentOf(out, path);
  if (at !== undefined) delete (at.parent as Record<string, unknown>)[at.last];
  return out;
}

function getAt(message: Record<string, unknown>, path: string): string {
  const at = parentOf(message, path);
  const value = at === undefined ? undefined : (at.parent as Record<string, unknown>)[at.last];
  return typeof value === 'string' ? value : '';
}

function hasAt(message: Record<string, unknown>, path: string): boolean {
  const at = parentOf(message, path);
  return at !== undefined && Object.hasOwn(at.parent, at.last);
}

function queryText(message: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(message)) {
    for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) {
      const text = v instanceof RawJson ? v.text : typeof v === 'string' ? v : JSON.stringify(v);
      parts.push(`${enc(key)}=${enc(text)}`);
    }
  }
  return parts.join('&');
}

const LIMIT_LENGTH: Record<Limit, number> = { key: 250, paramValue: 6000, tagValue: 8000, expName: 500, runName: 250 };

const deepArray = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Values of the wrong JSON type for a field of `kind`, per dialect (MLflow reads `null` as absent). */
function wrongTypes(kind: Kind, api: Api, required: boolean): unknown[] {
  const mlflow = api === 'mlflow';
  const nulls = !mlflow || required ? [null] : [];
  switch (kind) {
    case 'string':
      return [42, -1.5, true, false, {}, { a: 1 }, [], ['x'], ...nulls];
    case 'int':
      return mlflow
        ? ['abc', '1.5', '', 1.5, true, {}, [], '12abc', ...nulls]
        : ['12', 'abc', 1.5, true, {}, [], ...nulls];
    case 'double':
      return mlflow ? ['abc', true, {}, [], '1,5', '', 'NaNx'] : ['abc', '1.5', true, {}, [], null, 'nan', 'inf'];
    case 'enum':
      return mlflow
        ? ['DONE', 'running', 0, 6, -1, 1.5, true, {}, [], '', '0']
        : ['running', 'DONE', 3, true, null, ''];
    case 'strings':
      return mlflow ? ['x', 1, {}, true, [1], [null], [{}], ...nulls] : ['x', 1, {}, [1], [null], [{}], null, true];
    case 'messages':
      return mlflow
        ? ['x', 1, {}, true, [1], ['x'], [null], [[]], ...nulls]
        : ['x', 1, {}, [1], ['x'], [null], [[]], null, true];
    case 'message':
      return mlflow ? ['x', 1, [], true, ...nulls] : ['x', 1, [], null, true];
  }
}

/**
 * Values that are no integer when they arrive in a query string. The v1 routes coerce query
 * strings with TypeBox's `Value.Convert`, which reads `'1.5'` as 1, `''` as 0 and `'0x10'` as
 * 16; only values it leaves as strings are sure refusals there.
 */
const QUERY_NOT_INT: Record<'v1' | 'mlflow', string[]> = {
  v1: ['abc', '12abc', '-', '0x1g', '1,000', '1.2.3'],
  mlflow: ['abc', '1.5', '12abc', '-', 'NaN', 'Infinity', '0x1g', '1,000', '0x10', '1e3', ' 5'],
};
const QUERY_NOT_ENUM = ['bogus', 'active_only', '4', '0', 'ALL ', 'DELETED_ONLY;', '-1'];

const RUN_ID_JUNK = [
  '',
  '0',
  '-1',
  'null',
  'undefined',
  '..',
  "' OR 1=1 --",
  "x'; DROP TABLE runs; --",
  '%',
  '\\',
  '*',
  'a'.repeat(300),
  '\u0000',
  'é',
];
const EXPERIMENT_ID_JUNK = [
  '999999999',
  '99999999999999999999',
  '-1',
  'abc',
  '1.5',
  '1e3',
  '0x1',
  ' 1',
  '',
  'NaN',
  '1 OR 1=1',
  '1; DROP TABLE experiments',
  '１',
  '\u0000',
  '1/..',
];

/** Escaping artifact paths as they go on the wire in a URL path (sent without normalisation). */
const ESCAPES_IN_URL = [
  '..',
  '../..',
  '../../etc/passwd',
  'a/../../b',
  'ok/../../../../x',
  '%2e%2e/x',
  '%2E%2E/%2E%2E/x',
  '..%2fx',
  '..%2Fx',
  '%2e%2e%2fx',
  '%252e%252e/x',
  '%252e%252e%252fx',
  '..\\x',
  '..%5cx',
  '..%5Cx',
  '\\..\\..\\x',
  'a\\b',
  '/etc/passwd',
  'C:\\x',
  'C:/x',
  'c:%5cx',
  'x%00y',
  '%00',
  '%2e',
  '.%2e/x',
  '%2e./x',
  '.trestle-meta/sha256/x',
  '.TRESTLE-META/x',
  '.x.tmp-0123456789abcdef',
  'a/%2e%2e/%2e%2e/%2e%2e/x',
  `${'../'.repeat(30)}etc/passwd`,
  '%c0%ae%c0%ae/x',
  '%zz',
  '',
];

/**
 * Escapes refused only at the start of a path: inside a run's folder they are ordinary names
 * (`C:`, `.trestle-meta`), or name the folder itself (`%2e` is `.` once the URL is decoded,
 * as RFC 3986 has it, and a proxied DELETE of a run's folder is MLflow's to allow).
 */
const ROOT_ONLY_ESCAPES = new Set(['/etc/passwd', 'C:/x', '.trestle-meta/sha256/x', '.TRESTLE-META/x', '', '%2e']);

/** Escaping artifact paths as a decoded string field (query `path=`, JSON `path`). */
const ESCAPES_DECODED = [
  '..',
  '../..',
  '../../etc',
  'a/../..',
  '/',
  '/etc',
  'C:\\',
  'C:/x',
  '..\\',
  'x\\..\\..',
  '%2e%2e',
  '%252e%252e/x',
  '..%2f',
  '\u0000',
  'a\u0000b',
  '.trestle-meta',
  'x/%2e%2e/..',
];

const FILTER_TOKENS = [
  'metrics.',
  'params.',
  'tags.',
  'attributes.',
  'loss',
  'lr',
  '=',
  '!=',
  '<',
  '>=',
  'LIKE',
  'ILIKE',
  'IN',
  '(',
  ')',
  "'a'",
  '"b"',
  'AND',
  'OR',
  '1',
  '-',
  '`',
  ',',
  '%',
  '\\',
  ';',
  '--',
  '/*',
  'NULL',
  'IS',
  'NOT',
  '.',
  "'",
];
const UNBALANCED_FILTERS = [
  '(metrics.loss > 1',
  'metrics.loss > 1)',
  '((',
  ')',
  "(params.lr = '0.1' OR (tags.a = 'b')",
];
const INJECTION_FILTERS = [
  "' OR 1=1 --",
  "params.x = 'a'; DROP TABLE runs",
  "name = 'x' OR '1'='1'",
  "tags.`a` = 'b' UNION SELECT * FROM runs --",
  "attributes.run_id IN ('a'); DELETE FROM runs; --",
  'metrics."a""b" > 1',
  "name LIKE '%' ESCAPE '\\'",
  "params.x = 'a'' OR ''1''=''1'",
  'metrics.loss > 1e999999',
  "attributes.run_name = 'x\u0000'",
];
const ORDER_BY_JUNK = [
  '',
  'bogus',
  'metrics.',
  'start_time ASC DESC',
  'name; DROP TABLE experiments',
  '`',
  'params.x ASC, ',
  'a'.repeat(1000),
  'metrics.`loss` ASC NULLS FIRST',
];
const PAGE_TOKEN_JUNK = [
  'garbage',
  '!!!',
  Buffer.from('{"offset":-1}').toString('base64url'),
  Buffer.from('{"offset":1e308}').toString('base64url'),
  Buffer.from('null').toString('base64url'),
  Buffer.from('[]').toString('base64url'),
  Buffer.from('{"offset":"1"}').toString('base64url'),
  Buffer.from('{"h":[1,2,"x",0]}').toString('base64url'),
  Buffer.from('{"h":[1e300,2,"1",0]}').toString('base64url'),
  'a'.repeat(5000),
  '\u0000',
];
const UNKNOWN_FIELD_NAMES = [
  'zzz',
  'extra_field',
  'runId',
  'experimentId',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'x'.repeat(300),
  'ключ',
  '',
];
const CONTROL_CHARS = ['\u0000', '\u0001', '\u0007', '\n', '\r', '\t', '\u001b', '\u007f'];
const BAD_KEYS = ['/abs', 'a/../b', '..', '../x'];
const ODD_UNICODE = ['\ud800', '\udfff', '😀', '\u202e', '\u200b', '\ufeff', 'é', 'e\u0301', '𝕏'];
const ODD_ARTIFACT_NAMES = [
  '✓ file.txt',
  'emoji-😀.bin',
  'ünïcödé/ドキュメント.txt',
  'a b/c d',
  'quote\'".txt',
  'semi;colon',
  'x%41',
  '....',
  '.hidden',
  'a..b',
  '#hash',
  '?q',
];
const WRONG_CONTENT_TYPES = [
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'text/json',
  'application/octet-stream',
  'image/png',
  '(none)',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'SEARCH'];

/** A case before it is turned into bytes. */
interface Draft {
  family: string;
  variant: string;
  scope: Scope;
  expect: Expect;
  method?: string;
  params?: Record<string, string>;
  /** The message (JSON body or query, as the route takes it). */
  message?: Record<string, unknown>;
  /** Replaces the body text (for JSON routes) or the raw bytes. */
  body?: string | Buffer;
  contentType?: string | null;
  /** Appended to the query string. */
  extraQuery?: string;
  chunked?: boolean;
  root?: string;
}

type Family = (g: CaseGenerator, r: RouteSpec) => Draft | undefined;

/**
 * Whether a page size is refused: v1 bodies take JSON integers only, v1 query strings are
 * coerced by TypeBox's Value.Convert (`'1e9'` is a number there, `'2.9'` is 2), MLflow reads
 * integers or decimal-integer strings.
 */
function maxResultsExpect(value: unknown, r: RouteSpec, max: number): Expect {
  const inRange = (n: number): boolean => Number.isSafeInteger(n) && n >= 1 && n <= max;
  if (typeof value === 'number') return inRange(value) ? 'any' : 'reject';
  const text = String(value);
  if (r.api === 'mlflow') return /^[+-]?\d+$/.test(text) && inRange(Number(text)) ? 'any' : 'reject';
  if (r.input !== 'query') return 'reject';
  // TypeBox's coercion of v1 query strings: see QUERY_NOT_INT.
  if (text.trim() === '' || text !== text.trim()) return 'any';
  const n = Number(text);
  if (Number.isNaN(n)) return 'reject';
  return inRange(Math.trunc(n)) ? 'any' : 'reject';
}

function refusedOrAny(expect: Expect, r: RouteSpec): Expect {
  return r.writes ? 'reject' : expect;
}

const FAMILIES: Record<string, Family> = {
  'malformed-json': (g, r) => {
    if (!(r.input === 'json' || (r.input === 'none' && r.method !== 'GET' && r.api === 'v1'))) return undefined;
    const valid = toJsonText(g.example(r, 'protected').message ?? { a: 1 });
    const variants: [string, () => string | Buffer][] = [
      ['truncated', () => valid.slice(0, 1 + g.rng.int(valid.length - 1))],
      ['extra brace', () => `${valid}}`],
      ['trailing garbage', () => `${valid} trailing`],
      ['two objects', () => `${valid}${valid}`],
      ['single quotes', () => valid.replace(/"/g, "'")],
      ['trailing comma', () => valid.replace(/}$/, ',}')],
      ['unquoted key', () => valid.replace(/"([A-Za-z_]+)":/, '$1:')],
      ['comment', () => `/* c */${valid}`],
      ['double comma', () => '{"a":1,,}'],
      ['missing colon', () => '{"a" 1}'],
      ['nul', () => 'nul'],
      ['undefined', () => 'undefined'],
      ['bad escape', () => '{"a":"\\x"}'],
      ['unterminated string', () => '{"a":"unterminated}'],
      ['invalid utf-8', () => Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
      ['raw control char', () => '{"a":"x\u0001y"'],
      ['lone bracket', () => '['],
    ];
    const [variant, make] = g.rng.pick(variants);
    return {
      family: 'malformed-json',
      variant,
      scope: 'protected',
      expect: 'reject',
      body: make(),
      contentType: 'application/json',
    };
  },

  'json-not-object': (g, r) => {
    if (r.input !== 'json') return undefined;
    const valid = toJsonText(g.example(r, 'protected').message ?? {});
    const variant = g.rng.pick(['null', '[]', `[${valid}]`, '"text"', '42', 'true', '"{\\"a\\":"', '-0', '1e400']);
    if (variant === 'null' && r.api === 'mlflow' && r.emptyMessageOk) {
      // MLflow reads `null` as `{}`: a complete request for these routes.
      return r.writes
        ? undefined
        : {
            family: 'json-not-object',
            variant,
            scope: 'protected',
            expect: 'any',
            body: variant,
            contentType: 'application/json',
          };
    }
    return {
      family: 'json-not-object',
      variant,
      scope: 'protected',
      expect: 'reject',
      body: variant,
      contentType: 'application/json',
    };
  },

  'empty-body': (g, r) => {
    if (r.input !== 'json') return undefined;
    const [variant, body, contentType] = g.rng.pick([
      ['empty with json type', '', 'application/json'],
      ['whitespace with json type', ' \n\t ', 'application/json'],
      ['no body no type', undefined, null],
    ] as const);
    const expect: Expect = r.api === 'mlflow' && r.emptyMessageOk ? 'any' : 'reject';
    if (r.writes && expect !== 'reject') return undefined;
    return {
      family: 'empty-body',
      variant,
      scope: 'protected',
      expect,
      ...(body === undefined ? { body: Buffer.alloc(0) } : { body }),
      contentType,
    };
  },

  'wrong-content-type': (g, r) => {
    if (!(r.input === 'json' || (r.input === 'none' && r.method !== 'GET' && r.api === 'v1'))) return undefined;
    const valid = toJsonText(g.example(r, 'protected').message ?? {});
    // The root text parser accepts text/plain; a route without a body schema then ignores the body.
    const types = r.input === 'json' ? [...WRONG_CONTENT_TYPES, 'text/plain'] : WRONG_CONTENT_TYPES;
    const type = g.rng.pick(types);
    return {
      family: 'wrong-content-type',
      variant: type,
      scope: 'protected',
      expect: 'reject',
      body: valid,
      contentType: type === '(none)' ? null : type,
    };
  },

  'wrong-type': (g, r) => {
    const ex = g.example(r, 'protected');
    const fields = r.fields.filter((x) => ex.message !== undefined && hasAt(ex.message, x.path));
    if (fields.length === 0 || ex.message === undefined) return undefined;
    const field = g.rng.pick(fields);
    if (r.input === 'query') {
      const values =
        field.kind === 'int'
          ? QUERY_NOT_INT[r.api === 'v1' ? 'v1' : 'mlflow']
          : field.kind === 'enum'
            ? QUERY_NOT_ENUM
            : [];
      if (values.length === 0) return undefined;
      const value = g.rng.pick(values);
      return {
        family: 'wrong-type',
        variant: `${field.path}=${value}`,
        scope: 'protected',
        expect: 'reject',
        message: setAt(ex.message, field.path, value),
      };
    }
    const value = g.rng.pick(wrongTypes(field.kind, r.api, field.required === true));
    return {
      family: 'wrong-type',
      variant: `${field.path}=${JSON.stringify(value)}`,
      scope: 'protected',
      expect: 'reject',
      message: setAt(ex.message, field.path, value),
    };
  },

  'missing-required': (g, r) => {
    const ex = g.example(r, 'protected');
    const fields = r.fields.filter((x) => x.required === true && ex.message !== undefined && hasAt(ex.message, x.path));
    if (fields.length === 0 || ex.message === undefined) return undefined;
    const field = g.rng.pick(fields);
    return {
      family: 'missing-required',
      variant: field.path,
      scope: 'protected',
      expect: 'reject',
      message: deleteAt(ex.message, field.path),
    };
  },

  'unknown-field': (g, r) => {
    const name = g.rng.pick(UNKNOWN_FIELD_NAMES);
    const deep = g.rng.int(8) === 0;
    const value = deep
      ? new RawJson(g.rng.pick([deepArray(10_000), deepObject(10_000)]))
      : g.rng.pick<unknown>([1, 'x', null, { a: 1 }, [1, 2]]);
    const variant = `${name.slice(0, 20)}${deep ? ' (10k deep)' : ''}`;
    if (r.api === 'v1') {
      if (r.input === 'json') {
        const ex = g.example(r, 'protected');
        return {
          family: 'unknown-field',
          variant,
          scope: 'protected',
          expect: 'reject',
          message: { ...ex.message, [name]: value },
        };
      }
      if (r.input === 'query' && r.closedQuery === true && name !== '') {
        const ex = g.example(r, 'protected');
        return {
          family: 'unknown-field',
          variant,
          scope: 'protected',
          expect: 'reject',
          message: { ...ex.message, [name]: 'x' },
        };
      }
      return undefined;
    }
    if (r.api !== 'mlflow' || r.notImplemented === true) return undefined;
    // MLflow ignores fields it does not know: the request is as valid as without them.
    if (r.writes && r.lenient !== true) return undefined;
    const scope: Scope = r.writes ? 'scratch' : 'protected';
    const ex = g.example(r, scope);
    const nested = r.fields.find(
      (x) => x.kind === 'messages' && ex.message !== undefined && hasAt(ex.message, `${x.path}.0`),
    );
    if (r.input === 'query') {
      if (name === '' || deep) return undefined;
      return { family: 'unknown-field', variant, scope, expect: 'accept', message: { ...ex.message, [name]: 'x' } };
    }
    const message =
      nested !== undefined && g.rng.int(3) === 0
        ? setAt(ex.message!, `${nested.path}.0.${name}`, 1)
        : { ...ex.message, [name]: value };
    if (deep)
      return {
        family: 'unknown-field',
        variant,
        scope,
        expect: 'accept',
        body: toJsonText({ ...ex.message, [name]: value }),
      };
    return { family: 'unknown-field', variant, scope, expect: 'accept', message };
  },

  overlong: (g, r) => {
    const ex = g.example(r, 'protected');
    const fields = r.fields.filter(
      (x) => x.limit !== undefined && ex.message !== undefined && hasAt(ex.message, x.path),
    );
    const params = Object.entries(r.pathParams ?? {}).filter(([, p]) => p.limit !== undefined);
    if (fields.length + params.length === 0) return undefined;
    // Paths and query strings stay under Node's 16 KiB header limit (a longer one is the parser's 431).
    const lengthFor = (limit: Limit, inUrl: boolean): number => {
      const n = g.rng.pick([LIMIT_LENGTH[limit] + 1, LIMIT_LENGTH[limit] * 3, 20_000]);
      return inUrl ? Math.min(n, 10_000) : n;
    };
    if (params.length > 0 && (fields.length === 0 || g.rng.int(2) === 0)) {
      const [name, spec] = g.rng.pick(params);
      const length = lengthFor(spec.limit!, true);
      return {
        family: 'overlong',
        variant: `:${name} ${length}`,
        scope: 'protected',
        expect: 'reject',
        params: { ...ex.params, [name]: 'x'.repeat(length) },
      };
    }
    const field = g.rng.pick(fields);
    const length = lengthFor(field.limit!, r.input === 'query');
    return {
      family: 'overlong',
      variant: `${field.path} ${length}`,
      scope: 'protected',
      expect: 'reject',
      message: setAt(ex.message!, field.path, 'x'.repeat(length)),
    };
  },

  'too-many-items': (g, r) => {
    const ex = g.example(r, 'protected');
    const lists = r.fields.filter(
      (x) => x.maxItems !== undefined && ex.message !== undefined && hasAt(ex.message, x.path),
    );
    if (lists.length === 0 || ex.message === undefined) return undefined;
    const list = g.rng.pick(lists);
    const limit = list.maxItems!;
    const sample = (ex.message[list.path] as unknown[])[0];
    const items = Array.from({ length: limit + 1 }, (_unused, i) =>
      typeof sample === 'object' && sample !== null
        ? { ...(sample as Record<string, unknown>), key: `${String((sample as { key?: unknown }).key)}-${i}` }
        : sample,
    );
    return {
      family: 'too-many-items',
      variant: `${list.path} x${limit + 1}`,
      scope: 'protected',
      expect: 'reject',
      message: { ...ex.message, [list.path]: items },
    };
  },

  'control-chars': (g, r) => {
    const ex = g.example(r, 'protected');
    const keyFields = r.fields.filter(
      (x) => x.limit === 'key' && ex.message !== undefined && hasAt(ex.message, x.path),
    );
    const keyParams = Object.entries(r.pathParams ?? {}).filter(([, p]) => p.limit === 'key');
    const insert = (s: string, c: string): string => {
      const at = g.rng.int(s.length + 1);
      return `${s.slice(0, at)}${c}${s.slice(at)}`;
    };
    if (g.rng.int(3) === 0 && r.lenient === true && r.api === 'mlflow') {
      // Odd but legal text in names, values and keys: MLflow stores it; aimed at the scratch run.
      const sx = g.example(r, 'scratch');
      const textFields = r.fields.filter(
        (x) =>
          x.kind === 'string' &&
          x.id === undefined &&
          x.path !== 'model_json' &&
          sx.message !== undefined &&
          hasAt(sx.message, x.path),
      );
      if (textFields.length === 0 || sx.message === undefined) return undefined;
      const field = g.rng.pick(textFields);
      const current = getAt(sx.message, field.path);
      const c = field.limit === 'key' ? g.rng.pick(ODD_UNICODE) : g.rng.pick([...CONTROL_CHARS, ...ODD_UNICODE]);
      // Appended to names, so that scratch names keep their prefix.
      const text = field.path === 'name' ? `${current}${c}` : insert(current, c);
      return {
        family: 'control-chars',
        variant: `${field.path} odd ${JSON.stringify(c)}`,
        scope: 'scratch',
        expect: 'any',
        message: setAt(sx.message, field.path, text),
      };
    }
    if (keyFields.length + keyParams.length === 0) return undefined;
    const bad = g.rng.int(4) === 0 ? g.rng.pick(BAD_KEYS) : insert('key', g.rng.pick(CONTROL_CHARS));
    if (keyParams.length > 0 && (keyFields.length === 0 || g.rng.int(2) === 0)) {
      const [name] = g.rng.pick(keyParams);
      return {
        family: 'control-chars',
        variant: `:${name}=${JSON.stringify(bad)}`,
        scope: 'protected',
        expect: 'reject',
        params: { ...ex.params, [name]: enc(bad) },
      };
    }
    const field = g.rng.pick(keyFields);
    return {
      family: 'control-chars',
      variant: `${field.path}=${JSON.stringify(bad)}`,
      scope: 'protected',
      expect: 'reject',
      message: setAt(ex.message!, field.path, bad),
    };
  },

  'bad-id': (g, r) => {
    const ex = g.example(r, 'protected');
    const fields = r.fields.filter((x) => x.id !== undefined && ex.message !== undefined && hasAt(ex.message, x.path));
    const params = Object.entries(r.pathParams ?? {}).filter(([, p]) => p.id !== undefined);
    if (fields.length + params.length === 0) return undefined;
    const s = g.seeded;
    // The deleted twin only where the route acts on the run itself (a deleted run may still be a parent).
    const badRun = (twin: boolean): string =>
      g.rng.pick([
        () => g.rng.hex(32),
        () => s.runId.toUpperCase(),
        () => `${s.runId}x`,
        () => s.runId.slice(0, -1),
        () => ` ${s.runId}`,
        () => (twin && r.needsActive === true ? s.deletedRunId : g.rng.hex(32)),
        () => g.rng.pick(RUN_ID_JUNK),
      ])();
    // An empty experiment_id is absent to MLflow, and runs/create then uses the Default experiment.
    const junk = r.api === 'mlflow' ? EXPERIMENT_ID_JUNK.filter((x) => x !== '') : EXPERIMENT_ID_JUNK;
    const badExperiment = (): string =>
      g.rng.pick([
        () => g.rng.pick(junk),
        () => (r.needsActive === true ? s.deletedExperimentId : '123456789'),
        () => s.runId,
      ])();
    const pickParam = params.length > 0 && (fields.length === 0 || g.rng.int(2) === 0);
    if (pickParam) {
      const [name, spec] = g.rng.pick(params);
      const bad = spec.id === 'run' ? badRun(true) : badExperiment();
      return {
        family: 'bad-id',
        variant: `:${name}=${JSON.stringify(bad).slice(0, 40)}`,
        scope: 'protected',
        expect: 'reject',
        params: { ...ex.params, [name]: enc(bad) },
      };
    }
    const field = g.rng.pick(fields);
    let value: unknown;
    let expect: Expect = 'reject';
    switch (field.id) {
      case 'run':
        value = badRun(field.path !== 'parentRunId');
        break;
      case 'experiment':
        value = badExperiment();
        break;
      case 'runs':
        value = [s.runId, badRun(false)];
        break;
      case 'experiments':
        // A search over experiments that do not exist finds nothing; a malformed id is refused.
        value = [badExperiment()];
        expect = 'any';
        break;
      default:
        return undefined;
    }
    return {
      family: 'bad-id',
      variant: `${field.path}=${JSON.stringify(value).slice(0, 40)}`,
      scope: 'protected',
      expect: refusedOrAny(expect, r),
      message: setAt(ex.message!, field.path, value),
    };
  },

  'bad-query': (g, r) => {
    const ex = g.example(r, 'protected');
    const fields = r.fields.filter((x) => x.role !== undefined);
    if (fields.length === 0 || ex.message === undefined) return undefined;
    const field = g.rng.pick(fields);
    const asQuery = r.input === 'query';
    let value: unknown;
    let expect: Expect = 'reject';
    switch (field.role) {
      case 'maxResults': {
        const text = g.rng.pick([
          '-1',
          '0',
          '1000000000',
          '50001',
          '2501',
          '10001',
          '1.5',
          'abc',
          '1e9',
          '-0',
          '',
          ' 5',
          '1e21',
        ]);
        const numeric = /^-?\d+(\.\d+)?(e\d+)?$/.test(text);
        value = !asQuery && numeric && g.rng.int(2) === 0 ? Number(text) : text;
        expect = maxResultsExpect(value, r, field.max ?? 0);
        break;
      }
      case 'pageToken':
        value = g.rng.pick(PAGE_TOKEN_JUNK);
        break;
      case 'filter': {
        const kind = g.rng.int(3);
        if (kind === 0)
          value = Array.from({ length: 1 + g.rng.int(8) }, () => g.rng.pick(FILTER_TOKENS)).join(g.rng.pick([' ', '']));
        else if (kind === 1) value = g.rng.pick(UNBALANCED_FILTERS);
        else value = g.rng.pick(INJECTION_FILTERS);
        expect = kind === 1 ? 'reject' : 'any';
        break;
      }
      case 'orderBy':
        value = [g.rng.pick(ORDER_BY_JUNK)];
        expect = 'any';
        break;
      case 'viewType':
        value = g.rng.pick(QUERY_NOT_ENUM);
        break;
      case 'step': {
        const both = g.rng.int(2) === 0;
        if (both) {
          const [start, end] = r.api === 'v1' ? ['startStep', 'endStep'] : ['start_step', 'end_step'];
          return {
            family: 'bad-query',
            variant: 'start after end',
            scope: 'protected',
            expect: 'reject',
            message: { ...ex.message, [start]: '10', [end]: '5' },
          };
        }
        value = g.rng.pick(r.api === 'v1' ? QUERY_NOT_INT.v1 : ['abc', '1.5', '99999999999999999999', '-', '']);
        // Fastify's query coercion may read '' as 0, a valid step.
        if (value === '' && r.api === 'v1') expect = 'any';
        break;
      }
      default:
        return undefined;
    }
    return {
      family: 'bad-query',
      variant: `${field.path}=${JSON.stringify(value).slice(0, 40)}`,
      scope: 'protected',
      expect,
      message: setAt(ex.message, field.path, value),
    };
  },

  'junk-query': (g, r) => {
    if (r.writes && !(r.api === 'v1' && r.closedQuery === true)) return undefined;
    // Empty pairs (`&&`, `=`) parse to nothing: a closed v1 query also gets one real unknown key.
    const closed = r.api === 'v1' && r.closedQuery === true;
    const junk = [
      ...(closed ? ['zzz=1'] : []),
      ...Array.from({ length: 1 + g.rng.int(4) }, () =>
        g.rng.pick([
          'a=1&a=2',
          '%zz=1',
          '=',
          '&&',
          'x[y]=1',
          '__proto__=1',
          '__proto__[x]=1',
          'constructor=1',
          `${'q'.repeat(3000)}=1`,
          'x=%00',
          'x=%ff%fe',
          'x[]=1&x[]=2',
          ';',
          `x=${enc('é'.repeat(50))}`,
          'x=%E9%80',
          '%C0%AE=1',
        ]),
      ),
    ].join('&');
    let expect: Expect = 'any';
    if (closed) expect = 'reject';
    else if (r.api === 'mlflow' && r.input === 'query') expect = 'accept';
    return { family: 'junk-query', variant: junk.slice(0, 60), scope: 'protected', expect, extraQuery: junk };
  },

  'wrong-method': (g, r) => {
    const ex = g.example(r, 'protected');
    const root = g.rng.pick(MLFLOW_ROOTS);
    const pathname = `${apiPrefix(r.api, root)}${fillTemplate(r.template, ex.params)}`;
    const candidates = METHODS.filter((m) => !matchesSomeRoute(m, pathname));
    if (candidates.length === 0) return undefined;
    const method = g.rng.pick(candidates);
    return { family: 'wrong-method', variant: method, scope: 'protected', expect: 'reject', method, root };
  },

  'escape-path': (g, r) => {
    const ex = g.example(r, 'protected');
    if (r.pathParams?.['*']?.artifactPath === true) {
      const escape = g.rng.pick(ESCAPES_IN_URL);
      const s = g.seeded;
      // The proxied service takes store keys: escape from the run's folder or from the root.
      const fromRun = r.api === 'proxied' && !ROOT_ONLY_ESCAPES.has(escape) && g.rng.int(2) === 0;
      const wildcard = fromRun ? `${s.experimentId}/${s.runId}/artifacts/${escape}` : escape;
      return {
        family: 'escape-path',
        variant: wildcard.slice(0, 60),
        scope: 'protected',
        expect: 'reject',
        params: { ...ex.params, '*': wildcard },
        body: 'pwned',
      };
    }
    const field = r.fields.find((x) => x.artifactPath === true);
    if (field === undefined || ex.message === undefined) return undefined;
    const escape = g.rng.pick(ESCAPES_DECODED);
    const rootOnly = escape.startsWith('/') || /^[A-Za-z]:/.test(escape) || escape.startsWith('.trestle-meta');
    const prefix =
      r.api === 'proxied' && !rootOnly && g.rng.int(2) === 0
        ? `${g.seeded.experimentId}/${g.seeded.runId}/artifacts/`
        : '';
    return {
      family: 'escape-path',
      variant: `${field.path}=${JSON.stringify(prefix + escape)}`,
      scope: 'protected',
      expect: 'reject',
      message: setAt(ex.message, field.path, prefix + escape),
    };
  },

  'nan-literal': (g, r) => {
    if (r.input !== 'json') return undefined;
    const literal = g.rng.pick(['NaN', 'Infinity', '-Infinity']);
    const ex = g.example(r, 'protected');
    const fields = r.fields.filter((x) => ex.message !== undefined && hasAt(ex.message, x.path));
    if (fields.length === 0 || ex.message === undefined) return undefined;
    const field = g.rng.pick(fields);
    // MLflow's parser reads a bare NaN as the string "NaN": a legal string or double.
    const legal = r.api === 'mlflow' && (field.kind === 'string' || field.kind === 'double');
    if (!legal)
      return {
        family: 'nan-literal',
        variant: `${field.path}=${literal}`,
        scope: 'protected',
        expect: 'reject',
        message: setAt(ex.message, field.path, new RawJson(literal)),
      };
    if (r.writes && (r.lenient !== true || field.scratchName === true)) return undefined;
    const scope: Scope = r.writes ? 'scratch' : 'protected';
    const sx = g.example(r, scope);
    return {
      family: 'nan-literal',
      variant: `${field.path}=${literal}`,
      scope,
      expect: 'any',
      message: setAt(sx.message!, field.path, new RawJson(literal)),
    };
  },

  'huge-number': (g, r) => {
    if (r.input !== 'json') return undefined;
    const ex = g.example(r, 'protected');
    const numeric = r.fields.filter(
      (x) => (x.kind === 'int' || x.kind === 'double') && ex.message !== undefined && hasAt(ex.message, x.path),
    );
    if (numeric.length === 0 || ex.message === undefined) return undefined;
    const field = g.rng.pick(numeric);
    const literal = g.rng.pick([
      '1e400',
      '-1e400',
      '123456789012345678901234567890',
      '9007199254740993',
      '1e20',
      '-9007199254740993',
    ]);
    if (field.kind === 'int') {
      return {
        family: 'huge-number',
        variant: `${field.path}=${literal}`,
        scope: 'protected',
        expect: 'reject',
        message: setAt(ex.message, field.path, new RawJson(literal)),
      };
    }
    // Huge doubles are legal metric values (±Infinity, or just large).
    if (r.writes && r.lenient !== true) return undefined;
    const scope: Scope = r.writes ? 'scratch' : 'protected';
    return {
      family: 'huge-number',
      variant: `${field.path}=${literal}`,
      scope,
      expect: 'any',
      message: setAt(g.example(r, scope).message!, field.path, new RawJson(literal)),
    };
  },

  'deep-nesting': (g, r) => {
    if (r.input !== 'json') return undefined;
    const ex = g.example(r, 'protected');
    const depth = 10_000;
    const nested = new RawJson(g.rng.int(2) === 0 ? deepArray(depth) : deepObject(depth));
    const fields = r.fields.filter((x) => ex.message !== undefined && hasAt(ex.message, x.path));
    if (fields.length === 0 || g.rng.int(3) === 0) {
      return {
        family: 'deep-nesting',
        variant: 'whole body 10k nested arrays',
        scope: 'protected',
        expect: 'reject',
        body: deepArray(depth),
      };
    }
    const field = g.rng.pick(fields);
    return {
      family: 'deep-nesting',
      variant: `${field.path} 10k nested`,
      scope: 'protected',
      expect: 'reject',
      message: setAt(ex.message!, field.path, nested),
    };
  },

  'odd-artifact-name': (g, r) => {
    if (r.method !== 'PUT' || r.pathParams?.['*'] === undefined) return undefined;
    const s = g.seeded;
    const name = `odd/${g.uid()}-${g.rng.pick(ODD_ARTIFACT_NAMES)}`;
    const encoded = name.split('/').map(enc).join('/');
    const wildcard = r.api === 'proxied' ? `${s.scratchExperimentId}/${s.scratchRunId}/artifacts/${encoded}` : encoded;
    return {
      family: 'odd-artifact-name',
      variant: name,
      scope: 'scratch',
      expect: 'accept',
      params: { ...g.example(r, 'scratch').params, '*': wildcard },
      body: 'hello',
    };
  },
};

/** How many more random draws a family gets than the others. */
const FAMILY_WEIGHTS: Readonly<Record<string, number>> = { 'escape-path': 5, 'bad-id': 2 };

function fillTemplate(template: string, params: Record<string, string>): string {
  return template.replace(/:([A-Za-z]+)|\*/g, (match, name: string | undefined) => params[name ?? '*'] ?? match);
}

/**
 * Makes the cases of a run: every applicable family on every route at least once, then random
 * picks until `count`. The same `seed` and `seeded` ids give the same cases.
 */
export class CaseGenerator {
  readonly rng: Rng;
  readonly seeded: Seeded;
  #uid = 0;
  #next = 0;

  constructor(seed: number, seeded: Seeded) {
    this.rng = new Rng(seed);
    this.seeded = seeded;
  }

  /** A fresh suffix for names and keys. */
  uid(): string {
    return (++this.#uid).toString(36);
  }

  example(r: RouteSpec, scope: Scope): Example {
    return r.example(this.seeded, scope, () => this.uid());
  }

  /** `count` cases (a few more when one pass over every route and family needs more). */
  generate(count: number): MalformedCase[] {
    const out: MalformedCase[] = [];
    const pairs: [RouteSpec, string][] = ROUTES.flatMap((r) =>
      Object.keys(FAMILIES).map((name): [RouteSpec, string] => [r, name]),
    );
    for (const [route, name] of pairs) {
      // A family may decline a variant it drew; a few draws find one that applies.
      for (let attempt = 0; attempt < 6; attempt++) {
        const c = this.#make(route, name);
        if (c !== undefined) {
          out.push(c);
          break;
        }
      }
    }
    // Escapes are few routes but many variants: give them more of the random draws.
    const applicable = pairs
      .filter(([r, name]) => out.some((c) => c.route === r.name && c.family === name))
      .flatMap((pair) => Array.from({ length: FAMILY_WEIGHTS[pair[1]] ?? 1 }, () => pair));
    while (out.length < count) {
      const [route, name] = this.rng.pick(applicable);
      const c = this.#make(route, name);
      if (c !== undefined) out.push(c);
    }
    return out;
  }

  #make(r: RouteSpec, family: string): MalformedCase | undefined {
    const draft = FAMILIES[family]!(this, r);
    if (draft === undefined) return undefined;
    if (r.writes && draft.scope === 'protected' && draft.expect !== 'reject') {
      throw new Error(`generator bug: ${family} on ${r.name} may write to protected data (${draft.variant})`);
    }
    return this.#build(r, draft);
  }

  #build(r: RouteSpec, d: Draft): MalformedCase {
    const base = this.example(r, d.scope);
    const root = d.root ?? this.rng.pick(MLFLOW_ROOTS);
    const params = d.params ?? base.params;
    const message = d.message ?? base.message;
    let path = `${apiPrefix(r.api, root)}${fillTemplate(r.template, params)}`;
    const query: string[] = [];
    if (r.input === 'query' && message !== undefined) query.push(queryText(message));
    if (d.extraQuery !== undefined) query.push(d.extraQuery);
    const q = query.filter((x) => x !== '').join('&');
    if (q !== '') path += `?${q}`;

    const method = d.method ?? r.method;
    const headers: Record<string, string> = {};
    let body: Buffer | undefined;
    if (d.body !== undefined) {
      body = typeof d.body === 'string' ? Buffer.from(d.body, 'utf8') : d.body;
    } else if (r.input === 'json' && message !== undefined) {
      body = Buffer.from(toJsonText(message), 'utf8');
    } else if (r.input === 'stream' && r.method === 'PUT') {
      body = Buffer.from('bytes');
    }
    let contentType = d.contentType;
    if (contentType === undefined && body !== undefined && body.length > 0) {
      contentType = r.input === 'stream' ? 'application/octet-stream' : 'application/json';
    }
    if (contentType !== undefined && contentType !== null) headers['content-type'] = contentType;
    // Bodies only on methods that carry one; a GET/HEAD with a wrong method keeps none.
    if (method === 'GET' || method === 'HEAD') body = undefined;
    if (body !== undefined && body.length === 0 && d.body === undefined) body = undefined;
    return {
      id: this.#next++,
      route: r.name,
      family: d.family,
      variant: d.variant,
      scope: d.scope,
      method,
      path,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(d.chunked === true ? { chunked: true } : {}),
      expect: d.expect,
      notImplemented: r.notImplemented === true,
    };
  }

  /**
   * Bodies just over the limits: 8 MiB for the v1 JSON routes, 1,000,000 bytes for MLflow's
   * `runs/log-batch` (valid otherwise, so only the size can refuse it), 16 MiB for the other
   * MLflow RPCs; with Content-Length and chunked.
   */
  oversized(): MalformedCase[] {
    const s = this.seeded;
    const MiB = 1024 * 1024;
    const make = (name: string, method: string, path: string, body: string, chunked = false): MalformedCase => ({
      id: this.#next++,
      route: name,
      family: 'oversized',
      variant: `${(Buffer.byteLength(body) / MiB).toFixed(2)} MiB${chunked ? ' chunked' : ''}`,
      scope: 'protected',
      method,
      path,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(body, 'utf8'),
      ...(chunked ? { chunked: true } : {}),
      expect: 'reject',
      notImplemented: false,
    });
    const padded = (size: number, build: (pad: string) => string): string => {
      const shell = build('');
      return build('x'.repeat(size - Buffer.byteLength(shell)));
    };
    const v1Limit = 8 * MiB;
    const mlflowBatch = (root: string, chunked: boolean): MalformedCase => {
      // 100 tags of 8,000 characters and 40 params of 6,000: every item within its own limit.
      const tags = Array.from({ length: 100 }, (_unused, i) => ({ key: `big-tag-${i}`, value: 'v'.repeat(8000) }));
      const params = Array.from({ length: 40 }, (_unused, i) => ({ key: `big-param-${i}`, value: 'p'.repeat(6000) }));
      const body = JSON.stringify({ run_id: s.runId, tags, params });
      return make('mlflow POST /runs/log-batch', 'POST', `${root}/mlflow/runs/log-batch`, body, chunked);
    };
    return [
      make(
        'v1 POST /runs/:runId/batch',
        'POST',
        `/api/v1/runs/${s.runId}/batch`,
        padded(v1Limit + 1, (pad) => JSON.stringify({ params: [{ key: 'big', value: pad }] })),
      ),
      make(
        'v1 POST /runs/:runId/batch',
        'POST',
        `/api/v1/runs/${s.runId}/batch`,
        padded(v1Limit + 64 * 1024, (pad) => JSON.stringify({ tags: [{ key: 'big', value: pad }] })),
        true,
      ),
      make(
        'v1 PUT /runs/:runId/tags/:key',
        'PUT',
        `/api/v1/runs/${s.runId}/tags/big`,
        padded(v1Limit + 1, (pad) => JSON.stringify({ value: pad })),
      ),
      make(
        'v1 POST /experiments',
        'POST',
        '/api/v1/experiments',
        padded(v1Limit + 1024, (pad) => JSON.stringify({ name: `malformed-new-${pad}` })),
      ),
      make(
        'v1 PUT /experiments/:experimentId/tags/:key',
        'PUT',
        `/api/v1/experiments/${s.experimentId}/tags/big`,
        padded(9 * MiB, (pad) => JSON.stringify({ value: pad })),
      ),
      mlflowBatch('/api/2.0', false),
      mlflowBatch('/ajax-api/2.0', true),
      make(
        'mlflow POST /runs/log-batch',
        'POST',
        '/api/2.0/mlflow/runs/log-batch',
        padded(1_000_001, (pad) => JSON.stringify({ run_id: s.runId, tags: [{ key: 'k', value: pad }] })),
      ),
      make(
        'mlflow POST /runs/set-tag',
        'POST',
        '/api/2.0/mlflow/runs/set-tag',
        padded(16 * MiB + 1, (pad) => JSON.stringify({ run_id: s.runId, key: 'big', value: pad })),
      ),
    ];
  }
}

/**
 * Requests an HTTP client will not send: raw control characters and spaces in the request
 * line, unknown methods, bad versions, contradictory framing. Node's HTTP parser refuses them
 * before any route runs.
 */
export function rawCases(s: Seeded): RawCase[] {
  const line = (text: string): Buffer => Buffer.from(text, 'latin1');
  const host = 'Host: 127.0.0.1\r\nConnection: close\r\n';
  return [
    {
      name: 'raw NUL in artifact path',
      bytes: line(`GET /api/v1/runs/${s.runId}/artifacts/a\u0000b HTTP/1.1\r\n${host}\r\n`),
    },
    { name: 'raw space in path', bytes: line(`GET /api/v1/runs/a b HTTP/1.1\r\n${host}\r\n`) },
    { name: 'unknown method', bytes: line(`FOO /api/v1/experiments HTTP/1.1\r\n${host}\r\n`) },
    { name: 'bad HTTP version', bytes: line(`GET /health HTTP/9.9\r\n${host}\r\n`) },
    {
      name: 'negative content-length',
      bytes: line(
        `POST /api/v1/experiments HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}`,
      ),
    },
    {
      name: 'content-length and chunked',
      bytes: line(
        `POST /api/2.0/mlflow/runs/set-tag HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      ),
    },
    { name: 'header without colon', bytes: line(`GET /health HTTP/1.1\r\n${host}Bogus header line\r\n\r\n`) },
    { name: 'huge header', bytes: line(`GET /health HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`) },
    {
      name: 'raw non-ASCII bytes in query',
      bytes: line(`GET /api/2.0/mlflow/experiments/search?x=\u00e9\u00ff HTTP/1.1\r\n${host}\r\n`),
    },
    {
      name: 'raw backslash path',
      bytes: line(`DELETE /api/2.0/mlflow-artifacts/artifacts/${s.experimentId}\\..\\..\\x HTTP/1.1\r\n${host}\r\n`),
    },
  ];
}
