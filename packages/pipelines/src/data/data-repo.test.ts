import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, unlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caught } from '../../../../test/support/errors.js';
import { DataRepo } from './data-repo.js';
import { HashPool } from './hash-pool.js';
import { readPointer } from './pointer.js';
import { manifestText, sha256Hex } from './tree.js';

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

let root: string;
let repo: DataRepo;

function write(rel: string, content: string | Buffer): void {
  const abs = join(root, rel);
  mkdirSync(join(abs, '..'), { recursive: true });
  writeFileSync(abs, content);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'trestle-data-'));
  repo = new DataRepo({ root, threads: 2 });
});

afterEach(async () => {
  await repo.close();
  await rm(root, { recursive: true, force: true });
});

describe('HashPool', () => {
  it('hashes files on worker threads, in order, with their stat', async () => {
    const pool = new HashPool({ threads: 2 });
    const contents = Array.from({ length: 300 }, (_, i) => `file ${i} ${'x'.repeat(i * 7)}`);
    contents.forEach((c, i) => write(`f${i}`, c));
    let files = 0;
    const out = await pool.hashFiles(
      contents.map((_, i) => join(root, `f${i}`)),
      contents.map((c) => c.length),
      (_b, n) => (files += n),
    );
    await pool.close();
    expect(out.map((h) => h.sha256)).toEqual(contents.map(sha));
    expect(out[5]!.size).toBe(contents[5]!.length);
    expect(out[5]!.ino).toBe(statSync(join(root, 'f5')).ino);
    expect(files).toBe(300);
  });

  it('a missing file is NOT_FOUND naming it', async () => {
    const pool = new HashPool({ threads: 1 });
    const err = await caught(pool.hashFiles([join(root, 'nope')]));
    await pool.close();
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('nope');
  });
});

describe('DataRepo add / status / checkout / gc', () => {
  it('adds a file: object in the cache, pointer next to it, the data ignored by git', async () => {
    write('data/a.csv', 'x,y\n1,2\n');
    const [added] = await repo.add(['data/a.csv'], root);
    expect(added).toMatchObject({
      target: 'data/a.csv',
      pointer: 'data/a.csv.trestle',
      kind: 'file',
      files: 1,
      size: 8,
    });
    expect(added!.sha256).toBe(sha('x,y\n1,2\n'));
    expect(readFileSync(repo.cache.objectPath(added!.sha256), 'utf8')).toBe('x,y\n1,2\n');
    expect(await readPointer(join(root, 'data/a.csv.trestle'))).toEqual({
      path: 'a.csv',
      kind: 'file',
      sha256: sha('x,y\n1,2\n'),
      size: 8,
      files: 1,
    });
    expect(readFileSync(join(root, 'data/.gitignore'), 'utf8')).toBe('/a.csv\n');
    // Adding again changes nothing and does not repeat the .gitignore line.
    const [again] = await repo.add(['data/a.csv'], root);
    expect(again!.unchanged).toBe(true);
    expect(again!.stored).toBe(0);
    expect(readFileSync(join(root, 'data/.gitignore'), 'utf8')).toBe('/a.csv\n');
  });

  it('adds a folder as a manifest of its files; status reports per-file changes', async () => {
    write('imgs/a.txt', 'a');
    write('imgs/sub/b.txt', 'b');
    write('imgs/sub/c.txt', 'c');
    const [added] = await repo.add(['imgs'], root);
    const entries = [
      { path: 'a.txt', sha256: sha('a'), size: 1 },
      { path: 'sub/b.txt', sha256: sha('b'), size: 1 },
      { path: 'sub/c.txt', sha256: sha('c'), size: 1 },
    ];
    expect(added).toMatchObject({ kind: 'dir', files: 3, size: 3, sha256: sha256Hex(manifestText(entries)) });
    expect(await repo.manifest(added!.sha256)).toEqual(entries);

    expect(await repo.status(repo.findPointers())).toEqual([
      { target: 'imgs', pointer: 'imgs.trestle', kind: 'dir', state: 'unchanged', cached: true, changes: [] },
    ]);

    write('imgs/new.txt', 'n');
    await unlink(join(root, 'imgs/sub/b.txt'));
    await rm(join(root, 'imgs/a.txt'));
    write('imgs/a.txt', 'A!');
    const [st] = await repo.status(repo.findPointers());
    expect(st!.state).toBe('modified');
    expect(st!.changes).toEqual([
      { path: 'a.txt', change: 'modified' },
      { path: 'new.txt', change: 'added' },
      { path: 'sub/b.txt', change: 'deleted' },
    ]);
  });

  it('does not re-read files whose size, mtime and inode are unchanged (stat cache)', async () => {
    write('big.bin', 'original');
    const abs = join(root, 'big.bin');
    const t = 1_700_000_000;
    await utimes(abs, t, t);
    const [added] = await repo.add(['big.bin'], root);
    // Same size, mtime and inode, other bytes written in place: the stat cache trusts the stat.
    writeFileSync(abs, 'ORIGINAL');
    await utimes(abs, t, t);
    expect((await repo.hashPath(abs)).sha256).toBe(added!.sha256);
    // A changed mtime makes it read the file again.
    await utimes(abs, t, t + 5);
    expect((await repo.hashPath(abs)).sha256).toBe(sha('ORIGINAL'));
  });

  it('a folder is listed in whole-path order; links to files are followed, links to folders skipped', async () => {
    write('t/a-b', '1');
    write('t/a/x', '2');
    write('t/a0', '3');
    write('outside.txt', 'linked');
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(root, 'outside.txt'), join(root, 't/link'));
    symlinkSync(join(root, 'elsewhere'), join(root, 't/dirlink'));
    symlinkSync(join(root, 'nothing'), join(root, 't/dangling'));
    const v = await repo.hashPath(join(root, 't'));
    // '-' (0x2d) < '/' (0x2f) < '0' (0x30): sorted as whole paths, not folder by folder.
    expect(v.entries!.map((e) => e.path)).toEqual(['a-b', 'a/x', 'a0', 'link']);
    expect(v.entries![3]!.sha256).toBe(sha('linked'));
    expect(v.sha256).toBe(sha256Hex(manifestText(v.entries!)));
  });

  it('status after the stat cache: a touched file is re-read (unchanged), an edit of the same size is found', async () => {
    for (let i = 0; i < 5; i++) write(`s/f${i}`, `content ${i}`);
    await repo.add(['s'], root);
    const pointer = join(root, 's.trestle');
    expect((await repo.status([pointer]))[0]!.state).toBe('unchanged');
    // Same bytes, new mtime: hashed again, still the named version.
    const t = Date.now() / 1000 + 10;
    await utimes(join(root, 's/f1'), t, t);
    expect((await repo.status([pointer]))[0]).toMatchObject({ state: 'unchanged', cached: true });
    // Same size, other bytes (a new mtime): modified, named by file.
    writeFileSync(join(root, 's/f2'), 'CONTENT 2');
    await utimes(join(root, 's/f2'), t + 5, t + 5);
    expect((await repo.status([pointer]))[0]).toMatchObject({
      state: 'modified',
      changes: [{ path: 'f2', change: 'modified' }],
    });
    // A fresh repository object (another process) sees the same from the stored stat cache.
    const other = new DataRepo({ root, threads: 1 });
    expect((await other.status([pointer]))[0]!.changes).toEqual([{ path: 'f2', change: 'modified' }]);
    await other.close();
  });

  it('status of a folder of 1,500 files (above the listing threshold) sees one object missing from the cache', async () => {
    for (let i = 0; i < 1500; i++) write(`many/f${i}`, `file ${i}`);
    const [added] = await repo.add(['many'], root);
    const pointer = join(root, 'many.trestle');
    expect(await repo.status([pointer])).toEqual([
      { target: 'many', pointer: 'many.trestle', kind: 'dir', state: 'unchanged', cached: true, changes: [] },
    ]);
    await repo.cache.remove(sha('file 1234'));
    expect((await repo.status([pointer]))[0]).toMatchObject({ state: 'unchanged', cached: false });
    expect(added!.files).toBe(1500);
  });

  it('status remembers that a version is cached until one of its cache folders changes', async () => {
    for (let i = 0; i < 50; i++) write(`r/f${i}`, `file ${i}`);
    await repo.add(['r'], root);
    const pointer = join(root, 'r.trestle');
    const folders = join(repo.cache.dir, 'files', 'sha256');
    const past = Date.now() / 1000 - 3600;
    const age = async (): Promise<void> => {
      for (const f of readdirSync(folders)) await utimes(join(folders, f), past, past);
    };
    const cached = async (): Promise<boolean> => (await repo.status([pointer]))[0]!.cached;
    // Folders changed within the last 2 s are not remembered: checked again each time.
    expect(await cached()).toBe(true);
    expect(readdirSync(repo.stateDir).filter((f) => f.endsWith('.cached'))).toEqual([]);
    await age();
    expect(await cached()).toBe(true);
    expect(readdirSync(repo.stateDir).filter((f) => f.endsWith('.cached'))).toHaveLength(1);
    // The memo is what answers now: an object taken away behind the folder's back (its mtime
    // put back) goes unnoticed, which shows no folder was listed…
    const gone = repo.cache.objectPath(sha('file 7'));
    const kept = readFileSync(gone);
    await rm(gone, { force: true });
    await utimes(dirname(gone), past, past);
    expect(await cached()).toBe(true);
    // …while a removal as it happens (the folder's mtime changes) is seen.
    await repo.cache.saveBytes(sha('file 7'), kept);
    await age();
    expect(await cached()).toBe(true);
    await repo.cache.remove(sha('file 3'));
    expect(await cached()).toBe(false);
  });

  it('checkout restores the named version of a file and of a folder, exactly', async () => {
    write('m.json', '{"v":1}');
    write('d/x', 'x1');
    write('d/y', 'y1');
    await repo.add(['m.json', 'd'], root);
    // The workspace drifts: a file deleted, one rewritten, one added (all saved first so nothing is lost).
    await rm(join(root, 'm.json'));
    await rm(join(root, 'd/x'));
    write('d/y', 'y2');
    write('d/z', 'z');
    await repo.add(['d'], root); // d's new version is cached now; point back to the old one:
    const oldDir = {
      kind: 'dir' as const,
      sha256: sha256Hex(
        manifestText([
          { path: 'x', sha256: sha('x1'), size: 2 },
          { path: 'y', sha256: sha('y1'), size: 2 },
        ]),
      ),
    };
    const r = await repo.restore(join(root, 'd'), oldDir);
    expect(r).toEqual({ restored: 2, removed: 1 });
    expect(readFileSync(join(root, 'd/x'), 'utf8')).toBe('x1');
    expect(readFileSync(join(root, 'd/y'), 'utf8')).toBe('y1');
    expect(existsSync(join(root, 'd/z'))).toBe(false);
    const [c] = await repo.checkout([join(root, 'm.json.trestle')]);
    expect(c).toEqual({ target: 'm.json', pointer: 'm.json.trestle', restored: 1, removed: 0 });
    expect(readFileSync(join(root, 'm.json'), 'utf8')).toBe('{"v":1}');
  });

  it('checkout refuses to overwrite content the cache does not hold, unless forced', async () => {
    write('p.txt', 'saved');
    await repo.add(['p.txt'], root);
    await rm(join(root, 'p.txt'));
    write('p.txt', 'unsaved work');
    const err = await caught(repo.checkout([join(root, 'p.txt.trestle')]));
    expect(err.code).toBe('FAILED_PRECONDITION');
    expect(err.message).toContain('--force');
    expect(readFileSync(join(root, 'p.txt'), 'utf8')).toBe('unsaved work');
    await repo.checkout([join(root, 'p.txt.trestle')], { force: true });
    expect(readFileSync(join(root, 'p.txt'), 'utf8')).toBe('saved');
  });

  it('a version missing from the cache is reported by status and refused by checkout with the fix', async () => {
    write('q.txt', 'q');
    const [added] = await repo.add(['q.txt'], root);
    await rm(join(root, 'q.txt'));
    await repo.cache.remove(added!.sha256);
    const [st] = await repo.status([join(root, 'q.txt.trestle')]);
    expect(st).toMatchObject({ state: 'missing', cached: false });
    const err = await caught(repo.checkout([join(root, 'q.txt.trestle')]));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('trestle data pull');
  });

  it('gc removes only objects no pointer references; --dry-run removes nothing', async () => {
    write('keep.txt', 'keep');
    write('d/a', 'a');
    await repo.add(['keep.txt', 'd'], root);
    await rm(join(root, 'keep.txt'));
    write('keep.txt', 'keep v2');
    await repo.add(['keep.txt'], root); // 'keep' (v1) is now garbage
    const dry = await repo.gc({ dryRun: true });
    expect(dry.removed).toEqual([sha('keep')]);
    expect(repo.cache.has(sha('keep'))).toBe(true);
    const real = await repo.gc();
    expect(real.removed).toEqual([sha('keep')]);
    expect(real.bytes).toBe(4);
    expect(repo.cache.has(sha('keep'))).toBe(false);
    expect(repo.cache.has(sha('keep v2'))).toBe(true);
    expect(repo.cache.has(sha('a'))).toBe(true);
    // A version kept by the caller (e.g. a pipeline lock file) survives too.
    const extra = { kind: 'file' as const, sha256: sha('keep v2') };
    await rm(join(root, 'keep.txt.trestle'));
    expect((await repo.gc({ keep: [extra] })).removed).toEqual([]);
  });

  it('refuses paths outside the workspace, inside .trestle, and paths with nothing there', async () => {
    expect((await caught(repo.add(['../elsewhere'], root))).code).toBe('INVALID_ARGUMENT');
    expect((await caught(repo.add(['.trestle/cache'], root))).code).toBe('INVALID_ARGUMENT');
    const missing = await caught(repo.add(['ghost.csv'], root));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('ghost.csv');
  });

  it('refuses to track data that overlaps tracked data, either way, and tracks nothing then', async () => {
    write('data/raw/a.csv', 'a');
    write('data/raw/b.csv', 'b');
    write('data/clean/c.csv', 'c');
    await repo.add(['data/raw'], root);
    // A folder holding tracked data would have two pointers claim the same files.
    const outer = await caught(repo.add(['data'], root));
    expect(outer.code).toBe('INVALID_ARGUMENT');
    expect(outer.message).toBe(
      "'data' holds data tracked on its own (data/raw.trestle); remove that pointer file first to track the folder as a whole",
    );
    expect(existsSync(join(root, 'data.trestle'))).toBe(false);
    // A path inside a folder tracked as a whole belongs to that folder's versions.
    await unlink(join(root, 'data/raw.trestle'));
    await repo.add(['data'], root);
    const inner = await caught(repo.add(['data/raw/a.csv'], root));
    expect(inner.message).toBe(
      "'data/raw/a.csv' is inside 'data', which is tracked as a whole (data.trestle); run 'trestle data add data' to record its new version",
    );
    expect(existsSync(join(root, 'data/raw/a.csv.trestle'))).toBe(false);
    expect(repo.findPointers()).toEqual([join(root, 'data.trestle')]);
  });

  it('status finds pointers anywhere in the workspace without entering tracked folders', async () => {
    write('a/x.csv', 'x');
    write('b/deep/folder/y.csv', 'y');
    write('b/deep/folder/z.csv', 'z');
    await repo.add(['a/x.csv', 'b/deep/folder'], root);
    // A stray pointer-named file inside the tracked folder is its data, not a pointer to follow.
    write('b/deep/folder/stray.trestle', 'not a pointer');
    expect(repo.findPointers()).toEqual([join(root, 'a/x.csv.trestle'), join(root, 'b/deep/folder.trestle')]);
    const states = await repo.status(repo.findPointers());
    expect(states.map((s) => [s.target, s.state])).toEqual([
      ['a/x.csv', 'unchanged'],
      ['b/deep/folder', 'modified'],
    ]);
  });
});
