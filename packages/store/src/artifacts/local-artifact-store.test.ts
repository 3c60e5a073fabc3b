import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { artifactStoreContract } from '../testing/artifact-contract.js';
import { LocalArtifactStore } from './local-artifact-store.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

artifactStoreContract('local folder', async () => {
  const sandbox = await mkdtemp(join(tmpdir(), 'trestle-artifacts-'));
  await writeFile(join(sandbox, 'neighbour.txt'), 'outside the root');
  const root = join(sandbox, 'root');
  return {
    store: new LocalArtifactStore(root),
    cleanup: () => rm(sandbox, { recursive: true, force: true }),
    outside: async () => (await filesUnder(sandbox)).filter((path) => !path.startsWith(`root/`)),
  };
});

describe('LocalArtifactStore specifics', () => {
  let sandbox: string;
  let root: string;
  let store: LocalArtifactStore;

  beforeEach(async () => {
    sandbox = await mkdtemp(join(tmpdir(), 'trestle-artifacts-'));
    root = join(sandbox, 'root');
    store = new LocalArtifactStore(root);
  });
  afterEach(async () => {
    await store.close();
    await rm(sandbox, { recursive: true, force: true });
  });

  it('does no I/O until the first write, and reads from a missing root as empty', async () => {
    expect(store.rootUri).toBe(new URL(`file://${root}`).href);
    await expect(stat(root)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.list()).toEqual([]);
    await expect(store.get('x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.delete('x');
    await expect(stat(root)).rejects.toMatchObject({ code: 'ENOENT' });
    await store.put('x', 'y');
    expect((await stat(root)).isDirectory()).toBe(true);
  });

  it('records the checksum in a sidecar under .trestle-meta, hidden from listings', async () => {
    await store.put('m/model.json', '{}');
    const record = JSON.parse(await readFile(join(root, '.trestle-meta', 'sha256', 'm', 'model.json'), 'utf8')) as {
      sha256: string;
      size: number;
    };
    expect(record).toMatchObject({ sha256: sha256('{}'), size: 2 });
    expect(await store.list()).toEqual([{ path: 'm', isDir: true }]);
  });

  it('hashes again a file changed behind its back, or copied in by hand', async () => {
    await store.put('a.txt', 'first');
    await writeFile(join(root, 'a.txt'), 'changed in place, not through the store');
    expect(await store.stat('a.txt')).toEqual({
      path: 'a.txt',
      size: 39,
      sha256: sha256('changed in place, not through the store'),
    });
    await writeFile(join(root, 'copied.txt'), 'by hand');
    expect((await store.stat('copied.txt')).sha256).toBe(sha256('by hand'));
  });

  it('leaves no temporary file behind when the body fails', async () => {
    await store.put('keep.txt', 'old');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024, 1));
        this.destroy(new Error('disk source broke'));
      },
    });
    await expect(store.put('keep.txt', failing)).rejects.toThrow('disk source broke');
    expect((await filesUnder(root)).filter((path) => path.includes('.tmp-'))).toEqual([]);
    expect(await readFile(join(root, 'keep.txt'), 'utf8')).toBe('old');
  });

  it('hides temporary files of in-progress writes from listings', async () => {
    await store.put('d/real.txt', 'x');
    await writeFile(join(root, 'd', '.real.txt.tmp-0123456789abcdef'), 'partial');
    expect(await store.list('d')).toEqual([{ path: 'd/real.txt', isDir: false, size: 1 }]);
  });

  it('makes the folders of a new file only once its bytes are all written', async () => {
    await store.put('d/existing.txt', 'x');
    const body = new PassThrough();
    const writing = store.put('d/new/deeper/model.bin', body);
    body.write(Buffer.alloc(64 * 1024, 1));
    // The bytes go to a temporary file in the deepest folder that exists already.
    while (!(await readdir(join(root, 'd'))).some((name) => name.startsWith('.model.bin.tmp-'))) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await store.list('d')).toEqual([{ path: 'd/existing.txt', isDir: false, size: 1 }]);
    body.end(Buffer.alloc(1, 2));
    expect(await writing).toMatchObject({ path: 'd/new/deeper/model.bin', size: 64 * 1024 + 1 });
    expect(await store.list('d/new')).toEqual([{ path: 'd/new/deeper', isDir: true }]);
    expect((await filesUnder(root)).filter((path) => path.includes('.tmp-'))).toEqual([]);
  });

  it('answers CONFLICT when a file stands where a directory is needed, and the reverse', async () => {
    await store.put('a', 'file');
    await expect(store.put('a/b', 'x')).rejects.toMatchObject({ code: 'CONFLICT' });
    await store.put('dir/x', 'x');
    await expect(store.put('dir', 'x')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await readFile(join(root, 'a'), 'utf8')).toBe('file');
  });

  describe('symbolic links', () => {
    let outside: string;

    beforeEach(async () => {
      outside = join(sandbox, 'outside');
      await mkdir(outside);
      await writeFile(join(outside, 'secret.txt'), 'secret');
      await store.put('inside/real.txt', 'real');
      await symlink(outside, join(root, 'escape'));
      await symlink(join(outside, 'secret.txt'), join(root, 'secret-link.txt'));
      await symlink(join(root, 'inside'), join(root, 'alias'));
    });

    it('refuses to read, stat or list through a link that leaves the root', async () => {
      for (const path of ['escape/secret.txt', 'secret-link.txt']) {
        await expect(store.get(path)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
        await expect(store.stat(path)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      }
      await expect(store.list('escape')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      expect((await store.list()).map((entry) => entry.path)).toEqual(['alias', 'inside']);
    });

    it('refuses to write or delete through a link that leaves the root', async () => {
      await expect(store.put('escape/new.txt', 'x')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      await expect(store.put('escape/deeper/new.txt', 'x')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      await expect(store.delete('escape/secret.txt')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      expect(await filesUnder(outside)).toEqual(['secret.txt']);
      expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    });

    it('deletes a link itself, never what it points to', async () => {
      await store.delete('escape');
      await store.delete('secret-link.txt');
      expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
      expect((await store.list()).map((entry) => entry.path)).toEqual(['alias', 'inside']);
    });

    it('follows a link that stays inside the root', async () => {
      expect((await buffer(await store.get('alias/real.txt'))).toString()).toBe('real');
      expect((await store.stat('alias/real.txt')).sha256).toBe(sha256('real'));
    });
  });
});
