import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalArtifactStore, openArtifactStore } from '@trestle/store';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverProcess } from '@trestle/store/testing';
import { afterAll, beforeAll } from 'vitest';
import { dataRemoteContract } from '../testing/remote-contract.js';

let s3: S3rverProcess;
let count = 0;

beforeAll(async () => {
  s3 = await startS3rver();
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
  });
  await client.send(new CreateBucketCommand({ Bucket: 'data' }));
  client.destroy();
});

afterAll(async () => {
  await s3?.stop();
});

dataRemoteContract('local folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trestle-remote-folder-'));
  return { store: new LocalArtifactStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

dataRemoteContract('S3 (s3rver)', async () => {
  const store = await openArtifactStore(`s3://data/remote-${++count}`, {
    s3Endpoint: s3.endpoint,
    s3Credentials: S3RVER_CREDENTIALS,
  });
  return {
    store,
    cleanup: async () => {
      await store.delete('');
      await store.close();
    },
  };
});
