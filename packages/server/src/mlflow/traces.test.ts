/**
 * MLflow Tracing over the dialect, request by request as MLflow clients send them: a 3.x
 * client's `@mlflow.trace` export (StartTraceV3 on `/api/3.0`, then `traces.json` PUT to the
 * `mlflow.artifactLocation` the answer names), `mlflow.search_traces` and `mlflow.get_trace`;
 * a 2.x client's StartTrace / EndTrace on `/api/2.0`; tags, deletion and errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOf, startMlflowTestApp, type JsonReply, type MlflowTestApp } from './test-support.js';
import { parseProtoDuration, parseProtoTimestamp } from './traces.js';

const V3 = { root: '/api/3.0' };
const hex = (n: number): string => n.toString(16).padStart(32, '0');

let t: MlflowTestApp;
let exp: string;

async function ok(res: Promise<JsonReply>): Promise<JsonReply['json']> {
  const r = await res;
  if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** The body `RestStore.start_trace` of MLflow 3 sends (`TraceInfo.to_proto()` as proto JSON). */
function traceInfoV3(traceId: string, experimentId: string, extra: Record<string, unknown> = {}): object {
  return {
    trace: {
      trace_info: {
        trace_id: traceId,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_preview: '{"question": "what is 2+2?"}',
        response_preview: '"4"',
        request_time: '2025-06-01T10:00:00.123456Z',
        execution_duration: '0.120s',
        state: 'OK',
        trace_metadata: { 'mlflow.trace_schema.version': '3', 'mlflow.sourceRun': 'run-a' },
        tags: { 'mlflow.traceName': 'predict', 'mlflow.user': 'alice' },
        ...extra,
      },
    },
  };
}

beforeAll(async () => {
  t = await startMlflowTestApp();
  exp = (await ok(t.post('/experiments/create', { name: 'agent' }))).experiment_id as string;
});
afterAll(async () => {
  await t.close();
});

describe('MLflow 3 traces (/api/3.0/mlflow/traces)', () => {
  it('creates a trace as @mlflow.trace exports it, takes its traces.json and gives both back', async () => {
    const id = `tr-${hex(1)}`;
    const created = await ok(t.post('/traces', traceInfoV3(id, exp), V3));
    const info = created.trace.trace_info;
    expect(info).toMatchObject({
      trace_id: id,
      trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
      request_time: '2025-06-01T10:00:00.123Z',
      execution_duration: '0.120s',
      state: 'OK',
      request_preview: '{"question": "what is 2+2?"}',
      response_preview: '"4"',
      trace_metadata: { 'mlflow.trace_schema.version': '3', 'mlflow.sourceRun': 'run-a' },
    });
    const location = `mlflow-artifacts:/${exp}/traces/${id}/artifacts`;
    expect(info.tags).toEqual({
      'mlflow.traceName': 'predict',
      'mlflow.user': 'alice',
      'mlflow.artifactLocation': location,
    });

    // The client uploads the spans where the tag says, through the proxied artifact service.
    const spans = JSON.stringify({ spans: [{ name: 'predict', trace_id: 'abc', span_id: '01' }] });
    const put = await t.inject({
      method: 'PUT',
      url: `/api/2.0/mlflow-artifacts/artifacts/${location.slice('mlflow-artifacts:/'.length)}/traces.json`,
      payload: spans,
      headers: { 'content-type': 'application/json' },
    });
    expect(put.status).toBe(200);

    // mlflow.get_trace: GetTraceInfoV3, then traces.json from the artifact location.
    const got = await ok(t.get(`/traces/${id}`, {}, V3));
    expect(got.trace.trace_info).toEqual(info);
    const download = await t.app.inject({
      method: 'GET',
      url: `/api/2.0/mlflow-artifacts/artifacts/${exp}/traces/${id}/artifacts/traces.json`,
    });
    expect(download.body).toBe(spans);
    // The web UI's helper answers the same file.
    const viaUi = await t.app.inject({
      method: 'GET',
      url: `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=${id}`,
    });
    expect(viaUi.statusCode).toBe(200);
    expect(viaUi.headers['content-type']).toBe('application/octet-stream');
    expect(viaUi.body).toBe(spans);
  });

  it('merges a second StartTraceV3 of the same id (MLflow’s SQL store does) and keeps the artifact location', async () => {
    const id = `tr-${hex(2)}`;
    await ok(t.post('/traces', traceInfoV3(id, exp, { state: 'IN_PROGRESS', execution_duration: null }), V3));
    const again = await ok(t.post('/traces', traceInfoV3(id, exp, { tags: { extra: '1' } }), V3));
    expect(again.trace.trace_info.state).toBe('OK');
    expect(again.trace.trace_info.tags).toMatchObject({
      'mlflow.traceName': 'predict',
      extra: '1',
      'mlflow.artifactLocation': `mlflow-artifacts:/${exp}/traces/${id}/artifacts`,
    });
  });

  it('searches as mlflow.search_traces does: locations, filter on run metadata and tags, order, pages', async () => {
    const e2 = (await ok(t.post('/experiments/create', { name: 'search' }))).experiment_id as string;
    for (let i = 0; i < 3; i++) {
      await ok(
        t.post(
          '/traces',
          traceInfoV3(`tr-${hex(0x10 + i)}`, e2, {
            request_time: `2025-06-01T10:00:0${i}Z`,
            execution_duration: `${3 - i}.000s`,
            state: i === 1 ? 'ERROR' : 'OK',
            trace_metadata: { 'mlflow.sourceRun': i === 0 ? 'run-x' : 'run-y' },
          }),
          V3,
        ),
      );
    }
    const search = (body: object): Promise<JsonReply> =>
      t.post(
        '/traces/search',
        { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: e2 } }], ...body },
        V3,
      );
    const ids = async (body: object): Promise<string[]> =>
      listOf<{ trace_id: string }>((await ok(search(body))).traces).map((x) => x.trace_id.slice(-1));

    expect(await ids({})).toEqual(['2', '1', '0']);
    expect(await ids({ filter: "metadata.mlflow.sourceRun = 'run-y'" })).toEqual(['2', '1']);
    expect(await ids({ filter: "trace.status = 'OK' AND metadata.`mlflow.sourceRun` = 'run-y'" })).toEqual(['2']);
    expect(await ids({ order_by: ['execution_time_ms DESC'] })).toEqual(['0', '1', '2']);
    const first = await ok(search({ max_results: 2 }));
    expect(listOf(first.traces)).toHaveLength(2);
    expect(await ids({ max_results: 2, page_token: first.next_page_token })).toEqual(['0']);
    expect(await ok(search({ filter: "tags.nothing = 'x'" }))).toEqual({});

    const tooMany = await search({ max_results: 501 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    const badFilter = await search({ filter: 'params.x = 1' });
    expect(badFilter.status).toBe(400);
    expect(badFilter.json.message).toMatch(/trace search/);
    const noLocations = await t.post('/traces/search', {}, V3);
    expect(noLocations.status).toBe(400);
    expect(noLocations.json.message).toMatch(/locations/);
  });

  it('sets and deletes tags, deletes traces by id and by time, links traces to a run', async () => {
    const id = `tr-${hex(3)}`;
    await ok(t.post('/traces', traceInfoV3(id, exp), V3));
    await ok(
      t.inject({ method: 'PATCH', url: `/api/3.0/mlflow/traces/${id}/tags`, payload: { key: 'k', value: 'v' } }),
    );
    expect((await ok(t.get(`/traces/${id}`, {}, V3))).trace.trace_info.tags.k).toBe('v');
    await ok(t.inject({ method: 'DELETE', url: `/api/3.0/mlflow/traces/${id}/tags`, payload: { key: 'k' } }));
    expect((await ok(t.get(`/traces/${id}`, {}, V3))).trace.trace_info.tags.k).toBeUndefined();
    const missingTag = await t.inject({
      method: 'DELETE',
      url: `/api/3.0/mlflow/traces/${id}/tags`,
      payload: { key: 'k' },
    });
    expect(missingTag.status).toBe(404);
    expect(missingTag.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    const run = (await ok(t.post('/runs/create', { experiment_id: exp }))).run.info.run_id as string;
    await ok(t.post('/traces/link-to-run', { trace_ids: [id], run_id: run }));
    expect(await t.metadata.traces.linkedTraces(run)).toEqual([id]);

    const deleted = await ok(t.post('/traces/delete-traces', { experiment_id: exp, request_ids: [id] }, V3));
    expect(deleted).toEqual({ traces_deleted: 1 });
    const gone = await t.get(`/traces/${id}`, {}, V3);
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Trace with ID ${id} is not found.` });

    const both = await t.post('/traces/delete-traces', { experiment_id: exp }, V3);
    expect(both.status).toBe(400);
    expect(both.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('refuses a StartTraceV3 without trace, location or an existing experiment in MLflow’s shape', async () => {
    const none = await t.post('/traces', {}, V3);
    expect(none.status).toBe(400);
    expect(none.json).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(none.json.message).toMatch(/'trace'/);
    const unknownExp = await t.post('/traces', traceInfoV3(`tr-${hex(4)}`, '999999'), V3);
    expect(unknownExp.status).toBe(404);
    expect(unknownExp.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const badTime = await t.post('/traces', traceInfoV3(`tr-${hex(5)}`, exp, { request_time: 'yesterday' }), V3);
    expect(badTime.status).toBe(400);
    expect(badTime.json.message).toMatch(/request_time/);
  });
});

describe('MLflow 2 traces (/api/2.0/mlflow/traces)', () => {
  it('starts, ends, reads, searches and tags a trace as a 2.x client does', async () => {
    const started = await ok(
      t.post('/traces', {
        experiment_id: exp,
        timestamp_ms: 1_717_000_000_000,
        request_metadata: [{ key: 'mlflow.traceInputs', value: '{"x": 1}' }],
        tags: [{ key: 'mlflow.traceName', value: 'chain' }],
      }),
    );
    const requestId = started.trace_info.request_id as string;
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(started.trace_info).toMatchObject({
      experiment_id: exp,
      timestamp_ms: 1_717_000_000_000,
      status: 'IN_PROGRESS',
    });
    expect(started.trace_info.tags).toContainEqual({
      key: 'mlflow.artifactLocation',
      value: `mlflow-artifacts:/${exp}/traces/${requestId}/artifacts`,
    });

    const ended = await ok(
      t.inject({
        method: 'PATCH',
        url: `/api/2.0/mlflow/traces/${requestId}`,
        payload: {
          request_id: requestId,
          timestamp_ms: 1_717_000_000_250,
          status: 'OK',
          request_metadata: [{ key: 'mlflow.traceOutputs', value: '2' }],
          tags: [{ key: 'team', value: 'search' }],
        },
      }),
    );
    expect(ended.trace_info).toMatchObject({ status: 'OK', execution_time_ms: 250 });
    expect(ended.trace_info.request_metadata).toEqual([
      { key: 'mlflow.traceInputs', value: '{"x": 1}' },
      { key: 'mlflow.traceOutputs', value: '2' },
    ]);

    const info = await ok(t.get(`/traces/${requestId}/info`));
    expect(info.trace_info).toEqual(ended.trace_info);

    const found = await ok(
      t.get('/traces', { experiment_ids: [exp], filter: "tags.team = 'search'", max_results: 10 }),
    );
    expect(listOf<{ request_id: string }>(found.traces).map((x) => x.request_id)).toEqual([requestId]);

    await ok(
      t.inject({ method: 'PATCH', url: `/api/2.0/mlflow/traces/${requestId}/tags`, payload: { key: 'a', value: 'b' } }),
    );
    await ok(t.inject({ method: 'DELETE', url: `/api/2.0/mlflow/traces/${requestId}/tags`, payload: { key: 'team' } }));
    const tags = listOf<{ key: string; value: string }>((await ok(t.get(`/traces/${requestId}/info`))).trace_info.tags);
    expect(tags.map((x) => x.key).sort()).toEqual(['a', 'mlflow.artifactLocation', 'mlflow.traceName']);

    const deleted = await ok(
      t.post('/traces/delete-traces', { experiment_id: exp, max_timestamp_millis: 1_717_000_000_000 }),
    );
    expect(deleted.traces_deleted).toBeGreaterThanOrEqual(1);
    expect((await t.get(`/traces/${requestId}/info`)).status).toBe(404);
  });

  it('asks for experiment_ids when a v2 search has none', async () => {
    const res = await t.get('/traces', {});
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/Missing value for required parameter 'experiment_ids'/);
  });
});

describe('the MLflow 3 roots and the OTLP endpoint', () => {
  it('serves only MLflow 3 endpoints under /api/3.0 and answers the rest ENDPOINT_NOT_FOUND in MLflow’s shape', async () => {
    for (const url of [
      '/api/3.0/mlflow/runs/get?run_id=x',
      '/ajax-api/3.0/mlflow/nothing',
      '/api/3.0/mlflow/traces/x/info',
    ]) {
      const res = await t.inject({ method: 'GET', url });
      expect(res.status, url).toBe(404);
      expect(res.json.error_code, url).toBe('ENDPOINT_NOT_FOUND');
      expect(res.json.message, url).toContain(url.split('?')[0]);
      expect(Object.keys(res.json as object).sort()).toEqual(['error_code', 'message']);
    }
  });

  it('answers OTLP span export 501 with the message MLflow clients stop on', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/traces', payload: {} });
    expect(res.status).toBe(501);
    expect(res.json.error_code).toBe('NOT_IMPLEMENTED');
    expect(res.json.message).toContain('REST OTLP span logging is not supported');
  });
});

describe('proto JSON times', () => {
  it('reads RFC 3339 timestamps with any fraction and zone, and durations in seconds', () => {
    expect(parseProtoTimestamp('2025-06-01T10:00:00Z', 'f')).toBe(Date.UTC(2025, 5, 1, 10));
    expect(parseProtoTimestamp('2025-06-01T10:00:00.5+01:00', 'f')).toBe(Date.UTC(2025, 5, 1, 9, 0, 0, 500));
    expect(parseProtoTimestamp('2025-06-01T10:00:00.123456789Z', 'f')).toBe(Date.UTC(2025, 5, 1, 10, 0, 0, 123));
    expect(parseProtoDuration('1.5s', 'f')).toBe(1500);
    expect(parseProtoDuration('0.000123s', 'f')).toBe(0);
    expect(() => parseProtoDuration('5m', 'f')).toThrow(/duration in seconds/);
  });
});
