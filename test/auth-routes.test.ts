/**
 * Access control over every route the server registers. The routes are not listed here: they
 * are read from a real `buildServer({ auth: { enabled: true } })` (REST v1, the MLflow dialect
 * under both roots, MLflow's proxied artifact service, the token routes, the docs), as the
 * server records them while they are registered, so a route added later is covered without
 * touching this file.
 *
 * For every route that is not public, a request with a concrete path (the seeded run,
 * experiment, artifact, token) and a plausible body is sent:
 * - without credentials, with a wrong Bearer token, with Basic and a wrong password, with a
 *   revoked token → 401 with a challenge, in the dialect's error shape;
 * - with a token one role too low (reader on writes, editor and reader on token management) → 403;
 * and afterwards nothing has changed: experiments, runs (params, tags, latest metrics, dataset
 * inputs), the seeded metric history, tokens and every file under the artifact root. Then each
 * route is called with the lowest role it needs, and must not be refused; those writes do change
 * the stores, which shows that the refused requests would have written had they been let in.
 *
 * Which role a route needs is decided below independently of the server's table (the method,
 * plus a short list of POSTs that only read), and the two must agree.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig, runArtifactKey, traceArtifactKey, type Role, type TrestleConfig } from '@trestle/core';
import { buildServer, routeAccessOf, WWW_AUTHENTICATE, type Access, type RouteAccess } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { buildReferenceProfile, WindowAccumulator, type ReferenceProfile } from '@trestle/monitoring';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MLFLOW_ROOT = /^\/(?:api|ajax-api)\/[23]\.0\/(mlflow|mlflow-artifacts)(\/.*)$/;

/** POST routes that only read (relative to `/api/v1` or to an MLflow root's `/mlflow`). */
const READ_ONLY_POSTS = new Set([
  '/api/v1/runs/search',
  '/api/v1/runs/compare',
  'mlflow:/runs/search',
  'mlflow:/experiments/search',
  'mlflow:/artifacts/presigned-download-url',
  'mlflow:/registered-models/get-latest-versions',
  'mlflow:/logged-models/search',
  'mlflow:/traces/search',
  // MLflow's web UI reads through GraphQL; its schema has queries and read-only "mutations".
  '/graphql',
]);

/** What this test expects a route to need, decided without the server's table. */
function expectedAccess(method: string, url: string): Access {
  if (['/health', '/ready', '/api/v1/openapi.json'].includes(url) || url === '/docs' || url.startsWith('/docs/'))
    return 'public';
  if (url === '/api/v1/tokens' || url.startsWith('/api/v1/tokens/')) return 'admin';
  // The web UI's files: the app asks for a token before it reads any data.
  const uiPage = ['/', '/compare', '/models'].includes(url) || /^\/(experiments|runs|models|assets)\/\*$/.test(url);
  if (uiPage && (method === 'GET' || method === 'HEAD')) return 'public';
  const m = MLFLOW_ROOT.exec(url);
  const key = m === null ? url : `${m[1]!}:${m[2]!}`;
  if (method === 'GET' || method === 'HEAD') return 'reader';
  return method === 'POST' && READ_ONLY_POSTS.has(key) ? 'reader' : 'editor';
}

interface World {
  experimentId: string;
  experimentName: string;
  deletedExperimentId: string;
  runId: string;
  deletedRunId: string;
  artifactKey: string;
  victimTokenId: string;
  loggedModelId: string;
  /** A trace with a tag `team` and its traces.json (MLflow trace routes). */
  traceId: string;
  /** The reference profile of model `experimentName` version 1 (monitoring routes). */
  profile: ReferenceProfile;
}

const now = 1_750_000_000_000;

/** A request that reaches `method url` with the seeded ids and, for writes, a body that would succeed. */
function requestFor(route: RouteAccess, w: World): InjectOptions {
  const { method } = route;
  const m = MLFLOW_ROOT.exec(route.url);
  const restore = route.url.endsWith('/restore');
  const path = route.url
    .replace(':experimentId', restore ? w.deletedExperimentId : w.experimentId)
    .replace(':runId', restore ? w.deletedRunId : w.runId)
    .replace(':key', route.url.includes('/metrics/') ? 'loss' : 'team')
    .replace(':name', encodeURIComponent(w.experimentName))
    .replace(':tokenId', w.victimTokenId)
    // The seeded registered model has the experiment's name, version 1 and 2, alias champion.
    .replace(':version', '1')
    .replace(':alias', 'champion')
    .replace(':digest', 'sha256:1')
    .replace(':model_id', w.loggedModelId)
    .replace(':tag_key', 'team')
    .replace(':traceId', w.traceId)
    .replace(':version', '1')
    .replace(/\*$/, wildcardFor(route.url, w));
  const base = { method, url: path };
  if (route.url === '/get-artifact') return { ...base, query: { run_id: w.runId, path: 'model.txt' } };
  if (method === 'PUT' && route.url.endsWith('*')) {
    return { ...base, payload: Buffer.from('replaced bytes'), headers: { 'content-type': 'application/octet-stream' } };
  }
  if (m !== null) {
    const rpc = m[2]!;
    const q = mlflowQueries(w)[rpc];
    if (method === 'GET' || method === 'HEAD') return { ...base, ...(q === undefined ? {} : { query: q }) };
    return { ...base, payload: mlflowBodies(w)[rpc] ?? {} };
  }
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') return base;
  return { ...base, payload: v1Bodies(w)[route.url.replace(/^\/api\/v1/, '')] ?? {} };
}

function wildcardFor(url: string, w: World): string {
  if (url.startsWith('/docs/')) return 'swagger-ui.css';
  if (url.includes('/mlflow-artifacts/mpu/')) return `${w.artifactKey}/create`;
  if (url.includes('/mlflow-artifacts/')) return w.artifactKey;
  if (url === '/assets/*') return 'app.js';
  return 'model.txt';
}

function v1Bodies(w: World): Record<string, object> {
  return {
    '/experiments': { name: `created-${randomBytes(3).toString('hex')}` },
    '/experiments/:experimentId': { name: `renamed-${randomBytes(3).toString('hex')}` },
    '/experiments/:experimentId/tags/:key': { value: 'changed' },
    '/runs': { experimentId: w.experimentId, runName: 'intruder' },
    '/runs/:runId': { status: 'FINISHED', endTime: now + 10 },
    '/runs/:runId/batch': {
      metrics: [{ key: 'loss', value: 0.01, timestamp: now + 5, step: 99 }],
      params: [{ key: 'added', value: '1' }],
      tags: [{ key: 'team', value: 'changed' }],
    },
    '/runs/:runId/tags/:key': { value: 'changed' },
    '/runs/:runId/inputs': {
      inputs: [{ dataset: { name: 'd2', digest: 'sha256:2', sourceType: 'local', source: 'd2.csv' }, tags: [] }],
    },
    '/runs/search': { experimentIds: [w.experimentId] },
    '/runs/compare': { runIds: [w.runId, w.deletedRunId] },
    '/tokens': { name: 'minted', role: 'admin' },
    '/registered-models': { name: `model-${randomBytes(3).toString('hex')}` },
    '/registered-models/:name': { description: 'changed' },
    '/registered-models/:name/tags/:key': { value: 'changed' },
    '/registered-models/:name/versions': { source: 'file:///m3' },
    '/registered-models/:name/versions/:version': { description: 'changed' },
    '/registered-models/:name/versions/:version/tags/:key': { value: 'changed' },
    '/registered-models/:name/aliases/:alias': { version: 1 },
    '/registered-models/:name/aliases/:alias/rollback': { reason: 'test' },
    '/inference-logs': {
      model: { name: w.experimentName, version: '1' },
      records: [{ requestId: `r-${randomBytes(3).toString('hex')}`, time: now, inputs: { x: 1 }, outputs: { y: 1 } }],
    },
    '/inference-windows': {
      model: { name: w.experimentName, version: '1' },
      start: now,
      end: now + 60_000,
      summary: new WindowAccumulator(w.profile).snapshot(),
    },
    '/feedback': { records: [{ requestId: 'r-seeded', label: '1' }] },
    '/monitoring/references/:name/:version': { profile: w.profile },
  };
}

function mlflowQueries(w: World): Record<string, Record<string, string>> {
  return {
    '/experiments/get': { experiment_id: w.experimentId },
    '/experiments/get-by-name': { experiment_name: w.experimentName },
    '/experiments/search': { max_results: '10' },
    '/runs/get': { run_id: w.runId },
    '/metrics/get-history': { run_id: w.runId, metric_key: 'loss' },
    '/metrics/get-history-bulk-interval': { run_ids: w.runId, metric_key: 'loss' },
    '/artifacts/list': { run_id: w.runId },
    '/artifacts': { path: runArtifactKey({ experimentId: w.experimentId, runId: w.runId }) },
    '/registered-models/get': { name: w.experimentName },
    '/registered-models/get-latest-versions': { name: w.experimentName },
    '/registered-models/alias': { name: w.experimentName, alias: 'champion' },
    '/model-versions/get': { name: w.experimentName, version: '1' },
    '/model-versions/get-download-uri': { name: w.experimentName, version: '1' },
    '/traces': { experiment_ids: w.experimentId },
    '/metrics/get-history-bulk': { run_id: w.runId, metric_key: 'loss' },
    '/get-trace-artifact': { request_id: w.traceId },
  };
}

function mlflowBodies(w: World): Record<string, object> {
  const run_id = w.runId;
  const experiment_id = w.experimentId;
  return {
    '/experiments/create': { name: `mlflow-${randomBytes(3).toString('hex')}` },
    '/experiments/search': { max_results: 10 },
    '/experiments/update': { experiment_id, new_name: `renamed-${randomBytes(3).toString('hex')}` },
    '/experiments/delete': { experiment_id },
    '/experiments/restore': { experiment_id: w.deletedExperimentId },
    '/experiments/set-experiment-tag': { experiment_id, key: 'team', value: 'changed' },
    '/experiments/delete-experiment-tag': { experiment_id, key: 'team' },
    '/runs/create': { experiment_id, run_name: 'intruder', start_time: now },
    '/runs/update': { run_id, status: 'KILLED', end_time: now + 10 },
    '/runs/delete': { run_id },
    '/runs/restore': { run_id: w.deletedRunId },
    '/runs/search': { experiment_ids: [experiment_id] },
    '/runs/log-metric': { run_id, key: 'loss', value: 0.001, timestamp: now + 7, step: 100 },
    '/runs/log-parameter': { run_id, key: 'added-by-mlflow', value: 'x' },
    '/runs/set-tag': { run_id, key: 'team', value: 'changed' },
    '/runs/delete-tag': { run_id, key: 'team' },
    '/runs/log-batch': {
      run_id,
      metrics: [{ key: 'loss', value: 0.5, timestamp: now + 8, step: 101 }],
      params: [{ key: 'b', value: '2' }],
    },
    '/runs/log-inputs': {
      run_id,
      datasets: [{ dataset: { name: 'd3', digest: 'sha256:3', source_type: 'local', source: 'd3.csv' }, tags: [] }],
    },
    '/runs/log-model': {
      run_id,
      model_json: JSON.stringify({
        artifact_path: 'model',
        flavors: {},
        utc_time_created: '2025-01-01 00:00:00',
        run_id,
      }),
    },
    '/artifacts/presigned-upload-url': { run_id, path: 'new.txt' },
    '/artifacts/presigned-download-url': { run_id, path: 'model.txt' },
    '/runs/outputs': { run_id, models: [{ model_id: w.loggedModelId, step: 0 }] },
    '/registered-models/create': { name: `mlflow-model-${randomBytes(3).toString('hex')}` },
    // Sent under both roots: renaming to its own name succeeds both times.
    '/registered-models/rename': { name: 'renamable', new_name: 'renamable' },
    '/registered-models/update': { name: w.experimentName, description: 'changed' },
    '/registered-models/get-latest-versions': { name: w.experimentName },
    '/registered-models/set-tag': { name: w.experimentName, key: 'team', value: 'changed' },
    '/registered-models/delete-tag': { name: w.experimentName, key: 'team' },
    '/registered-models/delete': { name: `missing-${randomBytes(3).toString('hex')}` },
    '/registered-models/alias': { name: w.experimentName, alias: 'champion', version: '1' },
    '/model-versions/create': { name: w.experimentName, source: 'file:///m4' },
    '/model-versions/update': { name: w.experimentName, version: '1', description: 'changed' },
    '/model-versions/transition-stage': {
      name: w.experimentName,
      version: '1',
      stage: 'Staging',
      archive_existing_versions: false,
    },
    '/model-versions/set-tag': { name: w.experimentName, version: '1', key: 'team', value: 'changed' },
    '/model-versions/delete-tag': { name: w.experimentName, version: '1', key: 'team' },
    '/model-versions/delete': { name: w.experimentName, version: '99' },
    '/logged-models': { experiment_id },
    '/logged-models/search': { experiment_ids: [experiment_id] },
    '/logged-models/:model_id': { status: 'LOGGED_MODEL_READY' },
    '/logged-models/:model_id/tags': { tags: [{ key: 'team', value: 'changed' }] },
    '/logged-models/:model_id/params': { params: [{ key: 'alpha', value: '0.1' }] },
    // One body for MLflow 2's StartTrace (experiment_id) and MLflow 3's StartTraceV3 (trace).
    '/traces': {
      experiment_id,
      timestamp_ms: now,
      trace: {
        trace_info: {
          trace_id: `tr-${randomBytes(16).toString('hex')}`,
          trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id } },
          request_time: '2025-06-01T10:00:00Z',
          state: 'OK',
        },
      },
    },
    '/traces/:traceId': { timestamp_ms: now + 50, status: 'OK' },
    '/traces/:traceId/tags': { key: 'team', value: 'changed' },
    '/traces/search': { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id } }] },
    '/traces/delete-traces': { experiment_id, request_ids: [w.traceId] },
    '/traces/link-to-run': { trace_ids: [w.traceId], run_id },
  };
}

async function files(root: string, dir = root): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) Object.assign(out, await files(root, full));
    else
      out[relative(root, full)] = createHash('sha256')
        .update(await readFile(full))
        .digest('hex');
  }
  return out;
}

async function snapshot(stores: Stores, config: TrestleConfig, w: World): Promise<unknown> {
  const { metadata } = stores;
  const experiments = (await metadata.searchExperiments({ viewType: 'ALL', maxResults: 1000 })).items;
  const runs = (
    await metadata.searchRuns({
      experimentIds: experiments.map((e) => e.experimentId),
      viewType: 'ALL',
      maxResults: 1000,
    })
  ).items;
  const history = (await metadata.getMetricHistory(w.runId, 'loss')).items;
  // When a token was last used is bookkeeping a refused request may update (it was presented); the rest may not change.
  const tokens = (await metadata.tokens.listTokens()).map(({ lastUsedTime: _lastUsed, ...t }) => t);
  const registry = await metadata.registry.listEvents({ limit: 10_000 });
  return { experiments, runs, history, tokens, registry, files: await files(config.artifacts) };
}

// `/v1/traces` is the OTLP endpoint recent MLflow clients post spans to: the dialect answers it.
const isMlflowPath = (url: string): boolean =>
  MLFLOW_ROOT.test(url) || ['/v1/traces', '/get-artifact', '/graphql'].includes(url);

describe('access control on every route', () => {
  let home: string;
  let config: TrestleConfig;
  let stores: Stores;
  let app: FastifyInstance;
  let routes: readonly RouteAccess[];
  let world: World;
  const secrets = {} as Record<Role | 'revoked', string>;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-auth-routes-'));
    config = loadConfig({ home }, {});
    stores = await openStores(config);
    // A built UI of its own, so that its routes answer whether or not @trestle/ui was built.
    const ui = join(home, 'ui');
    await mkdir(join(ui, 'assets'), { recursive: true });
    await writeFile(join(ui, 'index.html'), '<!doctype html><div id="root"></div>');
    await writeFile(join(ui, 'assets', 'app.js'), '');
    app = await buildServer({ stores, config, auth: { enabled: true }, ui: { dir: ui } });
    await app.ready();
    routes = routeAccessOf(app);

    const { metadata, artifacts } = stores;
    for (const role of ['reader', 'editor', 'admin'] as const)
      secrets[role] = (await metadata.tokens.createToken({ name: role, role })).token;
    const revoked = await metadata.tokens.createToken({ name: 'revoked', role: 'admin' });
    await metadata.tokens.revokeToken(revoked.info.tokenId);
    secrets.revoked = revoked.token;
    const victim = await metadata.tokens.createToken({ name: 'victim', role: 'reader' });

    const exp = await metadata.createExperiment({ name: 'guarded', tags: [{ key: 'team', value: 'risk' }] });
    const run = await metadata.createRun({ experimentId: exp.experimentId, runName: 'seeded', startTime: now });
    await metadata.logBatch(run.info.runId, {
      metrics: Array.from({ length: 5 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: now + i, step: i })),
      params: [{ key: 'l2', value: '1' }],
      tags: [{ key: 'team', value: 'risk' }],
    });
    await metadata.logInputs(run.info.runId, [
      { dataset: { name: 'd1', digest: 'sha256:1', sourceType: 'local', source: 'd1.csv' }, tags: [] },
    ]);
    await artifacts.put(runArtifactKey(run.info, 'model.txt'), 'original bytes');
    const deletedRun = await metadata.createRun({ experimentId: exp.experimentId, runName: 'deleted' });
    await metadata.deleteRun(deletedRun.info.runId);
    await metadata.registry.createModelVersion({ name: exp.name, source: 'file:///m1', createModel: true });
    await metadata.registry.createModelVersion({ name: exp.name, source: 'file:///m2' });
    await metadata.registry.setAlias(exp.name, 'champion', 1);
    await metadata.registry.setAlias(exp.name, 'champion', 2);
    await metadata.registry.createRegisteredModel({ name: 'renamable' });
    const logged = await metadata.loggedModels.createLoggedModel({ experimentId: exp.experimentId, name: 'model' });
    const trace = await metadata.traces.startTrace({
      experimentId: exp.experimentId,
      requestTime: now,
      tags: { team: 'risk' },
    });
    await artifacts.put(traceArtifactKey(exp.experimentId, trace.traceId, 'traces.json'), '{"spans": []}');
    const deletedExp = await metadata.createExperiment({ name: 'gone' });
    await metadata.deleteExperiment(deletedExp.experimentId);
    // Monitoring: model 'guarded' version 1 has a reference profile, a logged prediction and a computed window.
    const profile = buildReferenceProfile({ x: Float64Array.from([1, 2, 3, 4]) });
    await metadata.monitoring.setReference(exp.name, '1', JSON.stringify(profile));
    await metadata.monitoring.logInferences({ name: exp.name, version: '1' }, [
      { requestId: 'r-seeded', time: now, inputs: { x: 2 }, outputs: { y: 1 } },
    ]);
    await metadata.monitoring.recordWindow(
      { name: exp.name, version: '1' },
      now,
      now + 60_000,
      JSON.stringify(new WindowAccumulator(profile).snapshot()),
    );
    await metadata.monitoring.putResult({
      name: exp.name,
      version: '1',
      alias: null,
      start: now,
      end: now + 60_000,
      computedTime: now,
      rows: 0,
      labelled: 0,
      driftShare: null,
      datasetDrift: false,
      drift: null,
      quality: null,
      performance: null,
    });
    world = {
      profile,
      experimentId: exp.experimentId,
      experimentName: exp.name,
      deletedExperimentId: deletedExp.experimentId,
      runId: run.info.runId,
      deletedRunId: deletedRun.info.runId,
      artifactKey: runArtifactKey(run.info, 'model.txt'),
      victimTokenId: victim.info.tokenId,
      loggedModelId: logged.modelId,
      traceId: trace.traceId,
    };
  });

  afterAll(async () => {
    await app?.close();
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  const send = (route: RouteAccess, authorization?: string): Promise<LightMyRequestResponse> => {
    const req = requestFor(route, world);
    return app.inject({
      ...req,
      headers: {
        ...(req.headers as Record<string, string> | undefined),
        ...(authorization === undefined ? {} : { authorization }),
      },
    });
  };

  it('collects every route: REST v1, the MLflow dialect under both roots, the proxied artifacts, the tokens, the docs', () => {
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(
      expect.arrayContaining([
        'POST /api/v1/experiments',
        'PUT /api/v1/runs/:runId/artifacts/*',
        'POST /api/2.0/mlflow/runs/log-batch',
        'POST /ajax-api/2.0/mlflow/runs/log-batch',
        'PUT /api/2.0/mlflow-artifacts/artifacts/*',
        'POST /ajax-api/2.0/mlflow-artifacts/mpu/*',
        'DELETE /api/v1/tokens/:tokenId',
        'GET /health',
        'GET /docs',
      ]),
    );
    const guarded = routes.filter((r) => r.access !== 'public');
    console.info(
      `auth-routes: ${routes.length} route methods, ${guarded.length} guarded ` +
        `(${guarded.filter((r) => r.access === 'reader').length} reader, ${guarded.filter((r) => r.access === 'editor').length} editor, ` +
        `${guarded.filter((r) => r.access === 'admin').length} admin), ${routes.length - guarded.length} public`,
    );
    expect(guarded.length).toBeGreaterThan(120);
  });

  it("agrees with the server's table on what each route needs", () => {
    const disagreements = routes
      .filter((r) => r.access !== expectedAccess(r.method, r.url))
      .map((r) => `${r.method} ${r.url}: server says ${r.access}, expected ${expectedAccess(r.method, r.url)}`);
    expect(disagreements).toEqual([]);
  });

  it('refuses missing, wrong, revoked and under-privileged credentials with 401/403 on every route, and nothing changes', async () => {
    const before = await snapshot(stores, config, world);
    const wrong = `trestle_${randomBytes(32).toString('base64url')}`;
    const failures: string[] = [];
    let sent = 0;
    for (const route of routes) {
      if (route.access === 'public') continue;
      const attempts: [label: string, authorization: string | undefined, status: 401 | 403][] = [
        ['no credentials', undefined, 401],
        ['a wrong Bearer token', `Bearer ${wrong}`, 401],
        ['Basic with a wrong password', `Basic ${Buffer.from(`alice:${wrong}`).toString('base64')}`, 401],
        ['a malformed header', 'Bearer', 401],
        ['a revoked admin token', `Bearer ${secrets.revoked}`, 401],
      ];
      if (route.access === 'editor') attempts.push(['a reader token', `Bearer ${secrets.reader}`, 403]);
      if (route.access === 'admin') {
        attempts.push(['an editor token', `Bearer ${secrets.editor}`, 403]);
        attempts.push(['a reader token', `Bearer ${secrets.reader}`, 403]);
      }
      for (const [label, authorization, status] of attempts) {
        const res = await send(route, authorization);
        sent++;
        const where = `${route.method} ${route.url} with ${label}`;
        if (res.statusCode !== status) {
          failures.push(`${where}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          continue;
        }
        if (status === 401 && res.headers['www-authenticate'] !== WWW_AUTHENTICATE)
          failures.push(`${where}: no WWW-Authenticate challenge`);
        if (route.method === 'HEAD') continue;
        const code = status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED';
        const body: unknown = res.json();
        const shaped = isMlflowPath(route.url)
          ? typeof body === 'object' &&
            body !== null &&
            (body as { error_code?: unknown }).error_code === code &&
            typeof (body as { message?: unknown }).message === 'string'
          : (body as { error?: { code?: unknown; message?: unknown } }).error?.code === code &&
            typeof (body as { error: { message?: unknown } }).error.message === 'string';
        if (!shaped)
          failures.push(
            `${where}: not in the ${isMlflowPath(route.url) ? 'MLflow' : 'v1'} error shape: ${res.body.slice(0, 200)}`,
          );
      }
    }
    expect(failures).toEqual([]);
    console.info(`auth-routes: ${sent} refused requests`);
    expect(await snapshot(stores, config, world)).toEqual(before);
  });

  it('lets each route through with the lowest role it needs (and those writes do change the stores)', async () => {
    const before = await snapshot(stores, config, world);
    const failures: string[] = [];
    // Reads first, so that they see the seeded world; then writes, deletions last, then token management.
    const order: Access[] = ['public', 'reader', 'editor', 'admin'];
    const destructive = (r: RouteAccess): boolean => r.method === 'DELETE' || /\/delete(-[a-z-]+)?$/.test(r.url);
    const rank = (r: RouteAccess): number => order.indexOf(r.access) * 2 + (destructive(r) ? 1 : 0);
    const sorted = [...routes].sort((a, b) => rank(a) - rank(b));
    for (const route of sorted) {
      const role = route.access === 'public' ? undefined : route.access;
      const res = await send(route, role === undefined ? undefined : `Bearer ${secrets[role]}`);
      const where = `${route.method} ${route.url} as ${role ?? 'nobody'}`;
      if (res.statusCode === 401 || res.statusCode === 403)
        failures.push(`${where}: refused, ${res.statusCode} ${res.body.slice(0, 200)}`);
      // The concrete request must reach the route itself, not the not-found handler.
      if (res.statusCode === 404 && /no route |ENDPOINT_NOT_FOUND/.test(res.body))
        failures.push(`${where}: did not reach the route: ${res.body.slice(0, 200)}`);
      // The requests are plausible: every write that is not a deletion succeeds (but MLflow's own 501s). HEAD on
      // MLflow RPCs is left out: the dialect reads a GET's query string only, as MLflow does.
      const skipped = route.method === 'HEAD' && isMlflowPath(route.url);
      if (!skipped && !destructive(route) && res.statusCode >= 400 && res.statusCode !== 501) {
        failures.push(`${where}: the request meant to succeed failed: ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await snapshot(stores, config, world)).not.toEqual(before);
    // An admin token may do what every other role may: spot-check one route of each kind.
    for (const [method, url] of [
      ['GET', '/api/v1/experiments'],
      ['POST', '/api/2.0/mlflow/runs/search'],
      ['POST', '/api/v1/experiments'],
    ] as const) {
      const res = await send({ method, url, access: 'reader' }, `Bearer ${secrets.admin}`);
      expect(res.statusCode, `${method} ${url}`).toBeLessThan(400);
    }
  });

  it('serves MLflow clients: Basic user:token on experiments/search, Bearer on runs/create', async () => {
    const search = await app.inject({
      method: 'GET',
      url: '/api/2.0/mlflow/experiments/search?max_results=100&view_type=ALL',
      headers: { authorization: `Basic ${Buffer.from(`mlflow-user:${secrets.reader}`).toString('base64')}` },
    });
    expect(search.statusCode).toBe(200);
    expect(
      search.json<{ experiments: { experiment_id: string }[] }>().experiments.map((e) => e.experiment_id),
    ).toContain(world.experimentId);

    const created = await app.inject({
      method: 'POST',
      url: '/api/2.0/mlflow/runs/create',
      headers: { authorization: `Bearer ${secrets.editor}` },
      payload: { experiment_id: '0', run_name: 'from-mlflow', start_time: now },
    });
    expect(created.statusCode).toBe(200);
    const runId = created.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
    expect((await stores.metadata.getRun(runId)).info.runName).toBe('from-mlflow');

    // The same Basic credentials with a reader token cannot write.
    const denied = await app.inject({
      method: 'POST',
      url: '/api/2.0/mlflow/runs/create',
      headers: { authorization: `Basic ${Buffer.from(`mlflow-user:${secrets.reader}`).toString('base64')}` },
      payload: { experiment_id: '0' },
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error_code: 'PERMISSION_DENIED' });
  });
});
