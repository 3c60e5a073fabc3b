/**
 * End to end: the npm `mlflow` package (a community Node client of MLflow's REST API, which
 * sends exactly what its source shows: snake_case JSON, `run_uuid` next to `run_id`, GET query
 * strings) against a real listening server that registers only the MLflow dialect. Everything
 * the foreign client writes is checked through the stores, not through the dialect.
 */
import type { AddressInfo } from 'node:net';
import mlflowExports from 'mlflow';
import { RunStatus, ViewType } from 'mlflow/enum.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMlflowTestApp, type MlflowTestApp } from './test-support.js';

// `mlflow` is CommonJS whose `module.exports` is the client class, while its typings declare an
// ES default export: TypeScript (NodeNext) sees the class one level down. Take what the runtime gives.
type MlflowClass = typeof mlflowExports.default;
const exported = mlflowExports as unknown as MlflowClass | { default: MlflowClass };
const MLflow: MlflowClass = 'default' in exported ? exported.default : exported;

let t: MlflowTestApp;
let client: InstanceType<MlflowClass>;
const sentBodies: string[] = [];

beforeAll(async () => {
  t = await startMlflowTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  client = new MLflow({ endpoint: `http://127.0.0.1:${port}` });
  // The client console.logs every JSON body it POSTs; keep them to check what it sent.
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    sentBodies.push(args.map(String).join(' '));
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await t.close();
});

/** The client throws `Error("Error: {status, statusText, data}")`; this reads it back. */
function clientError(err: unknown): { status: number; data: { error_code: string; message: string } } {
  const text = err instanceof Error ? err.message : String(err);
  return JSON.parse(text.slice(text.indexOf('{'))) as { status: number; data: { error_code: string; message: string } };
}

describe('the npm mlflow client against a listening server', () => {
  it('creates, logs, finishes, searches and reads back a run', async () => {
    const { experiment_id: experimentId } = await client.Experiments.create({ name: 'npm-e2e', artifact_location: '' });
    expect((await t.metadata.getExperiment(experimentId)).name).toBe('npm-e2e');
    const { experiment } = await client.Experiments.get({ experiment_id: experimentId });
    expect(experiment).toMatchObject({ experiment_id: experimentId, name: 'npm-e2e', lifecycle_stage: 'active' });

    const start = 1717000000000;
    const { run } = await client.Runs.create({
      experiment_id: experimentId,
      user_id: 'alice',
      start_time: start,
      tags: [{ key: 'mlflow.runName', value: 'npm-run' }],
    });
    const runId = run.info.run_id;
    expect(run.info).toMatchObject({
      experiment_id: experimentId,
      status: 'RUNNING',
      artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
    });

    await client.Runs.logParameter({ run_id: runId, key: 'lr', value: '0.01' });
    await client.Runs.logMetric({ run_id: runId, key: 'loss', value: 0.9, timestamp: start + 1, step: 0 });
    await client.Runs.logMetric({ run_id: runId, key: 'loss', value: 0.7, timestamp: start + 2, step: 1 });
    await client.Runs.setTag({ run_id: runId, key: 'team', value: 'fraud' });
    await client.Runs.logBatch({
      run_id: runId,
      metrics: [
        { key: 'loss', value: 0.4, timestamp: start + 3, step: 2 },
        { key: 'auc', value: 0.88, timestamp: start + 3, step: 2 },
      ],
      params: [{ key: 'depth', value: '6' }],
      tags: [{ key: 'stage', value: 'dev' }],
    });
    const { run_info: finished } = await client.Runs.update({
      run_id: runId,
      status: RunStatus.FINISHED,
      end_time: start + 10,
    });
    expect(finished).toMatchObject({ run_id: runId, status: 'FINISHED', end_time: start + 10 });

    // What the foreign client wrote is really in the stores.
    const stored = await t.metadata.getRun(runId);
    expect(stored.info).toMatchObject({
      runName: 'npm-run',
      userId: 'alice',
      status: 'FINISHED',
      startTime: start,
      endTime: start + 10,
    });
    expect(stored.data.params).toEqual([
      { key: 'depth', value: '6' },
      { key: 'lr', value: '0.01' },
    ]);
    expect(stored.data.metrics).toEqual(
      expect.arrayContaining([
        { key: 'loss', value: 0.4, timestamp: start + 3, step: 2 },
        { key: 'auc', value: 0.88, timestamp: start + 3, step: 2 },
      ]),
    );
    expect(stored.data.tags).toEqual(
      expect.arrayContaining([
        { key: 'team', value: 'fraud' },
        { key: 'stage', value: 'dev' },
      ]),
    );
    expect((await t.metadata.getMetricHistory(runId, 'loss')).items.map((m) => [m.step, m.value])).toEqual([
      [0, 0.9],
      [1, 0.7],
      [2, 0.4],
    ]);

    // A second run that the filter must exclude.
    const other = (await client.Runs.create({ experiment_id: experimentId, user_id: 'bob', start_time: start + 100 }))
      .run.info.run_id;
    await client.Runs.logBatch({
      run_id: other,
      metrics: [{ key: 'loss', value: 2, timestamp: start, step: 0 }],
      params: [{ key: 'lr', value: '0.1' }],
    });

    const found = await client.Runs.search({
      experiment_ids: [experimentId],
      filter: "metrics.loss < 1 and params.lr = '0.01'",
      run_view_type: ViewType.ACTIVE_ONLY,
    });
    expect(found.runs.map((r) => r.info.run_id)).toEqual([runId]);
    expect(found.runs[0]?.data.metrics).toEqual(
      expect.arrayContaining([{ key: 'loss', value: 0.4, timestamp: start + 3, step: 2 }]),
    );

    const { metrics } = await client.Metrics.getHistory({ run_id: runId, metric_key: 'loss' });
    expect(metrics.map((m) => m.value)).toEqual([0.9, 0.7, 0.4]);

    const got = await client.Runs.get({ run_id: runId });
    expect(got.run.info.status).toBe('FINISHED');

    // The MLflow 1.x experiments/list this client still calls.
    const listed = await client.Experiments.list();
    expect(listed.experiments.map((e) => e.name)).toContain('npm-e2e');

    // Artifacts written through the store show up in the client's listing.
    await t.artifacts.put(`${experimentId}/${runId}/artifacts/model/MLmodel`, 'flavors: {}');
    const artifacts = await client.Artifacts.list({ run_id: runId, path: '' });
    expect(artifacts).toEqual({
      root_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
      files: [{ path: 'model', is_dir: true }],
    });

    await client.Runs.delete({ run_id: other });
    expect((await t.metadata.getRun(other)).info.lifecycleStage).toBe('deleted');
    await client.Runs.restore({ run_id: other });
    expect((await t.metadata.getRun(other)).info.lifecycleStage).toBe('active');

    // It sent the deprecated run_uuid along with run_id, which the dialect accepts.
    expect(sentBodies.some((b) => b.includes('"run_uuid"'))).toBe(true);
  });

  it('gets MLflow-shaped errors back', async () => {
    await client.Experiments.create({ name: 'npm-dup', artifact_location: '' });
    const dup = await client.Experiments.create({ name: 'npm-dup', artifact_location: '' }).then(
      () => undefined,
      (err: unknown) => clientError(err),
    );
    expect(dup).toMatchObject({ status: 400, data: { error_code: 'RESOURCE_ALREADY_EXISTS' } });

    const missing = await client.Runs.get({ run_id: 'f'.repeat(32) }).then(
      () => undefined,
      (err: unknown) => clientError(err),
    );
    expect(missing).toMatchObject({ status: 404, data: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
  });

  it('refuses the null that JSON.stringify makes of NaN, writing nothing', async () => {
    const { experiment_id: experimentId } = await client.Experiments.create({ name: 'npm-nan', artifact_location: '' });
    const runId = (await client.Runs.create({ experiment_id: experimentId, user_id: 'x', start_time: Date.now() })).run
      .info.run_id;
    const res = await client.Runs.logMetric({ run_id: runId, key: 'odd', value: NaN, timestamp: Date.now() }).then(
      () => undefined,
      (err: unknown) => clientError(err),
    );
    expect(res).toMatchObject({
      status: 400,
      data: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("'value'") },
    });
    expect((await t.metadata.getRun(runId)).data.metrics).toEqual([]);
  });
});
