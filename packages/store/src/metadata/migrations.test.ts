import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METADATA_MIGRATIONS, openMetadataStore } from './index.js';
import { createTestDatabase, postgresTests } from './postgres-test-database.js';

describe('metadata migrations: sqlite', () => {
  it('migrates a fresh database, then does nothing, and reports status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trestle-migrate-'));
    try {
      const store = await openMetadataStore(join(dir, 't.db'), { migrate: false });
      expect(await store.migrationStatus()).toEqual({ applied: [], pending: [...METADATA_MIGRATIONS] });
      expect(await store.migrate()).toEqual([...METADATA_MIGRATIONS]);
      expect(await store.migrate()).toEqual([]);
      expect(await store.migrationStatus()).toEqual({ applied: [...METADATA_MIGRATIONS], pending: [] });
      expect((await store.getExperiment('0')).name).toBe('Default');
      await store.close();
      const reopened = await openMetadataStore(join(dir, 't.db'));
      expect(await reopened.migrationStatus()).toEqual({ applied: [...METADATA_MIGRATIONS], pending: [] });
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs `openMetadataStore(target)` in a separate process, starting at epoch ms `at`; resolves its status line. */
function migrateInChild(dir: string, target: string, at: number): Promise<string> {
  const script = join(dir, 'migrate-child.mts');
  const index = pathToFileURL(fileURLToPath(new URL('./index.ts', import.meta.url))).href;
  writeFileSync(
    script,
    `import { openMetadataStore } from ${JSON.stringify(index)};
while (Date.now() < ${at}) await new Promise((r) => setTimeout(r, 1));
const store = await openMetadataStore(process.argv[2]);
console.log(JSON.stringify(await store.migrationStatus()));
await store.close();
`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, target], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}: ${out}`))));
  });
}

describe('metadata migrations: several processes', () => {
  it('lets four processes open a fresh SQLite file at the same moment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trestle-migrate-procs-'));
    try {
      const at = Date.now() + 4000;
      const outputs = await Promise.all([1, 2, 3, 4].map(() => migrateInChild(dir, join(dir, 't.db'), at)));
      for (const out of outputs) expect(JSON.parse(out)).toEqual({ applied: [...METADATA_MIGRATIONS], pending: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const postgres = await postgresTests('the PostgreSQL migration test');

describe.runIf(postgres.run)('metadata migrations: postgres', () => {
  it('migrates once when two processes migrate at the same time', async () => {
    postgres.assertReachable();
    const database = await createTestDatabase(postgres.baseUri);
    try {
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => openMetadataStore(database.uri, { migrate: false, poolSize: 2 })),
      );
      expect((await stores[0]!.migrationStatus()).pending).toEqual([...METADATA_MIGRATIONS]);
      const applied = await Promise.all(stores.map((s) => s.migrate()));
      expect(applied.flat()).toEqual([...METADATA_MIGRATIONS]);
      for (const s of stores)
        expect(await s.migrationStatus()).toEqual({ applied: [...METADATA_MIGRATIONS], pending: [] });
      expect(await stores[1]!.migrate()).toEqual([]);
      const defaults = await stores[2]!.searchExperiments({ filter: `name = 'Default'` });
      expect(defaults.items.map((e) => e.experimentId)).toEqual(['0']);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await database.drop();
    }
  });
});
