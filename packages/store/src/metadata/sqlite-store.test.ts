import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { metadataStoreContract } from '../testing/metadata-contract.js';
import { openMetadataStore } from './index.js';

metadataStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-sqlite-'));
  const store = await openMetadataStore(join(dir, 'trestle.db'), { artifactRoot: join(dir, 'artifacts') });
  return {
    store,
    // A second connection to the same file, as a CLI beside a running server has.
    openAnother: () => openMetadataStore(join(dir, 'trestle.db'), { artifactRoot: join(dir, 'artifacts') }),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite metadata store: opening', () => {
  it('creates a missing file in an existing folder, resolves relative paths against cwd and uses WAL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trestle-sqlite-open-'));
    try {
      mkdirSync(join(dir, 'sub'));
      const store = await openMetadataStore('sub/t.db', { cwd: dir });
      expect(store.capabilities).toEqual({ dialect: 'sqlite', concurrentWriters: false });
      expect(statSync(join(dir, 'sub/t.db')).isFile()).toBe(true);
      expect(statSync(join(dir, 'sub/t.db-wal')).isFile()).toBe(true);
      // Created under a temporary name and linked into place: nothing else is left beside it.
      expect(readdirSync(join(dir, 'sub')).filter((f) => f.includes('creating'))).toEqual([]);
      expect((await store.getExperiment('0')).artifactLocation).toBe(join(dir, '.trestle/artifacts/0'));
      await store.close();
      await expect(store.getExperiment('0')).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('opens an in-memory database and keeps URI artifact roots as they are', async () => {
    const store = await openMetadataStore(':memory:', { artifactRoot: 's3://bucket/prefix/' });
    expect((await store.getExperiment('0')).artifactLocation).toBe('s3://bucket/prefix/0');
    const run = await store.createRun({ experimentId: '0' });
    expect(run.info.artifactUri).toBe(`s3://bucket/prefix/0/${run.info.runId}/artifacts`);
    await store.close();
  });

  it('does not load the PostgreSQL driver', async () => {
    const store = await openMetadataStore(':memory:');
    await store.close();
    const loaded = Object.keys(await import('node:module').then((m) => m.createRequire(import.meta.url).cache));
    expect(loaded.filter((p) => /[/\\]node_modules[/\\]pg[/\\]/.test(p))).toEqual([]);
  });
});

describe('sqlite metadata store: never guesses', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trestle-sqlite-guess-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a file in a folder that does not exist, and creates nothing', async () => {
    const file = join(dir, 'no', 'such', 'dir', 'x.db');
    const err = await openMetadataStore(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect((err as Error).message).toContain(`the folder '${join(dir, 'no', 'such', 'dir')}' does not exist`);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('with create: false a missing file is NOT_FOUND and stays missing', async () => {
    const file = join(dir, 'trestle.db');
    const err = await openMetadataStore(file, { create: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND', details: { file, reason: 'missing' } });
    expect((err as Error).message).toMatch(/no metadata store at .*nothing has been recorded there/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an unknown URI scheme instead of making a SQLite file of it', async () => {
    const err = await openMetadataStore('mysql://me:secret@db/trestle', { cwd: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { scheme: 'mysql' } });
    expect((err as Error).message).toContain("unsupported metadata store URI scheme 'mysql:'");
    expect((err as Error).message).not.toContain('secret');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an empty file and leaves it as it was', async () => {
    const file = join(dir, 'trestle.db');
    writeFileSync(file, '');
    const err = await openMetadataStore(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION', details: { reason: 'empty' } });
    expect((err as Error).message).toContain(`'${file}' is an empty file (0 bytes)`);
    expect(statSync(file).size).toBe(0);
    expect(readdirSync(dir)).toEqual(['trestle.db']);
  });

  it('refuses a file that is not SQLite and leaves it untouched', async () => {
    const file = join(dir, 'notes.db');
    writeFileSync(file, 'my thesis, chapter 1\n');
    const err = await openMetadataStore(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION', details: { reason: 'not-sqlite' } });
    expect(readFileSync(file, 'utf8')).toBe('my thesis, chapter 1\n');
  });

  it("refuses another program's SQLite database and adds no table to it", async () => {
    const file = join(dir, 'other.db');
    const { default: Database } = await import('better-sqlite3');
    const other = new Database(file);
    other.exec('create table invoices (id integer primary key, total real)');
    other.close();
    const err = await openMetadataStore(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION', details: { reason: 'foreign' } });
    expect((err as Error).message).toContain('tables invoices');
    const again = new Database(file, { readonly: true });
    expect(again.prepare("select name from sqlite_master where type = 'table'").pluck().all()).toEqual(['invoices']);
    again.close();
  });

  it("a damaged store's message names the file and says how to recover it", async () => {
    const file = join(dir, 'trestle.db');
    const store = await openMetadataStore(file, { artifactRoot: join(dir, 'a') });
    await store.createExperiment({ name: 'e' });
    await store.close();
    // Overwrite the schema page after the header: the schema can no longer be read.
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 100, 4096);
    writeFileSync(file, bytes);
    const err = await openMetadataStore(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAILED_PRECONDITION', details: { file, reason: 'corrupt' } });
    expect((err as Error).message).toContain(`the SQLite metadata store '${file}' is damaged`);
    expect((err as Error).message).toContain(`sqlite3 '${file}' .recover`);
  });
});
