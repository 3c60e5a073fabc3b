import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from './local-artifact-store.js';
import { openArtifactStore } from './open-artifact-store.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const ARTIFACTS_INDEX = pathToFileURL(fileURLToPath(new URL('./index.ts', import.meta.url))).href;

// Runs in a fresh Node process (vitest's own module graph would hide what a real program
// loads): opens a store through the public index, uses it, and prints every module that was
// loaded, seen both by an ESM resolve hook and in the CommonJS require cache.
const PROBE = `
import { register, createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const [indexUrl, uri, log] = process.argv.slice(1);
const hooks = \`
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\\\n');
  return result;
}\`;
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { log } });
const { openArtifactStore } = await import(indexUrl);
const store = await openArtifactStore(uri, { s3Endpoint: 'http://127.0.0.1:9', s3Credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
if (uri.startsWith('s3:')) {
  await store.close();
} else {
  await store.put('probe/a.txt', 'hello');
  await store.list('probe');
  await store.stat('probe/a.txt');
}
const loaded = [...readFileSync(log, 'utf8').split('\\n'), ...Object.keys(createRequire(import.meta.url).cache)];
console.log(JSON.stringify({ rootUri: store.rootUri, loaded }));
`;

async function probe(uri: string, dir: string): Promise<{ rootUri: string; loaded: string[] }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', PROBE, ARTIFACTS_INDEX, uri, join(dir, 'modules.log')],
    { cwd: REPO_ROOT },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { rootUri: string; loaded: string[] };
}

describe('openArtifactStore', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trestle-open-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens a local folder for a plain absolute path, a relative path and a file: URL', async () => {
    const absolute = await openArtifactStore(join(dir, 'a'));
    expect(absolute).toBeInstanceOf(LocalArtifactStore);
    expect(absolute.rootUri).toBe(pathToFileURL(join(dir, 'a')).href);

    const relative = await openArtifactStore('.trestle/artifacts', { cwd: dir });
    expect(relative.rootUri).toBe(pathToFileURL(join(dir, '.trestle', 'artifacts')).href);

    const url = await openArtifactStore(pathToFileURL(join(dir, 'b')).href);
    expect(url).toBeInstanceOf(LocalArtifactStore);
    await url.put('x.txt', 'y');
    expect(await (await openArtifactStore(join(dir, 'b'))).list()).toEqual([{ path: 'x.txt', isDir: false, size: 1 }]);
  });

  it('takes a one-letter scheme for a Windows drive, not a URI scheme', async () => {
    expect(await openArtifactStore('c:/artifacts', { cwd: dir })).toBeInstanceOf(LocalArtifactStore);
  });

  it('opens S3 for s3://bucket/prefix, with the prefix normalised', async () => {
    const store = await openArtifactStore('s3://ml-artifacts/team-a//prod/', { s3Region: 'eu-west-1' });
    try {
      expect(store.constructor.name).toBe('S3ArtifactStore');
      expect(store.rootUri).toBe('s3://ml-artifacts/team-a/prod');
    } finally {
      await store.close();
    }
  });

  it('refuses an unknown scheme with INVALID_ARGUMENT naming the supported ones', async () => {
    const error = await openArtifactStore('gs://bucket/x').catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { scheme: 'gs', supported: ['file', 's3'] } });
    expect((error as Error).message).toMatch(/'gs:'.*file:\/\/\/path.*s3:\/\/bucket\/prefix/);
  });

  it('refuses malformed URIs with INVALID_ARGUMENT', async () => {
    for (const uri of [
      '',
      '   ',
      's3://',
      's3://Bad_Bucket!/x',
      's3://bucket/../x',
      's3://bucket/x?versionId=1',
      'file://remote-host/x',
    ]) {
      await expect(openArtifactStore(uri)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('loads the AWS SDK only when an s3:// store is opened', { timeout: 60_000 }, async () => {
    const [local, s3] = await Promise.all([
      probe(join(dir, 'local-root'), await mkdtemp(join(dir, 'l-'))),
      probe('s3://bucket/prefix', await mkdtemp(join(dir, 's-'))),
    ]);
    expect(local.rootUri).toBe(pathToFileURL(join(dir, 'local-root')).href);
    expect(local.loaded.some((url) => url.includes('/artifacts/local-artifact-store.ts'))).toBe(true);
    expect(local.loaded.filter((url) => url.includes('@aws-sdk') || url.includes('@smithy'))).toEqual([]);
    // The same probe sees the SDK once S3 is used, so the empty list above is not a blind spot.
    expect(s3.rootUri).toBe('s3://bucket/prefix');
    expect(s3.loaded.some((url) => url.includes('@aws-sdk/client-s3'))).toBe(true);
    expect(s3.loaded.some((url) => url.includes('@aws-sdk/lib-storage'))).toBe(true);
  });
});
