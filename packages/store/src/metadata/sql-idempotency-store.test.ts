import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdempotencyStore } from '@trestle/core';
import { sqliteDialect } from './dialects.js';
import { openMetadataStore } from './open.js';
import { createTestDatabase, postgresTests } from './postgres-test-database.js';
import type { MetadataDatabase } from './schema.js';
import { SqlMetadataStore } from './sql-metadata-store.js';

const DAY = 86_400_000;
const policy = { ttlMs: DAY, staleAfterMs: 60_000 };
const answer = {
  status: 201,
  headers: { 'content-type': 'application/json', location: '/api/v1/runs/ab' },
  body: '{"a":1}',
};
let n = 0;
const fresh = (): string => `scope-${process.pid}-${++n}`;

/** The same assertions on every engine. */
function idempotencyContract(
  name: string,
  open: () => Promise<{ store: IdempotencyStore; close(): Promise<void> }>,
): void {
  describe(`idempotency keys: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof open>>;
    beforeAll(async () => {
      subject = await open();
    });
    afterAll(async () => {
      await subject?.close();
    });

    it('claims a key once; a retry of the same request gets the kept answer', async () => {
      const store = subject.store;
      const scope = fresh();
      expect(await store.claim({ scope, fingerprint: 'f1', ...policy })).toEqual({ state: 'claimed' });
      expect(await store.claim({ scope, fingerprint: 'f1', ...policy })).toEqual({ state: 'in-progress' });
      await store.complete(scope, answer);
      expect(await store.claim({ scope, fingerprint: 'f1', ...policy })).toEqual({ state: 'replay', response: answer });
    });

    it('refuses the same key with another body, before and after the first request completed', async () => {
      const store = subject.store;
      const scope = fresh();
      await store.claim({ scope, fingerprint: 'f1', ...policy });
      expect(await store.claim({ scope, fingerprint: 'f2', ...policy })).toEqual({ state: 'mismatch' });
      await store.complete(scope, answer);
      expect(await store.claim({ scope, fingerprint: 'f2', ...policy })).toEqual({ state: 'mismatch' });
    });

    it('forgets a released claim (the request failed), so that a retry is handled afresh; a completed one stays', async () => {
      const store = subject.store;
      const scope = fresh();
      await store.claim({ scope, fingerprint: 'f1', ...policy });
      await store.release(scope);
      expect(await store.claim({ scope, fingerprint: 'f2', ...policy })).toEqual({ state: 'claimed' });
      await store.complete(scope, answer);
      await store.release(scope);
      expect((await store.claim({ scope, fingerprint: 'f2', ...policy })).state).toBe('replay');
    });

    it('lets exactly one of many concurrent claims win', async () => {
      const store = subject.store;
      const scope = fresh();
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => store.claim({ scope, fingerprint: 'f', ...policy })),
      );
      expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(1);
      expect(claims.filter((c) => c.state === 'in-progress')).toHaveLength(7);
    });

    it('treats records past their lifetime as gone, and purges them', async () => {
      const store = subject.store;
      const scope = fresh();
      await store.claim({ scope, fingerprint: 'f1', ...policy });
      await store.complete(scope, answer);
      // A lifetime of 0 makes the record expired at once: the key may be used afresh.
      expect(await store.claim({ scope, fingerprint: 'f2', ttlMs: 0, staleAfterMs: 60_000 })).toEqual({
        state: 'claimed',
      });
      expect(await store.purge(Date.now() + 1000)).toBeGreaterThanOrEqual(1);
      expect(await store.claim({ scope, fingerprint: 'f3', ...policy })).toEqual({ state: 'claimed' });
    });
  });
}

idempotencyContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-idem-'));
  const store = await openMetadataStore(join(dir, 'trestle.db'), { artifactRoot: join(dir, 'artifacts') });
  return {
    store: store.idempotency,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const pg = await postgresTests('the PostgreSQL idempotency-key tests');
if (pg.run) {
  idempotencyContract('postgres', async () => {
    pg.assertReachable();
    const database = await createTestDatabase(pg.baseUri);
    const store = await openMetadataStore(database.uri, { artifactRoot: '/srv/trestle/artifacts' });
    return {
      store: store.idempotency,
      close: async () => {
        await store.close();
        await database.drop();
      },
    };
  });
}

describe('idempotency keys: abandoned claims', () => {
  it('takes over a claim left unfinished past the stale limit (its server died), only for the same body', async () => {
    let clock = 1_700_000_000_000;
    const store = new SqlMetadataStore({
      db: new Kysely<MetadataDatabase>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) }),
      dialect: sqliteDialect,
      artifactRoot: '/srv/artifacts',
      now: () => clock,
    });
    await store.migrate();
    const scope = fresh();
    await store.idempotency.claim({ scope, fingerprint: 'f', ...policy });
    clock += 59_000;
    expect((await store.idempotency.claim({ scope, fingerprint: 'f', ...policy })).state).toBe('in-progress');
    clock += 2_000;
    expect((await store.idempotency.claim({ scope, fingerprint: 'g', ...policy })).state).toBe('mismatch');
    expect((await store.idempotency.claim({ scope, fingerprint: 'f', ...policy })).state).toBe('claimed');
    await store.close();
  });
});
