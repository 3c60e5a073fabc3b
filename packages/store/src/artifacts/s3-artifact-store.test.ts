import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactStoreContract } from '../testing/artifact-contract.js';
import { startS3rver, type S3rverProcess } from '../testing/s3rver.js';
import { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3-artifact-store.js';

const BUCKET = 'trestle-test';
const PREFIX = 'some/prefix';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

let server: S3rverProcess | undefined;
let dataDir: string;
let endpoint: string;
let raw: S3Client;
let storeCount = 0;

function storeOptions(): S3ArtifactStoreOptions {
  // The smallest part size S3 allows, so that the contract's 12 MiB stream is a three-part
  // upload and its 6 MiB failing stream aborts a multipart upload after one part.
  return { endpoint, credentials, partSize: 5 * 1024 * 1024 };
}

function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

async function allKeys(bucket = BUCKET, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'trestle-s3rver-'));
  server = await startS3rver(dataDir);
  endpoint = server.endpoint;
  raw = new S3Client({
    endpoint,
    credentials,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  raw?.destroy();
  await server?.stop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

artifactStoreContract('S3 (s3rver)', () => {
  const prefix = `${PREFIX}/${++storeCount}`;
  const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/${prefix}`, storeOptions());
  return Promise.resolve({
    store,
    cleanup: async () => {
      await store.delete('');
      await store.close();
    },
    outside: async () => (await allKeys()).filter((key) => !key.startsWith(`${prefix}/`)),
  });
});

describe('S3ArtifactStore specifics', () => {
  it('sends a small body in one request carrying its checksum as object metadata', async () => {
    const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/specifics/small`, storeOptions());
    try {
      expect(store.rootUri).toBe(`s3://${BUCKET}/specifics/small`);
      await store.put('m/model.json', '{}');
      expect(await allKeys(BUCKET, 'specifics/small/')).toEqual(['specifics/small/m/model.json']);
      const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'specifics/small/m/model.json' }));
      expect(head.Metadata).toEqual({ 'trestle-sha256': sha256('{}') });
    } finally {
      await store.delete('');
      await store.close();
    }
  });

  it('records the checksum of a multipart upload in a sidecar that matches the object, hidden from listings', async () => {
    const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/specifics/big`, storeOptions());
    try {
      const content = Buffer.alloc(6 * 1024 * 1024 + 1, 'x');
      await store.put('m/weights.bin', Readable.from([content.subarray(0, 1000), content.subarray(1000)]));
      expect((await allKeys(BUCKET, 'specifics/big/')).sort()).toEqual([
        'specifics/big/.trestle-meta/sha256/m/weights.bin',
        'specifics/big/m/weights.bin',
      ]);
      const sidecar = await raw.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: 'specifics/big/.trestle-meta/sha256/m/weights.bin' }),
      );
      const record = JSON.parse((await buffer(sidecar.Body as NodeJS.ReadableStream)).toString()) as unknown;
      const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'specifics/big/m/weights.bin' }));
      // The ETag recorded at upload must be the one HEAD reports, or every stat would download the object again.
      expect(record).toEqual({ sha256: sha256(content), size: content.length, etag: head.ETag });
      expect(head.ETag).toMatch(/^"[0-9a-f]{32}(-\d+)?"$/);
      expect(await store.list()).toEqual([{ path: 'm', isDir: true }]);
      expect(await store.stat('m/weights.bin')).toEqual({
        path: 'm/weights.bin',
        size: content.length,
        sha256: sha256(content),
      });
    } finally {
      await store.delete('');
      await store.close();
    }
  });

  it('hashes again an object replaced behind its back', async () => {
    const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/specifics/replaced`, storeOptions());
    try {
      await store.put('small.txt', 'first');
      await store.put('big.bin', Readable.from([Buffer.alloc(6 * 1024 * 1024, 1)]));
      for (const key of ['small.txt', 'big.bin']) {
        await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `specifics/replaced/${key}`, Body: 'second!' }));
        expect(await store.stat(key)).toEqual({ path: key, size: 7, sha256: sha256('second!') });
      }
    } finally {
      await store.delete('');
      await store.close();
    }
  });

  it('works on a whole bucket, without a prefix', async () => {
    await raw.send(new CreateBucketCommand({ Bucket: 'trestle-whole' }));
    const store = S3ArtifactStore.fromUri('s3://trestle-whole', storeOptions());
    try {
      await store.put('x/y.txt', 'y');
      expect(await store.list()).toEqual([{ path: 'x', isDir: true }]);
      await store.delete('');
      expect(await allKeys('trestle-whole')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('lets a file and a directory share a name, unlike a local folder', async () => {
    const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/specifics/shared`, storeOptions());
    try {
      await store.put('a', 'file');
      await store.put('a/b', 'nested');
      expect(await store.list()).toEqual([
        { path: 'a', isDir: true },
        { path: 'a', isDir: false, size: 4 },
      ]);
    } finally {
      await store.delete('');
      await store.close();
    }
  });

  it('answers FAILED_PRECONDITION for a missing bucket', async () => {
    const store = S3ArtifactStore.fromUri('s3://no-such-bucket/p', storeOptions());
    try {
      await expect(store.put('x', 'y')).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
      await expect(store.list()).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
      await expect(store.checkAccess()).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION',
        details: { problem: 'bucket-missing' },
      });
    } finally {
      await store.close();
    }
  });

  it('passes its access check with credentials S3 accepts', async () => {
    const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/specifics/access`, storeOptions());
    try {
      await expect(store.checkAccess()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  // The store's credentials are the server's configuration, not the caller's: never UNAUTHENTICATED (401).
  // (s3rver does not verify SigV4 signatures, so a wrong secret cannot be shown here; it maps the same way.)
  it.each([['an unknown access key', { accessKeyId: 'NOBODY', secretAccessKey: 'S3RVER' }, 'InvalidAccessKeyId']])(
    'answers a storage error saying what to check for %s',
    async (_what, wrong, s3Code) => {
      const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/p`, { endpoint, credentials: wrong, maxAttempts: 1 });
      try {
        for (const attempt of [() => store.checkAccess(), () => store.put('x', 'y'), () => store.list()]) {
          const error = (await attempt().then(
            () => undefined,
            (err: unknown) => err,
          )) as Error & { code: string; details: Record<string, unknown> };
          expect(error).toMatchObject({
            code: 'FAILED_PRECONDITION',
            details: { problem: 'credentials-rejected', s3Code },
          });
          expect(error.message).toContain('check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
          expect(error.message).toContain(endpoint);
        }
      } finally {
        await store.close();
      }
    },
  );

  it('answers a storage error naming the variables to set when there are no credentials at all', async () => {
    const saved = { ...process.env };
    const dir = await mkdtemp(join(tmpdir(), 'trestle-no-aws-'));
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    // No shared files, no instance metadata (it would ask a link-local address): nothing to find.
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(dir, 'credentials');
    process.env['AWS_CONFIG_FILE'] = join(dir, 'config');
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
    const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/p`, { endpoint, maxAttempts: 1 });
    try {
      for (const attempt of [() => store.checkAccess(), () => store.put('x', 'y'), () => store.get('x')]) {
        const error = (await attempt().then(
          () => undefined,
          (err: unknown) => err,
        )) as Error & { code: string };
        expect(error).toMatchObject({ code: 'FAILED_PRECONDITION', details: { problem: 'credentials-missing' } });
        expect(error.message).toContain('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
      }
    } finally {
      await store.close();
      process.env = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers UNAVAILABLE naming the endpoint when nothing listens there', async () => {
    const deadEndpoint = `http://127.0.0.1:${await freePort()}`;
    const store = S3ArtifactStore.fromUri(`s3://${BUCKET}/p`, { endpoint: deadEndpoint, credentials, maxAttempts: 1 });
    try {
      for (const attempt of [() => store.get('x'), () => store.list(), () => store.put('x', 'y')]) {
        const error = await attempt().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toMatchObject({ code: 'UNAVAILABLE' });
        expect((error as Error).message).toContain(deadEndpoint);
      }
    } finally {
      await store.close();
    }
  });
});
