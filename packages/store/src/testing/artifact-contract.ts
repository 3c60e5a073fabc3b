import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { ArtifactEntry, ArtifactStore } from '@trestle/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * What an adapter's test gives {@link artifactStoreContract} for each test: an empty store,
 * a way to dispose of it and, optionally, a view of what lies next to the store's root
 * (sibling files of the folder, other keys of the bucket) to prove that refused paths wrote
 * nothing outside the root.
 *
 * @example
 * const fixture: ArtifactStoreFixture = { store, cleanup: () => rm(dir, { recursive: true }), outside: () => listSiblings(dir) };
 */
export interface ArtifactStoreFixture {
  store: ArtifactStore;
  cleanup: () => Promise<void>;
  /** Every file or key outside the store root that the adapter could reach by escaping it. */
  outside?: () => Promise<string[]>;
  /**
   * Capabilities the adapter lacks, each with the reason printed when the cases that need it
   * are skipped. Absent: the adapter can do everything the contract asks.
   */
  unsupported?: ArtifactStoreGaps;
}

/**
 * What an {@link ArtifactStoreFixture} may declare it cannot do, and why (the text is printed
 * with the skipped case).
 *
 * @example
 * const unsupported: ArtifactStoreGaps = { deleteRoot: 'the server refuses to delete a whole run folder' };
 */
export interface ArtifactStoreGaps {
  /** `delete('')` (everything in the store) is refused. */
  deleteRoot?: string;
}

const MiB = 1024 * 1024;
// Not a multiple of any part or buffer size, so the last chunk is partial.
const BIG_SIZE = 12 * MiB + 12_345;
const FAIL_AFTER = 6 * MiB;
const MANY_FILES = 1_050;

/** Paths that reach outside the root, literally or once decoded; every operation must refuse them. */
const ESCAPING_PATHS = [
  '../x',
  'a/../../x',
  '/etc/passwd',
  '%2e%2e/x',
  '..%2fx',
  'a\\..\\x',
  '%252e%252e/x',
  'C:\\x',
  'a/\u0000',
] as const;

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// A deterministic pseudo-random byte sequence (xorshift32), produced chunk by chunk so that
// several megabytes never sit in memory at once.
export function* pseudoRandomChunks(size: number, seed = 42, chunkSize = 64 * 1024): Generator<Buffer> {
  let state = seed >>> 0 || 1;
  for (let done = 0; done < size; done += chunkSize) {
    const chunk = Buffer.allocUnsafe(Math.min(chunkSize, size - done));
    for (let i = 0; i < chunk.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk[i] = state & 0xff;
    }
    yield chunk;
  }
}

function sha256OfChunks(chunks: Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

async function sha256OfStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.length;
  }
  return { sha256: hash.digest('hex'), size };
}

// Yields `size` bytes, then fails as a broken upload source would (a dropped socket, a read error).
function failingStream(size: number, message: string): Readable {
  const chunks = pseudoRandomChunks(size, 7);
  return new Readable({
    read() {
      const next = chunks.next();
      if (next.done === true) this.destroy(new Error(message));
      else this.push(next.value);
    },
  });
}

async function readText(store: ArtifactStore, path: string): Promise<string> {
  return (await buffer(await store.get(path))).toString('utf8');
}

async function walk(store: ArtifactStore, dir = ''): Promise<ArtifactEntry[]> {
  const entries = await store.list(dir);
  const nested = await Promise.all(entries.filter((entry) => entry.isDir).map((entry) => walk(store, entry.path)));
  return [...entries, ...nested.flat()];
}

async function inBatches<T>(items: readonly T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map(run));
  }
}

/**
 * Registers the one suite every {@link ArtifactStore} adapter must pass: round trips of
 * strings, bytes, multi-megabyte streams and empty files; sizes and SHA-256; overwrite;
 * listings (direct children sorted by path, directories without size, more than 1000
 * entries); `NOT_FOUND` for missing files; file and recursive directory deletes; refused
 * escaping paths; atomic writes when the body fails; concurrent writes. `factory` is called
 * before each test and must return an empty store; `cleanup` runs after it.
 *
 * @example
 * artifactStoreContract('local folder', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'trestle-artifacts-'));
 *   return { store: new LocalArtifactStore(join(dir, 'root')), cleanup: () => rm(dir, { recursive: true, force: true }) };
 * });
 */
export function artifactStoreContract(name: string, factory: () => Promise<ArtifactStoreFixture>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let fixture: ArtifactStoreFixture | undefined;
    const store = (): ArtifactStore => {
      if (fixture === undefined) throw new Error('the fixture is not ready');
      return fixture.store;
    };

    beforeEach(async () => {
      fixture = await factory();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    describe('put and get', () => {
      it('round-trips a string as UTF-8 and reports its size and sha256', async () => {
        const content = 'héllo wörld ✓\n';
        const info = await store().put('notes/hello.txt', content);
        expect(info).toEqual({ path: 'notes/hello.txt', size: Buffer.byteLength(content), sha256: sha256(content) });
        expect(await readText(store(), 'notes/hello.txt')).toBe(content);
      });

      it('round-trips bytes', async () => {
        const bytes = new Uint8Array(256 * 3).map((_, i) => (i * 7) % 256);
        const info = await store().put('blob.bin', bytes);
        expect(info).toEqual({ path: 'blob.bin', size: bytes.length, sha256: sha256(bytes) });
        expect(new Uint8Array(await buffer(await store().get('blob.bin')))).toEqual(bytes);
      });

      it('round-trips a stream of several MB generated on the fly', async () => {
        const expected = sha256OfChunks(pseudoRandomChunks(BIG_SIZE, 42));
        const info = await store().put('big/data.bin', Readable.from(pseudoRandomChunks(BIG_SIZE, 42)));
        expect(info).toEqual({ path: 'big/data.bin', size: BIG_SIZE, sha256: expected });
        expect(await sha256OfStream(await store().get('big/data.bin'))).toEqual({ sha256: expected, size: BIG_SIZE });
        expect(await store().stat('big/data.bin')).toEqual(info);
      });

      it('accepts a stream that yields strings', async () => {
        const info = await store().put('parts.txt', Readable.from(['ab', 'cé', 'd']));
        expect(info.sha256).toBe(sha256('abcéd'));
        expect(await readText(store(), 'parts.txt')).toBe('abcéd');
      });

      it('stores an empty file', async () => {
        const info = await store().put('empty/nothing.txt', '');
        expect(info).toEqual({ path: 'empty/nothing.txt', size: 0, sha256: sha256('') });
        expect((await buffer(await store().get('empty/nothing.txt'))).length).toBe(0);
        expect(await store().stat('empty/nothing.txt')).toEqual(info);
        expect(await store().list('empty')).toEqual([{ path: 'empty/nothing.txt', isDir: false, size: 0 }]);
      });

      it('normalises paths: empty and "." segments are dropped', async () => {
        const info = await store().put('a//b/./c.txt/', 'x');
        expect(info.path).toBe('a/b/c.txt');
        expect(await readText(store(), './a/b//c.txt')).toBe('x');
        expect((await store().stat('a/b/c.txt')).path).toBe('a/b/c.txt');
      });

      it('refuses a body that is not a stream, bytes or a string', async () => {
        await expect(store().put('x.txt', 42 as unknown as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        await expect(store().get('x.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    describe('stat', () => {
      it('gives the size and the sha256 that node:crypto computes for the content', async () => {
        const content = Buffer.from('{"weights":[0.25,-1.5,3]}');
        await store().put('model/weights.json', content);
        expect(await store().stat('model/weights.json')).toEqual({
          path: 'model/weights.json',
          size: content.length,
          sha256: createHash('sha256').update(content).digest('hex'),
        });
      });

      it('answers NOT_FOUND for a missing file, and for a directory', async () => {
        await store().put('dir/inside.txt', 'x');
        for (const path of ['missing.txt', 'dir/missing.txt', 'nope/deeper/x', 'dir']) {
          await expect(store().stat(path)).rejects.toMatchObject({ code: 'NOT_FOUND' });
          await expect(store().get(path)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        }
      });
    });

    describe('overwrite', () => {
      it('replaces the content, size and checksum', async () => {
        await store().put('model.json', 'version one, which is the longer of the two');
        const info = await store().put('model.json', 'v2');
        expect(info).toEqual({ path: 'model.json', size: 2, sha256: sha256('v2') });
        expect(await readText(store(), 'model.json')).toBe('v2');
        expect(await store().stat('model.json')).toEqual(info);
        expect(await store().list()).toEqual([{ path: 'model.json', isDir: false, size: 2 }]);
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        await Promise.all([
          store().put('d/a.txt', '1'),
          store().put('d/b/c.txt', '22'),
          store().put('d/b/deep/e.txt', '333'),
          store().put('d/z.bin', new Uint8Array(4)),
          store().put('dx.txt', '55555'),
          store().put('top.txt', ''),
        ]);
      });

      it('returns the direct children sorted by path: directories without size, files with size', async () => {
        expect(await store().list('d')).toEqual([
          { path: 'd/a.txt', isDir: false, size: 1 },
          { path: 'd/b', isDir: true },
          { path: 'd/z.bin', isDir: false, size: 4 },
        ]);
        expect(await store().list('d/b')).toEqual([
          { path: 'd/b/c.txt', isDir: false, size: 2 },
          { path: 'd/b/deep', isDir: true },
        ]);
        for (const entry of await store().list('d')) {
          if (entry.isDir) expect(entry).not.toHaveProperty('size');
        }
      });

      it('lists the root for "" and by default, hiding the store\'s own records', async () => {
        const root = [
          { path: 'd', isDir: true },
          { path: 'dx.txt', isDir: false, size: 5 },
          { path: 'top.txt', isDir: false, size: 0 },
        ];
        expect(await store().list('')).toEqual(root);
        expect(await store().list()).toEqual(root);
      });

      it('accepts a directory written with a trailing slash or "." segments', async () => {
        expect((await store().list('d/b/')).map((entry) => entry.path)).toEqual(['d/b/c.txt', 'd/b/deep']);
        expect((await store().list('./d//b')).map((entry) => entry.path)).toEqual(['d/b/c.txt', 'd/b/deep']);
      });

      it('lists a missing directory, or a file, as empty', async () => {
        expect(await store().list('nope')).toEqual([]);
        expect(await store().list('nope/deeper')).toEqual([]);
        expect(await store().list('top.txt')).toEqual([]);
      });
    });

    describe('delete', () => {
      beforeEach(async () => {
        await Promise.all([
          store().put('d/a.txt', '1'),
          store().put('d/b/c.txt', '2'),
          store().put('d/b/deep/e.txt', '3'),
          store().put('dx.txt', 'a sibling whose name starts like the directory'),
          store().put('d2/f.txt', 'another sibling'),
        ]);
      });

      it('deletes one file and leaves its siblings', async () => {
        await store().delete('d/a.txt');
        await expect(store().get('d/a.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(store().stat('d/a.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect((await store().list('d')).map((entry) => entry.path)).toEqual(['d/b']);
        expect(await readText(store(), 'd/b/c.txt')).toBe('2');
      });

      it('deletes a directory recursively, and nothing that only shares its name prefix', async () => {
        await store().delete('d');
        expect(await store().list('')).toEqual([
          { path: 'd2', isDir: true },
          { path: 'dx.txt', isDir: false, size: 46 },
        ]);
        expect(await store().list('d')).toEqual([]);
        await expect(store().get('d/b/deep/e.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await readText(store(), 'd2/f.txt')).toBe('another sibling');
      });

      it('removes a directory once its last file is deleted', async () => {
        await store().delete('d/b/deep/e.txt');
        expect((await store().list('d/b')).map((entry) => entry.path)).toEqual(['d/b/c.txt']);
      });

      it('accepts a missing path', async () => {
        const before = await walk(store());
        await store().delete('missing.txt');
        await store().delete('missing/deeper/x');
        await store().delete('d/a.txt/not-a-dir');
        expect(await walk(store())).toEqual(before);
      });

      it('deletes everything for the root', async (context) => {
        const gap = fixture?.unsupported?.deleteRoot;
        if (gap !== undefined) {
          context.skip(`the adapter cannot delete its whole root: ${gap}`);
          return;
        }
        await store().delete('');
        expect(await store().list('')).toEqual([]);
        await expect(store().get('d2/f.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });

      it('forgets the checksum with the file', async () => {
        await store().delete('dx.txt');
        await store().put('dx.txt', 'new');
        expect(await store().stat('dx.txt')).toEqual({ path: 'dx.txt', size: 3, sha256: sha256('new') });
      });
    });

    describe('path safety', () => {
      it.each(ESCAPING_PATHS)('refuses %j with INVALID_ARGUMENT naming it, for every operation', async (bad) => {
        await store().put('sentinel.txt', 'inside');
        const before = await walk(store());
        const attempts: (() => Promise<unknown>)[] = [
          () => store().put(bad, 'escaped'),
          () => store().put(bad, Readable.from([Buffer.from('escaped')])),
          () => store().get(bad),
          () => store().stat(bad),
          () => store().list(bad),
          () => store().delete(bad),
        ];
        for (const attempt of attempts) {
          const error = await attempt().then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
          expect((error as Error).message).toContain(JSON.stringify(bad));
        }
        expect(await walk(store())).toEqual(before);
      });

      it('writes nothing outside the root for refused paths', async (context) => {
        const outside = fixture?.outside;
        if (outside === undefined) {
          context.skip('the fixture has no view outside the store root (ArtifactStoreFixture.outside)');
          return;
        }
        const before = (await outside()).sort();
        for (const bad of ESCAPING_PATHS) {
          await store()
            .put(bad, 'escaped')
            .catch(() => undefined);
          await store()
            .delete(bad)
            .catch(() => undefined);
        }
        await store().put('inside.txt', 'fine');
        expect((await outside()).sort()).toEqual(before);
      });

      it('refuses the names it reserves for its own records and for in-progress writes', async () => {
        for (const reserved of ['.trestle-meta/sha256/x', '.TRESTLE-META', 'a/.model.onnx.tmp-0123456789abcdef']) {
          await expect(store().put(reserved, 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        }
        expect(await store().list('')).toEqual([]);
      });
    });

    describe('atomicity and concurrency', () => {
      it.each([
        ['after a few KiB', 16 * 1024],
        ['after several MiB', FAIL_AFTER],
      ])('leaves no file when the body fails %s', async (_when, failAfter) => {
        await expect(store().put('fresh/dir/model.bin', failingStream(failAfter, 'source broke'))).rejects.toThrow(
          'source broke',
        );
        await expect(store().get('fresh/dir/model.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(store().stat('fresh/dir/model.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await walk(store())).toEqual([]);
      });

      it('keeps the old content when an overwrite fails midway', async () => {
        const old = await store().put('keep/model.bin', 'the old, complete model');
        await expect(store().put('keep/model.bin', failingStream(FAIL_AFTER, 'source broke'))).rejects.toThrow(
          'source broke',
        );
        expect(await readText(store(), 'keep/model.bin')).toBe('the old, complete model');
        expect(await store().stat('keep/model.bin')).toEqual(old);
        expect(await walk(store())).toEqual([
          { path: 'keep', isDir: true },
          { path: 'keep/model.bin', isDir: false, size: old.size },
        ]);
      });

      it('refuses content that does not match the expected checksum and keeps the old file', async () => {
        const old = await store().put('sum/model.bin', 'the old, complete model');
        const wrong = sha256('something else');
        const refused: unknown = await store()
          .put('sum/model.bin', 'a corrupted model', { sha256: wrong })
          .catch((err: unknown) => err);
        expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT' });
        expect((refused as Error).message).toContain(wrong);
        expect(await readText(store(), 'sum/model.bin')).toBe('the old, complete model');
        expect(await store().stat('sum/model.bin')).toEqual(old);
        // A new path refused the same way leaves nothing behind.
        await expect(store().put('sum/new.bin', Buffer.from('x'), { sha256: wrong })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
        await expect(store().stat('sum/new.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        // Not a checksum at all: refused before anything is read.
        await expect(store().put('sum/model.bin', 'x', { sha256: 'abc' })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
        expect(await walk(store())).toEqual([
          { path: 'sum', isDir: true },
          { path: 'sum/model.bin', isDir: false, size: old.size },
        ]);
      });

      it('refuses a large streamed body whose checksum does not match, keeping the old file', async () => {
        const old = await store().put('sum/big.bin', 'old');
        const expected = sha256OfChunks(pseudoRandomChunks(BIG_SIZE, 7));
        await expect(
          store().put('sum/big.bin', Readable.from(pseudoRandomChunks(BIG_SIZE, 8)), { sha256: expected }),
        ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        expect(await readText(store(), 'sum/big.bin')).toBe('old');
        expect(await store().stat('sum/big.bin')).toEqual(old);
        const stored = await store().put('sum/big.bin', Readable.from(pseudoRandomChunks(BIG_SIZE, 7)), {
          sha256: expected.toUpperCase(),
        });
        expect(stored).toMatchObject({ size: BIG_SIZE, sha256: expected });
      });

      it('accepts content that matches the expected checksum', async () => {
        const info = await store().put('sum/ok.txt', 'fine', { sha256: sha256('fine') });
        expect(info).toMatchObject({ size: 4, sha256: sha256('fine') });
        expect(await readText(store(), 'sum/ok.txt')).toBe('fine');
      });

      it('lands every one of many concurrent puts of different files', async () => {
        const paths = Array.from({ length: 24 }, (_, i) => `concurrent/${i % 3}/file-${i}.txt`);
        const infos = await Promise.all(paths.map((path) => store().put(path, `content of ${path}`)));
        expect(infos.map((info) => info.sha256)).toEqual(paths.map((path) => sha256(`content of ${path}`)));
        const stats = await Promise.all(paths.map((path) => store().stat(path)));
        expect(stats).toEqual(infos);
        const files = (await walk(store(), 'concurrent')).filter((entry) => !entry.isDir);
        expect(files.map((entry) => entry.path).sort()).toEqual([...paths].sort());
      });
    });

    describe('large directories', () => {
      it(`lists and deletes ${MANY_FILES} files (more than one S3 page)`, { timeout: 120_000 }, async () => {
        const names = Array.from({ length: MANY_FILES }, (_, i) => `many/f-${String(i).padStart(5, '0')}.txt`);
        await inBatches(names, 50, (path) => store().put(path, path));
        const listed = await store().list('many');
        expect(listed).toHaveLength(MANY_FILES);
        expect(listed.map((entry) => entry.path)).toEqual(names);
        expect(listed.every((entry) => !entry.isDir && entry.size === entry.path.length)).toBe(true);
        expect(await store().list('')).toEqual([{ path: 'many', isDir: true }]);
        await store().delete('many');
        expect(await store().list('many')).toEqual([]);
        expect(await store().list('')).toEqual([]);
      });
    });
  });
}
