import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServing, type RunningServing } from './serve.js';
import { logisticPredictor } from './testing/logistic-predictor.js';

let running: RunningServing;
let url: string;

beforeAll(async () => {
  running = await startServing({ champion: logisticPredictor({ version: '3' }), port: 0 });
  url = running.url;
});
afterAll(async () => {
  await running.close();
});

const row = { distance: 1200, hour: 18, origin: 'ORD' };
const row2 = { distance: 300, hour: 6, origin: 'SFO' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests assert the shape
type Json = any;

async function post(
  path: string,
  body: unknown,
  type = 'application/json',
): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** The model's answer for the two rows, computed in process: every protocol must agree with it. */
async function expected(): Promise<{ probability: number[]; label: string[] }> {
  const p = logisticPredictor({ version: '3' });
  const out = await p.predict(
    { distance: Float64Array.of(1200, 300), hour: Float64Array.of(18, 6), origin: ['ORD', 'SFO'] },
    2,
  );
  return { probability: Array.from(out['probability'] as Float64Array), label: out['label'] as string[] };
}

describe('MLflow /invocations', () => {
  it('answers every payload format with the same predictions and names the version', async () => {
    const want = await expected();
    const wantRecords = want.probability.map((p, i) => ({ probability: p, label: want.label[i] }));
    const bodies = [
      {
        dataframe_split: {
          columns: ['distance', 'hour', 'origin'],
          data: [
            [1200, 18, 'ORD'],
            [300, 6, 'SFO'],
          ],
        },
      },
      {
        dataframe_split: {
          columns: ['origin', 'distance', 'hour'],
          index: [0, 1],
          data: [
            ['ORD', 1200, 18],
            ['SFO', 300, 6],
          ],
        },
      },
      { dataframe_records: [row, row2] },
      { instances: [row, row2] },
      {
        instances: [
          [1200, 18, 'ORD'],
          [300, 6, 'SFO'],
        ],
      },
      { inputs: { distance: [1200, 300], hour: [18, 6], origin: ['ORD', 'SFO'] } },
      {
        inputs: [
          [1200, 18, 'ORD'],
          [300, 6, 'SFO'],
        ],
        params: {},
      },
    ];
    for (const body of bodies) {
      const res = await post('/invocations', body);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(res.headers.get('x-model-version')).toBe('3');
      expect(res.json.predictions).toEqual(wantRecords);
    }
    const csv = await post(
      '/invocations',
      'distance,hour,origin\n1200,18,ORD\r\n300,6,"SFO"\n',
      'text/csv; charset=utf-8',
    );
    expect(csv.status).toBe(200);
    expect(csv.json.predictions).toEqual(wantRecords);
  });

  it('refuses bodies outside the protocol with MLflow errors, never a 500', async () => {
    const legacy = await post('/invocations', [row]);
    expect(legacy.status).toBe(400);
    expect(legacy.json.error_code).toBe('BAD_REQUEST');
    expect(legacy.json.message).toMatch(/MLflow 2\.0/);
    const two = await post('/invocations', { dataframe_records: [row], instances: [row] });
    expect(two.status).toBe(400);
    expect((await post('/invocations', '{"dataframe_records": [', 'application/json')).status).toBe(400);
    expect((await post('/invocations', { dataframe_records: [row] }, 'application/xml')).status).toBe(415);
    expect((await post('/invocations', { dataframe_records: [row] }, 'application/json; charset=latin-1')).status).toBe(
      415,
    );
    const ragged = await post('/invocations', 'distance,hour,origin\n1200,18\n', 'text/csv');
    expect(ragged.status).toBe(400);
    expect(ragged.json.message).toMatch(/CSV row 0/);
    const badCell = await post('/invocations', 'distance,hour,origin\n1200,18,ORD\nfar,6,SFO\n', 'text/csv');
    expect(badCell.json.message).toMatch(/column 'distance' row 1/);
  });
});

describe('validation against the signature', () => {
  const cases: [string, unknown, RegExp][] = [
    ['missing column', [row, { distance: 5, origin: 'ATL' }], /column 'hour' row 1: missing/],
    ['extra column', [row, { ...row2, tail: 'N123' }], /unknown column 'tail' in row 1/],
    [
      'wrong type',
      [{ ...row, distance: 'far' }],
      /column 'distance' row 0: expected a finite number \(double\), got "far"/,
    ],
    ['not a whole number', [row, row2, { ...row, hour: 1.5 }], /column 'hour' row 2: expected a whole number/],
    ['null where required', [{ ...row, hour: null }], /column 'hour' row 0: a value is required/],
    ['category as number', [{ ...row, origin: 7 }], /column 'origin' row 0: expected a string/],
    ['not a row', [row, 'x'], /row 1 must be an object/],
  ];
  for (const [what, body, message] of cases) {
    it(`${what} → 400 naming column and row`, async () => {
      const res = await post('/predict', body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('INVALID_ARGUMENT');
      expect(res.json.error.message).toMatch(message);
    });
  }

  it('null is allowed in an optional column', async () => {
    const res = await post('/predict', { ...row, origin: null });
    expect(res.status).toBe(200);
    expect(res.json.predictions).toHaveLength(1);
  });

  it('details carry the column and row', async () => {
    const res = await post('/predict', [row, { ...row, distance: true }]);
    expect(res.json.error.details).toEqual({ column: 'distance', row: 1 });
  });
});

describe('/predict', () => {
  it('takes one record or several and answers records', async () => {
    const want = await expected();
    const one = await post('/predict', row);
    expect(one.status).toBe(200);
    expect(one.json).toEqual({
      predictions: [{ probability: want.probability[0], label: want.label[0] }],
      model: { name: 'flights-delay', version: '3' },
    });
    const many = await post('/predict', { records: [row, row2] });
    expect((many.json.predictions as { probability: number }[]).map((p) => p.probability)).toEqual(want.probability);
    expect(one.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const mine = await fetch(url + '/predict', {
      method: 'POST',
      headers: { 'x-request-id': 'abc-1' },
      body: JSON.stringify(row),
    });
    expect(mine.headers.get('x-request-id')).toBe('abc-1');
  });
});

describe('Open Inference Protocol V2', () => {
  it('answers health, server and model metadata', async () => {
    expect((await fetch(url + '/v2/health/live')).status).toBe(200);
    const ready = await fetch(url + '/v2/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    expect((await (await fetch(url + '/v2')).json()) as object).toMatchObject({ name: 'trestle', extensions: [] });
    const meta = await (await fetch(url + '/v2/models/flights-delay')).json();
    expect(meta).toMatchObject({
      name: 'flights-delay',
      versions: ['3'],
      platform: 'builtin',
      inputs: [
        { name: 'distance', datatype: 'FP64', shape: [-1] },
        { name: 'hour', datatype: 'INT64', shape: [-1] },
        { name: 'origin', datatype: 'BYTES', shape: [-1] },
      ],
    });
    expect((await fetch(url + '/v2/models/flights-delay/versions/3/ready')).status).toBe(200);
    expect((await fetch(url + '/v2/models/flights-delay/versions/9/ready')).status).toBe(404);
    const other = await fetch(url + '/v2/models/other');
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: string }).error).toMatch(/serves 'flights-delay'/);
  });

  it('infers from one tensor per column and echoes the id', async () => {
    const want = await expected();
    const res = await post('/v2/models/flights-delay/versions/3/infer', {
      id: 'req-7',
      inputs: [
        { name: 'distance', shape: [2], datatype: 'FP64', data: [1200, 300] },
        { name: 'hour', shape: [2, 1], datatype: 'INT64', data: [[18], [6]] },
        { name: 'origin', shape: [2], datatype: 'BYTES', data: ['ORD', 'SFO'] },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      model_name: 'flights-delay',
      model_version: '3',
      id: 'req-7',
      outputs: [
        { name: 'probability', shape: [2], datatype: 'FP64', data: want.probability },
        { name: 'label', shape: [2], datatype: 'BYTES', data: want.label },
      ],
    });
    const only = await post('/v2/models/flights-delay/infer', {
      inputs: [
        { name: 'distance', shape: [1], datatype: 'FP64', data: [1200] },
        { name: 'hour', shape: [1], datatype: 'INT32', data: [18] },
        { name: 'origin', shape: [1], datatype: 'BYTES', data: ['ORD'] },
      ],
      outputs: [{ name: 'label' }],
    });
    expect(only.json.outputs).toEqual([{ name: 'label', shape: [1], datatype: 'BYTES', data: [want.label[0]] }]);
  });

  it('refuses bad tensors with {error} and a 4xx', async () => {
    const bad = [
      [{ inputs: [{ name: 'distance', shape: [2], datatype: 'FP64', data: [1] }] }, /holds 2 values but data has 1/],
      [{ inputs: [{ name: 'origin', shape: [1], datatype: 'FP32', data: [1] }] }, /datatype FP32.*origin.*BYTES/],
      [{ inputs: [{ name: 'speed', shape: [1], datatype: 'FP32', data: [1] }] }, /unknown column 'speed'/],
      [
        {
          inputs: [
            { name: 'distance', shape: [1], datatype: 'FP64', data: [1] },
            { name: 'origin', shape: [1], datatype: 'BYTES', data: ['ATL'] },
          ],
        },
        /column 'hour' is missing/,
      ],
      [{ inputs: [] }, /non-empty array/],
    ] as const;
    for (const [body, message] of bad) {
      const res = await post('/v2/models/flights-delay/infer', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error).toMatch(message);
    }
  });
});

describe('health and errors', () => {
  it('answers /ping, /health, /version; unknown routes 404, wrong methods 405', async () => {
    expect((await fetch(url + '/ping')).status).toBe(200);
    expect(await (await fetch(url + '/health')).json()).toMatchObject({ status: 'ok', version: '3' });
    expect(await (await fetch(url + '/version')).text()).toMatch(/^\d+\.\d+\.\d+$/);
    const missing = await fetch(url + '/nope');
    expect(missing.status).toBe(404);
    const wrong = await fetch(url + '/invocations');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('a body over the limit is 413', async () => {
    const small = await startServing({ champion: logisticPredictor(), port: 0, maxBodyBytes: 1000 });
    try {
      const res = await fetch(small.url + '/predict', { method: 'POST', body: JSON.stringify(Array(100).fill(row)) });
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });
});
