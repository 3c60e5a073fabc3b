import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proxiedArtifactKey } from './artifacts.js';
import { startMlflowTestApp, type MlflowTestApp } from './test-support.js';

let t: MlflowTestApp;
let experimentId: string;
let runId: string;
let runRoot: string;

beforeEach(async () => {
  t = await startMlflowTestApp();
  experimentId = (await t.post('/experiments/create', { name: 'artifacts' })).json.experiment_id;
  const run = (await t.post('/runs/create', { experiment_id: experimentId })).json.run;
  runId = run.info.run_id;
  expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
  runRoot = `${experimentId}/${runId}/artifacts`;
});
afterEach(async () => {
  await t.close();
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const filesUrl = (path: string): string => `/api/2.0/mlflow-artifacts/artifacts/${path}`;

describe('proxied artifact service', () => {
  it('round-trips a multi-MB file byte for byte: upload, list, download, delete', async () => {
    const bytes = randomBytes(6 * 1024 * 1024 + 123);
    // MLflow sends the guessed MIME type; even application/json must pass through unparsed.
    const put = await t.inject({
      method: 'PUT',
      url: filesUrl(`${runRoot}/data/blob.json`),
      payload: bytes,
      headers: { 'content-type': 'application/json' },
    });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({});
    expect((await t.artifacts.stat(`${runRoot}/data/blob.json`)).sha256).toBe(sha256(bytes));

    const top = await t.inject({
      method: 'GET',
      url: `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(runRoot)}`,
    });
    expect(top.json).toEqual({ files: [{ path: 'data', is_dir: true }] });
    const inner = await t.inject({
      method: 'GET',
      url: `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${runRoot}/data`)}`,
    });
    expect(inner.json).toEqual({ files: [{ path: 'blob.json', is_dir: false, file_size: bytes.length }] });

    const download = await t.app.inject({ method: 'GET', url: filesUrl(`${runRoot}/data/blob.json`) });
    expect(download.statusCode).toBe(200);
    // MLflow sends JSON (and its other text extensions) as text/plain, for the web UI to show.
    expect(download.headers['content-type']).toBe('text/plain');
    expect(download.headers['content-disposition']).toContain('filename="blob.json"');
    expect(download.rawPayload.length).toBe(bytes.length);
    expect(sha256(download.rawPayload)).toBe(sha256(bytes));

    const del = await t.inject({ method: 'DELETE', url: filesUrl(`${runRoot}/data/blob.json`) });
    expect(del.status).toBe(200);
    expect(del.json).toEqual({});
    const gone = await t.inject({ method: 'GET', url: filesUrl(`${runRoot}/data/blob.json`) });
    expect(gone.status).toBe(404);
    expect(gone.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(await t.artifactFiles()).toEqual([]);
  });

  it('decodes percent-encoded names and lists with {} when empty', async () => {
    const put = await t.inject({
      method: 'PUT',
      url: filesUrl(`${runRoot}/my%20plot.png`),
      payload: Buffer.from('png'),
      headers: { 'content-type': 'image/png' },
    });
    expect(put.status).toBe(200);
    expect(await t.artifactFiles()).toEqual([`${runRoot}/my plot.png`]);
    const empty = await t.inject({
      method: 'GET',
      url: `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${runRoot}/none`)}`,
    });
    expect(empty.json).toEqual({});
  });

  it('stores an upload without a body as an empty file', async () => {
    const put = await t.inject({ method: 'PUT', url: filesUrl(`${runRoot}/empty.txt`) });
    expect(put.status).toBe(200);
    expect((await t.artifacts.stat(`${runRoot}/empty.txt`)).size).toBe(0);
  });

  it.each([
    ['an encoded slash', '1/a%2F..%2F..%2Fescape.txt'],
    ['an encoded backslash', 'a%5C..%5Cescape.txt'],
    ['an absolute path', '/etc/escape.txt'],
    ['a double-encoded dot segment', 'a/%252e%252e/%252e%252e/escape.txt'],
    ['the store’s own records', '.trestle-meta/sha256/escape.txt'],
  ])('refuses %s with 400 before writing anything', async (_what, path) => {
    const res = await t.inject({
      method: 'PUT',
      url: filesUrl(path),
      payload: Buffer.from('evil'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(await t.artifactFiles()).toEqual([]);
  });

  it('refuses traversal in a list path', async () => {
    const res = await t.inject({ method: 'GET', url: '/api/2.0/mlflow-artifacts/artifacts?path=..%2F..%2Fetc' });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    // The run's artifacts/list answers MLflow's "Invalid path".
    const list = await t.get('/artifacts/list', { run_id: runId, path: '../x' });
    expect(list.status).toBe(400);
    expect(list.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(list.json.message).toMatch(/^Invalid path/);
  });

  it('serves /get-artifact (the web UI’s viewer) with MLflow’s type, and errors in MLflow’s shape', async () => {
    await t.artifacts.put(`${runRoot}/plots/roc.png`, Buffer.from('png bytes'));
    const res = await t.app.inject({ method: 'GET', url: `/get-artifact?run_uuid=${runId}&path=plots/roc.png` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.body).toBe('png bytes');
    const escape = await t.inject({ method: 'GET', url: `/get-artifact?run_id=${runId}&path=../x` });
    expect(escape.status).toBe(400);
    expect(escape.json.message).toMatch(/^Invalid path/);
    const missing = await t.inject({ method: 'GET', url: `/get-artifact?run_id=${runId}&path=nope.txt` });
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('sends each download with the Content-Type MLflow guesses from its name', async () => {
    const cases: [string, string][] = [
      ['roc.png', 'image/png'],
      ['photo.JPG', 'image/jpeg'],
      ['report.pdf', 'application/pdf'],
      ['train.log', 'text/plain'],
      ['model/MLmodel', 'text/plain'],
      ['conda.yaml', 'text/plain'],
      ['page.html', 'text/html'],
      ['model.onnx', 'application/octet-stream'],
    ];
    for (const [name, type] of cases) {
      await t.artifacts.put(`${runRoot}/${name}`, Buffer.from('x'));
      const res = await t.app.inject({ method: 'GET', url: filesUrl(`${runRoot}/${name}`) });
      expect(res.headers['content-type'], name).toBe(type);
      expect(res.headers['x-content-type-options'], name).toBe('nosniff');
      expect(res.headers['content-disposition'], name).toMatch(/^attachment;/);
    }
  });

  // app.inject parses URLs as browsers do (dot segments resolved, `\` read as `/`), so these go over a socket.
  it('refuses raw `..`, `%2e%2e` and backslashes sent over a real socket (clients that do not normalise URLs)', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const send = (path: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'PUT',
            path,
            headers: { 'content-type': 'text/plain', 'content-length': '4' },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end('evil');
      });
    for (const path of [
      filesUrl(`${runRoot}/../../../../escape.txt`),
      filesUrl(`${runRoot}/%2e%2e/%2E%2E/escape.txt`),
      filesUrl(`${runRoot}/.%2e/escape.txt`),
      filesUrl(`${runRoot}/a\\..\\..\\escape.txt`),
      '/api/2.0/mlflow-artifacts/artifacts/../../../escape.txt',
    ]) {
      const res = await send(path);
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body).error_code, path).toBe('INVALID_PARAMETER_VALUE');
    }
    expect(await t.artifactFiles()).toEqual([]);
  });

  it('streams a chunked 24 MB upload and its download over a real socket, byte for byte', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const chunks = Array.from({ length: 24 }, () => randomBytes(1024 * 1024));
    const expected = createHash('sha256');
    for (const c of chunks) expected.update(c);
    const path = filesUrl(`${runRoot}/big/model.bin`);

    const uploaded = await new Promise<number>((resolve, reject) => {
      // No content-length: the body arrives chunked, as a streaming client sends it.
      const req = httpRequest(
        { host: '127.0.0.1', port, method: 'PUT', path, headers: { 'content-type': 'application/octet-stream' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      for (const c of chunks) req.write(c);
      req.end();
    });
    expect(uploaded).toBe(200);

    const downloaded = await new Promise<{ status: number; sha: string; size: number }>((resolve, reject) => {
      const hash = createHash('sha256');
      let size = 0;
      httpRequest({ host: '127.0.0.1', port, method: 'GET', path }, (res) => {
        res.on('data', (c: Buffer) => {
          hash.update(c);
          size += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, sha: hash.digest('hex'), size }));
      })
        .on('error', reject)
        .end();
    });
    expect(downloaded).toEqual({ status: 200, sha: expected.digest('hex'), size: 24 * 1024 * 1024 });
  });

  it('answers multipart uploads with NOT_IMPLEMENTED and the message MLflow clients fall back on', async () => {
    const res = await t.inject({
      method: 'POST',
      url: `/api/2.0/mlflow-artifacts/mpu/create/${runRoot}`,
      payload: { path: 'big.bin', num_parts: 3 },
    });
    expect(res.status).toBe(501);
    expect(res.json).toEqual({
      error_code: 'NOT_IMPLEMENTED',
      message: 'Multipart upload is not supported for the current artifact repository',
    });
  });

  it('is also served under /ajax-api/2.0', async () => {
    const put = await t.inject({
      method: 'PUT',
      url: `/ajax-api/2.0/mlflow-artifacts/artifacts/${runRoot}/a.txt`,
      payload: Buffer.from('a'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.status).toBe(200);
    expect(await t.artifactFiles()).toEqual([`${runRoot}/a.txt`]);
  });
});

describe('proxiedArtifactKey', () => {
  it('decodes each segment and keeps the store key', () => {
    expect(proxiedArtifactKey('1/ab/artifacts/model/MLmodel')).toBe('1/ab/artifacts/model/MLmodel');
    expect(proxiedArtifactKey('1/ab/artifacts/%C3%A9t%C3%A9.txt')).toBe('1/ab/artifacts/été.txt');
  });
  it('refuses malformed percent-encoding', () => {
    expect(() => proxiedArtifactKey('a/%zz')).toThrow(/malformed percent-encoding/);
  });
});

describe('mlflow/artifacts/list and presigned URLs', () => {
  beforeEach(async () => {
    await t.artifacts.put(`${runRoot}/model/MLmodel`, 'flavors: {}');
    await t.artifacts.put(`${runRoot}/metrics.json`, '{}');
  });

  it('lists a run’s artifacts relative to its root, with root_uri', async () => {
    const top = await t.get('/artifacts/list', { run_id: runId });
    expect(top.status).toBe(200);
    expect(top.json).toEqual({
      root_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
      files: [
        { path: 'metrics.json', is_dir: false, file_size: 2 },
        { path: 'model', is_dir: true },
      ],
    });
    const model = await t.get('/artifacts/list', { run_id: runId, path: 'model' });
    expect(model.json.files).toEqual([{ path: 'model/MLmodel', is_dir: false, file_size: 11 }]);
    const none = await t.get('/artifacts/list', { run_id: runId, path: 'nothing' });
    expect(none.json).toEqual({ root_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts` });
  });

  it('refuses traversal and answers a missing run with 404', async () => {
    expect((await t.get('/artifacts/list', { run_id: runId, path: '../../other' })).status).toBe(400);
    expect((await t.get('/artifacts/list', { run_id: 'a'.repeat(32) })).status).toBe(404);
  });

  it('answers presigned URLs with this server’s proxied URL for the file', async () => {
    const up = await t.post('/artifacts/presigned-upload-url', { run_id: runId, path: 'model/new file.pkl' });
    expect(up.status).toBe(200);
    expect(up.json).toEqual({
      presigned_url: `http://localhost:80/api/2.0/mlflow-artifacts/artifacts/${runRoot}/model/new%20file.pkl`,
    });
    const down = await t.post('/artifacts/presigned-download-url', { run_id: runId, path: 'model/MLmodel' });
    expect(down.json).toEqual({
      presigned_url: `http://localhost:80/api/2.0/mlflow-artifacts/artifacts/${runRoot}/model/MLmodel`,
      file_size: 11,
    });
  });
});
