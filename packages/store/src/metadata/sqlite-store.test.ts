import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metadataStoreContract } from '../testing/metadata-contract.js';
import { openMetadataStore } from './index.js';

metadataStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-sqlite-'));
  const store = await openMetadataStore(join(dir, 'nested', 'trestle.db'), { artifactRoot: join(dir, 'artifacts') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite metadata store: opening', () => {
  it('creates the parent directory, resolves relative paths against cwd and uses WAL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trestle-sqlite-open-'));
    try {
      const store = await openMetadataStore('sub/dir/t.db', { cwd: dir });
      expect(store.capabilities).toEqual({ dialect: 'sqlite', concurrentWriters: false });
      expect(statSync(join(dir, 'sub/dir/t.db')).isFile()).toBe(true);
      expect(statSync(join(dir, 'sub/dir/t.db-wal')).isFile()).toBe(true);
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
