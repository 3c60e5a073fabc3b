/**
 * Real runs for the browser tests, the UI benchmark and the README screenshots, logged through
 * REST API v1 of a running server (as any client would): an experiment of training runs with
 * params, metric histories, tags, dataset inputs and artifacts (text, JSON, CSV, a PNG image),
 * and one run left RUNNING for live updates.
 */
import { deflateSync } from 'node:zlib';
import { seededRandom } from '../../packages/core/src/index.js';

/** What {@link seedUi} created. */
export interface UiSeed {
  experimentId: string;
  experimentName: string;
  /** Every run, in creation order; `runs[0]` has the artifacts and dataset inputs. */
  runs: { runId: string; runName: string; model: string; auc: number }[];
  /** A run still RUNNING (for live updates). */
  liveRunId: string;
  /** Steps of the `loss` history of each finished run. */
  lossSteps: number;
}

/** Small deterministic pseudo-random numbers, so seeded data is the same each time. */
const random = seededRandom;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A real PNG (RGB, 8 bit) of `width` × `height` drawn by `pixel`, for the image preview. */
function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A tiny REST v1 caller: JSON in, JSON out, any non-2xx thrown with the server's message. */
export function restCaller(baseUrl: string, token?: string) {
  return async <T = unknown>(method: string, path: string, body?: unknown, raw?: Buffer | string): Promise<T> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (raw !== undefined) headers['content-type'] = 'application/octet-stream';
    const res = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers,
      body: raw ?? (body === undefined ? null : JSON.stringify(body)),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
}

/**
 * Seeds `runCount` finished runs (2 models, learning rates, depths; `auc`, `accuracy`, and a
 * `loss` history of `lossSteps` points) plus one RUNNING run into a new experiment.
 *
 * @example const seed = await seedUi(server.url, { runCount: 24 });
 */
export async function seedUi(
  baseUrl: string,
  options: { runCount?: number; lossSteps?: number; token?: string; name?: string } = {},
): Promise<UiSeed> {
  const { runCount = 24, lossSteps = 2000, name = 'fraud-detection' } = options;
  const call = restCaller(baseUrl, options.token);
  const rand = random(7);
  const { experimentId } = await call<{ experimentId: string }>('POST', '/experiments', {
    name,
    tags: [{ key: 'team', value: 'risk' }],
  });
  const t0 = Date.UTC(2026, 11, 1, 9, 0, 0);
  const runs: UiSeed['runs'] = [];
  for (let i = 0; i < runCount; i++) {
    const model = i % 3 === 0 ? 'linear' : 'gbdt';
    const lr = [0.3, 0.1, 0.03][i % 3] ?? 0.1;
    const depth = 3 + (i % 5);
    const runName = `${model}-lr${lr}-d${depth}-${String(i).padStart(2, '0')}`;
    const start = t0 + i * 600_000;
    const { info } = await call<{ info: { runId: string } }>('POST', '/runs', {
      experimentId,
      runName,
      startTime: start,
      userId: i % 2 === 0 ? 'ana' : 'ben',
      tags: [
        { key: 'team', value: i % 4 === 0 ? 'ops' : 'risk' },
        { key: 'mlflow.source.name', value: 'train.ts' },
      ],
    });
    const quality = (model === 'gbdt' ? 0.84 : 0.76) + depth * 0.008 - Math.abs(lr - 0.1) * 0.1 + rand() * 0.02;
    const auc = Number(quality.toFixed(4));
    const metrics: { key: string; value: number; timestamp: number; step: number }[] = [];
    for (let s = 0; s < lossSteps; s++) {
      metrics.push({
        key: 'loss',
        value: 0.7 * Math.exp(-s / (lossSteps / 4)) + (1 - auc) * 0.5 + (rand() - 0.5) * 0.02,
        timestamp: start + s * 100,
        step: s,
      });
    }
    for (let e = 0; e < 20; e++) {
      metrics.push({
        key: 'val_auc',
        value: auc - 0.2 * Math.exp(-e / 4) + rand() * 0.004,
        timestamp: start + e * 5000,
        step: e,
      });
    }
    metrics.push({ key: 'auc', value: auc, timestamp: start + 60_000, step: 0 });
    metrics.push({
      key: 'accuracy',
      value: Number((auc - 0.05 + rand() * 0.01).toFixed(4)),
      timestamp: start + 60_000,
      step: 0,
    });
    await call('POST', `/runs/${info.runId}/batch`, {
      params: [
        { key: 'model', value: model },
        { key: 'learning_rate', value: String(lr) },
        { key: 'max_depth', value: String(depth) },
        { key: 'n_estimators', value: String(model === 'gbdt' ? 200 : 1) },
        { key: 'seed', value: '42' },
      ],
    });
    for (let b = 0; b < metrics.length; b += 1000) {
      await call('POST', `/runs/${info.runId}/batch`, { metrics: metrics.slice(b, b + 1000) });
    }
    await call('PATCH', `/runs/${info.runId}`, { status: 'FINISHED', endTime: start + 60_000 + i * 1000 });
    runs.push({ runId: info.runId, runName, model, auc });
  }

  const first = runs[0];
  if (first !== undefined) {
    const id = first.runId;
    await call('POST', `/runs/${id}/inputs`, {
      inputs: [
        {
          dataset: {
            name: 'flights-2001-h1',
            digest: 'e3b0c44298fc1c14',
            sourceType: 'local',
            source: 'data/flights-3m.parquet',
          },
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
        },
        {
          dataset: {
            name: 'flights-2001-h1-eval',
            digest: '9f86d081884c7d65',
            sourceType: 'local',
            source: 'data/flights-eval.parquet',
          },
          tags: [{ key: 'mlflow.data.context', value: 'evaluation' }],
        },
      ],
    });
    const put = (path: string, bytes: Buffer | string): Promise<unknown> =>
      call('PUT', `/runs/${id}/artifacts/${path}`, undefined, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    await put('metrics.json', JSON.stringify({ auc: first.auc, accuracy: first.auc - 0.05, threshold: 0.5 }));
    await put(
      'predictions.csv',
      [
        'id,label,score',
        ...Array.from({ length: 40 }, (_, k) => `${k},${k % 2},${(0.5 + Math.sin(k) / 2).toFixed(3)}`),
      ].join('\n'),
    );
    await put(
      'model/MLmodel',
      'flavors:\n  onnx:\n    onnx_version: 1.17.0\n  python_function:\n    loader_module: mlflow.onnx\n',
    );
    await put('model/README.txt', 'A gradient-boosted model trained on the flights of 2001.\n');
    await put(
      'plots/roc.png',
      png(160, 120, (x, y) => {
        const curve = 120 - Math.round(120 * Math.sqrt(x / 160));
        return Math.abs(y - curve) < 2
          ? [53, 99, 233]
          : Math.abs(y - (120 - (x * 120) / 160)) < 1
            ? [180, 180, 180]
            : [255, 255, 255];
      }),
    );
  }

  const { info: live } = await call<{ info: { runId: string } }>('POST', '/runs', {
    experimentId,
    runName: 'gbdt-live',
    startTime: Date.now() - 30_000,
  });
  await call('POST', `/runs/${live.runId}/batch`, {
    params: [{ key: 'model', value: 'gbdt' }],
    metrics: Array.from({ length: 50 }, (_, s) => ({
      key: 'loss',
      value: 1 / (s + 1),
      timestamp: Date.now(),
      step: s,
    })),
  });
  return { experimentId, experimentName: name, runs, liveRunId: live.runId, lossSteps };
}
