import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverProcess } from '../packages/store/src/testing/s3rver.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';

/**
 * A `trestle server` whose artifact store is S3 but which has no credentials for it: the
 * problem is the server's configuration, so it is said at start-up, `/ready` answers 503 saying
 * what to set, and an upload is a storage error (412 FAILED_PRECONDITION), never 401
 * UNAUTHENTICATED, which would tell the caller that their own token is wrong.
 */

const BUCKET = 'trestle-creds';
let s3: S3rverProcess;
let home: string;
const servers: ServerProcess[] = [];
/** The three servers, started at once (each takes seconds to load). */
let none: ServerProcess;
let rejected: ServerProcess;
let good: ServerProcess;

/** The environment of a server child with no AWS credentials anywhere it looks. */
function withoutCredentials(dir: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_WEB_IDENTITY_TOKEN_FILE: '',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    // Instance metadata lives on a link-local address, which tests never ask.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

async function start(name: string, env: Record<string, string>): Promise<ServerProcess> {
  const server = await spawnServer({
    env: {
      TRESTLE_DB: join(home, `${name}.db`),
      TRESTLE_ARTIFACTS: `s3://${BUCKET}/${name}`,
      TRESTLE_S3_ENDPOINT: s3.endpoint,
      ...withoutCredentials(home),
      ...env,
    },
  });
  servers.push(server);
  return server;
}

async function createRun(server: ServerProcess): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experimentId: '0' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { info: { runId: string } }).info.runId;
}

const put = (server: ServerProcess, runId: string): Promise<Response> =>
  fetch(`${server.url}/api/v1/runs/${runId}/artifacts/model.json`, { method: 'PUT', body: '{"w":[1,2]}' });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'trestle-s3-creds-'));
  s3 = await startS3rver();
  const raw = new S3Client({
    endpoint: s3.endpoint,
    credentials: S3RVER_CREDENTIALS,
    region: 'us-east-1',
    forcePathStyle: true,
  });
  await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
  raw.destroy();
  [none, rejected, good] = await Promise.all([
    start('none', {}),
    start('rejected', { AWS_ACCESS_KEY_ID: 'NOBODY', AWS_SECRET_ACCESS_KEY: 'x' }),
    start('good', {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(15_000)));
  await s3?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('trestle server with an S3 artifact store', () => {
  it('without credentials: says so at start-up, /ready is 503 naming what to set, an upload is 412 not 401', async () => {
    const server = none;
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(503);
    const readyBody = (await ready.json()) as { status: string; message: string };
    expect(readyBody.status).toBe('unavailable');
    expect(readyBody.message).toContain('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    // The probe is public: it names no endpoint.
    expect(readyBody.message).not.toContain(s3.endpoint);

    const runId = await createRun(server);
    const upload = await put(server, runId);
    expect(upload.status).toBe(412);
    const { error } = (await upload.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.message).toContain(`s3://${BUCKET}/none`);
    expect(error.message).toContain('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');

    const listing = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts`);
    expect(listing.status).toBe(412);

    await expect.poll(() => server.output(), { timeout: 10_000 }).toContain('cannot be used');
    expect(server.output()).toMatch(/artifact store s3:\/\/trestle-creds\/none cannot be used: .*no S3 credentials/);
  });

  it('with an access key S3 does not know: /ready and uploads say the credentials were rejected', async () => {
    const server = rejected;
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { message: string }).message).toContain('S3 rejected the credentials');
    const upload = await put(server, await createRun(server));
    expect(upload.status).toBe(412);
    expect(((await upload.json()) as { error: { message: string } }).error.message).toContain('InvalidAccessKeyId');
  });

  it('with credentials S3 accepts: /ready is 200 and the upload lands', async () => {
    const server = good;
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const runId = await createRun(server);
    expect((await put(server, runId)).ok).toBe(true);
    const back = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts/model.json`);
    expect(await back.text()).toBe('{"w":[1,2]}');
  });
});
