import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ArtifactStore } from '@trestle/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataRepo } from '../data/data-repo.js';
import { ObjectCache } from '../data/object-cache.js';
import { pullObjects, pushObjects, remoteHas } from '../data/remote.js';

/** A fresh, empty remote for one test, and how to dispose of it. */
export interface RemoteFixture {
  store: ArtifactStore;
  cleanup(): Promise<void>;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Wraps a store so that its first `failures` calls of `method` fail as a flaky network would. */
function flaky(store: ArtifactStore, method: 'put' | 'get', failures: number): ArtifactStore & { calls: number } {
  let left = failures;
  const wrapped = {
    calls: 0,
    rootUri: store.rootUri,
    put: (path: string, body: Parameters<ArtifactStore['put']>[1]) => {
      wrapped.calls++;
      if (method === 'put' && left-- > 0) {
        if (body instanceof Readable) body.destroy();
        return Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      }
      return store.put(path, body);
    },
    get: (path: string) => {
      wrapped.calls++;
      if (method === 'get' && left-- > 0) return Promise.reject(new Error('connection reset'));
      return store.get(path);
    },
    stat: (path: string) => store.stat(path),
    list: (dir?: string) => store.list(dir),
    delete: (path: string) => store.delete(path),
    close: () => store.close(),
  };
  return wrapped;
}

/**
 * The contract every data remote passes (after DVC's `remote_tests.py`): push moves only what
 * the remote lacks, status tells new / ok, pull brings back exactly the bytes into an empty
 * cache and checkout restores the workspace, transient failures are retried, and corrupted
 * objects are refused. One line per remote:
 *
 * @example dataRemoteContract('folder', async () => ({ store: new LocalArtifactStore(dir), cleanup }));
 */
export function dataRemoteContract(name: string, open: () => Promise<RemoteFixture>): void {
  describe(`data remote contract: ${name}`, () => {
    let root: string;
    let repo: DataRepo;
    let fixture: RemoteFixture;

    const write = (rel: string, content: string): void => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), content);
    };

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'trestle-remote-'));
      repo = new DataRepo({ root, threads: 2 });
      fixture = await open();
    });

    afterEach(async () => {
      await repo.close();
      await fixture.cleanup();
      await rm(root, { recursive: true, force: true });
    });

    it('push sends only missing objects; pull into an empty cache restores the data byte for byte', async () => {
      write('foo', 'foo');
      write('data_dir/data', 'data');
      write('data_dir/data_sub_dir/data_sub', 'data_sub');
      write('data_dir/empty', '');
      const added = await repo.add(['foo', 'data_dir'], root);
      const { objects } = await repo.objectsOf(added);
      expect(objects.size).toBe(5); // foo, the manifest and its three files (the empty one too)

      expect((await remoteHas(fixture.store, objects)).size).toBe(0);
      const first = await pushObjects(repo.cache, fixture.store, objects, { jobs: 4 });
      expect(first).toMatchObject({ transferred: 5, skipped: 0 });
      expect(await remoteHas(fixture.store, objects)).toEqual(objects);
      const second = await pushObjects(repo.cache, fixture.store, objects, { jobs: 4 });
      expect(second).toMatchObject({ transferred: 0, skipped: 5, bytes: 0 });

      // A new clone: the pointers only, an empty cache.
      await rm(repo.cache.dir, { recursive: true, force: true });
      await rm(join(root, 'foo'));
      await rm(join(root, 'data_dir'), { recursive: true });
      const pulled = await pullObjects(repo.cache, fixture.store, objects, { jobs: 4 });
      expect(pulled).toMatchObject({ transferred: 5, skipped: 0 });
      expect(readFileSync(repo.cache.objectPath(sha('foo')), 'utf8')).toBe('foo');
      await repo.checkout(repo.findPointers());
      expect(readFileSync(join(root, 'foo'), 'utf8')).toBe('foo');
      expect(readFileSync(join(root, 'data_dir/data_sub_dir/data_sub'), 'utf8')).toBe('data_sub');
      expect(readFileSync(join(root, 'data_dir/empty'), 'utf8')).toBe('');
      expect((await repo.status(repo.findPointers())).map((s) => s.state)).toEqual(['unchanged', 'unchanged']);
      // Pulling again moves nothing.
      expect(await pullObjects(repo.cache, fixture.store, objects)).toMatchObject({ transferred: 0, skipped: 5 });
    });

    it('retries transient failures of uploads and downloads', async () => {
      write('a', 'aaa');
      write('b', 'bbb');
      const added = await repo.add(['a', 'b'], root);
      const hashes = added.map((a) => a.sha256);
      const up = flaky(fixture.store, 'put', 3);
      expect(await pushObjects(repo.cache, up, hashes, { jobs: 1, attempts: 5 })).toMatchObject({ transferred: 2 });
      expect(up.calls).toBe(5);
      await rm(repo.cache.dir, { recursive: true, force: true });
      const down = flaky(fixture.store, 'get', 2);
      expect(await pullObjects(repo.cache, down, hashes, { jobs: 1, attempts: 5 })).toMatchObject({ transferred: 2 });
      expect(readFileSync(repo.cache.objectPath(sha('bbb')), 'utf8')).toBe('bbb');
    });

    it('refuses an object whose bytes do not match its hash, and reports one the remote lacks', async () => {
      write('c', 'the real content');
      const [added] = await repo.add(['c'], root);
      await fixture.store.put(ObjectCache.remoteKey(added!.sha256), 'tampered');
      await rm(repo.cache.dir, { recursive: true, force: true });
      await expect(pullObjects(repo.cache, fixture.store, [added!.sha256], { attempts: 2 })).rejects.toMatchObject({
        code: 'UNAVAILABLE',
      });
      expect(repo.cache.has(added!.sha256)).toBe(false);
      await expect(pullObjects(repo.cache, fixture.store, [sha('never pushed')])).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining('trestle data push') as unknown,
      });
    });
  });
}
