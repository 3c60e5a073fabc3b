import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlflowTestApp, type JsonReply, type MlflowTestApp } from './test-support.js';

let t: MlflowTestApp;
let experimentId: string;
let runId: string;
let otherRunId: string;

const graphql = (body: object): Promise<JsonReply> =>
  t.inject({
    method: 'POST',
    url: '/graphql',
    payload: body,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

beforeAll(async () => {
  t = await startMlflowTestApp();
  experimentId = (await t.post('/experiments/create', { name: 'graphql', tags: [{ key: 'team', value: 'ui' }] })).json
    .experiment_id;
  const run = await t.post('/runs/create', { experiment_id: experimentId, run_name: 'first', start_time: 1000 });
  runId = run.json.run.info.run_id;
  otherRunId = (await t.post('/runs/create', { experiment_id: experimentId, run_name: 'second', start_time: 2000 }))
    .json.run.info.run_id;
  await t.post('/runs/log-batch', {
    run_id: runId,
    metrics: Array.from({ length: 10 }, (_, step) => ({ key: 'loss', value: step / 10, timestamp: 5000 + step, step })),
    params: [{ key: 'lr', value: '0.1' }],
    tags: [{ key: 'mlflow.source.name', value: 'train.py' }],
  });
  await t.post('/runs/log-inputs', {
    run_id: runId,
    datasets: [{ dataset: { name: 'flights', digest: 'abc', source_type: 'local', source: '/d' }, tags: [] }],
  });
  await t.post('/runs/update', { run_id: runId, status: 'FINISHED', end_time: 9000 });
  await t.post('/registered-models/create', { name: 'delays' });
  await t.post('/model-versions/create', { name: 'delays', source: `runs:/${runId}/model`, run_id: runId });
  for (const path of ['test.txt', 'testDir/test.txt']) {
    await t.inject({
      method: 'PUT',
      url: `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/${path}`,
      payload: 'hello world',
      headers: { 'content-type': 'text/plain' },
    });
  }
});
afterAll(async () => {
  await t.close();
});

// The query MLflow's web UI sends for the run page (useGetRunQuery), verbatim in its structure.
const GET_RUN = `
  query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
    mlflowGetRun(input: $data) {
      apiError { helpUrl code message }
      run {
        info { runName status runUuid experimentId artifactUri endTime lifecycleStage startTime userId }
        experiment { experimentId name tags { key value } artifactLocation lifecycleStage lastUpdateTime }
        modelVersions { status version name source }
        data { metrics { key value step timestamp } params { key value } tags { key value } }
        inputs {
          datasetInputs { dataset { digest name profile schema source sourceType } tags { key value } }
          modelInputs { modelId }
        }
        outputs { modelOutputs { modelId step } }
      }
    }
  }`;

describe('/graphql: the queries of MLflow’s web UI', () => {
  it('answers GetRun with MLflow’s shape: LongStrings as strings, proto defaults, the run’s experiment and model versions', async () => {
    const res = await graphql({ query: GET_RUN, variables: { data: { runId } }, operationName: 'GetRun' });
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeNull();
    const { run, apiError } = res.json.data.mlflowGetRun;
    expect(apiError).toBeNull();
    expect(run.info).toEqual({
      runName: 'first',
      status: 'FINISHED',
      runUuid: runId,
      experimentId,
      artifactUri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
      endTime: '9000',
      lifecycleStage: 'active',
      startTime: '1000',
      userId: '',
    });
    expect(run.experiment).toEqual({
      experimentId,
      name: 'graphql',
      tags: [{ key: 'team', value: 'ui' }],
      artifactLocation: `mlflow-artifacts:/${experimentId}`,
      lifecycleStage: 'active',
      lastUpdateTime: expect.stringMatching(/^\d+$/),
    });
    expect(run.modelVersions).toEqual([
      { status: 'READY', version: '1', name: 'delays', source: `runs:/${runId}/model` },
    ]);
    expect(run.data.metrics).toEqual([{ key: 'loss', value: 0.9, step: '9', timestamp: '5009' }]);
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.1' }]);
    expect(run.data.tags).toContainEqual({ key: 'mlflow.source.name', value: 'train.py' });
    expect(run.inputs).toEqual({
      datasetInputs: [
        {
          dataset: { digest: 'abc', name: 'flights', profile: '', schema: '', source: '/d', sourceType: 'local' },
          tags: [],
        },
      ],
      modelInputs: [],
    });
    expect(run.outputs).toEqual({ modelOutputs: [] });
  });

  it('answers GetMetricHistoryBulkInterval (the UI’s charts) with MLflow’s sampling and __typename', async () => {
    const res = await graphql({
      query: `query GetMetricHistoryBulkInterval($data: MlflowGetMetricHistoryBulkIntervalInput!)
        @component(name: "MLflow.ExperimentRunTracking") {
          mlflowGetMetricHistoryBulkInterval(input: $data) {
            __typename
            metrics { timestamp step runId key value }
            apiError { code message }
          }
        }`,
      variables: { data: { runIds: [runId, otherRunId], metricKey: 'loss', maxResults: 5 } },
    });
    expect(res.json.errors).toBeNull();
    const answer = res.json.data.mlflowGetMetricHistoryBulkInterval;
    expect(answer.__typename).toBe('MlflowGetMetricHistoryBulkIntervalResponse');
    expect(answer.apiError).toBeNull();
    expect((answer.metrics as { step: string }[]).map((m) => m.step)).toEqual(['0', '2', '4', '6', '8', '9']);
    expect(answer.metrics[1]).toEqual({ timestamp: '5002', step: '2', runId, key: 'loss', value: 0.2 });
  });

  it('answers the UI’s SearchRuns query (filter, experimentIds) with the run extension', async () => {
    const res = await graphql({
      query: `query SearchRuns($data: MlflowSearchRunsInput!) {
        mlflowSearchRuns(input: $data) {
          apiError { helpUrl code message }
          runs { info { runUuid runName } experiment { name } modelVersions { version name creationTimestamp status source } }
        }
      }`,
      variables: { data: { filter: "attributes.run_name = 'first'", experimentIds: [experimentId] } },
    });
    expect(res.json.errors).toBeNull();
    expect(res.json.data.mlflowSearchRuns.runs).toEqual([
      {
        info: { runUuid: runId, runName: 'first' },
        experiment: { name: 'graphql' },
        modelVersions: [
          {
            version: '1',
            name: 'delays',
            creationTimestamp: expect.stringMatching(/^\d+$/),
            status: 'READY',
            source: `runs:/${runId}/model`,
          },
        ],
      },
    ]);
  });

  it('answers MLflow’s own GraphQL tests: inline input, mutation, aliases and fragments', async () => {
    const bulk = await graphql({
      query: `query testQuery {
        mlflowGetMetricHistoryBulkInterval(input: { runIds: ["${runId}"], metricKey: "loss", }) {
          metrics { key timestamp value }
        }
      }`,
      operationName: 'testQuery',
    });
    expect(bulk.json.data.mlflowGetMetricHistoryBulkInterval.metrics).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ key: 'loss', timestamp: String(5000 + i), value: i / 10 })),
    );

    const search = await graphql({
      query: `mutation testMutation {
        mlflowSearchRuns(input: { experimentIds: ["${experimentId}"] }) { runs { info { runId } } }
      }`,
      operationName: 'testMutation',
    });
    expect(search.json.data.mlflowSearchRuns.runs).toEqual([{ info: { runId: otherRunId } }, { info: { runId } }]);

    const files = await graphql({
      query: `fragment FilesFragment on MlflowListArtifactsResponse { files { path isDir fileSize } }
        query testQuery {
          file: mlflowListArtifacts(input: { runId: "${runId}" }) { ...FilesFragment }
          subdir: mlflowListArtifacts(input: { runId: "${runId}", path: "testDir" }) { ...FilesFragment }
        }`,
      operationName: 'testQuery',
    });
    expect(files.json).toEqual({
      data: {
        file: {
          files: [
            { path: 'test.txt', isDir: false, fileSize: '11' },
            { path: 'testDir', isDir: true, fileSize: '0' },
          ],
        },
        subdir: { files: [{ path: 'testDir/test.txt', isDir: false, fileSize: '11' }] },
      },
      errors: null,
    });

    const echo = await graphql({ query: '{ test(inputString: "hi") { output } }' });
    expect(echo.json).toEqual({ data: { test: { output: 'hi' } }, errors: null });
  });
});

describe('/graphql errors, in GraphQL’s shape', () => {
  it('a field that fails is null and its message is in errors', async () => {
    const res = await graphql({ query: GET_RUN, variables: { data: { runId: 'f'.repeat(32) } } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ data: { mlflowGetRun: null }, errors: [`Run '${'f'.repeat(32)}' not found`] });
  });

  it.each([
    [
      'an unknown root field',
      '{ mlflowSearchDatasets(input: {}) { datasetSummaries { name } } }',
      "Cannot query field 'mlflowSearchDatasets' on type 'Query'.",
    ],
    [
      'an unknown nested field',
      '{ mlflowGetRun(input: {}) { run { info { color } } } }',
      "Cannot query field 'color' on type 'MlflowRunInfo'.",
    ],
    ['a syntax error', '{ mlflowGetRun(input: { runId: "x" ) { run } }', 'Syntax Error: Expected Name, found'],
    ['a subscription', 'subscription S { runs }', "Unexpected Name 'subscription'"],
    ['a missing variable', GET_RUN, "Variable '$data' of required type 'MlflowGetRunInput!' was not provided."],
  ])('%s: data null, the reason in errors', async (_what, query, message) => {
    const res = await graphql({ query });
    expect(res.status).toBe(200);
    expect(res.json.data).toBeNull();
    expect(res.json.errors).toHaveLength(1);
    expect(res.json.errors[0]).toContain(message);
  });

  it('a body that is not JSON is MLflow’s 400 MALFORMED_REQUEST, read by the dialect’s JSON parser', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      payload: '{"query": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error_code: 'MALFORMED_REQUEST',
      message: expect.stringContaining('The request body is not valid JSON'),
    });
  });

  it('a body without a query says what to send', async () => {
    const res = await graphql({ variables: {} });
    expect(res.json).toEqual({ data: null, errors: [expect.stringContaining("'query'")] });
  });
});
