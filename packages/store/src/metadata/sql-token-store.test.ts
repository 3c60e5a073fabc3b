import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '@trestle/core';
import { sqliteDialect } from './dialects.js';
import { openMetadataStore } from './open.js';
import { createTestDatabase, postgresTests, type TestDatabase } from './postgres-test-database.js';
import type { MetadataDatabase } from './schema.js';
import { SqlMetadataStore } from './sql-metadata-store.js';
import { hashTokenSecret, LAST_USED_RESOLUTION_MS } from './sql-token-store.js';

type Row = Record<string, unknown>;

/** What a backend of the storage check provides: a store and the raw rows of `api_tokens`. */
interface Subject {
  store: MetadataStore;
  rows(): Promise<Row[]>;
  close(): Promise<void>;
}

function secretsAreNotStored(name: string, open: () => Promise<Subject>): void {
  describe(`api tokens at rest: ${name}`, () => {
    let subject: Subject;
    beforeAll(async () => {
      subject = await open();
    });
    afterAll(async () => {
      await subject?.close();
    });

    it('stores the SHA-256 of a secret and never the secret, nor any long part of it', async () => {
      const created = await Promise.all(
        (['reader', 'editor', 'admin'] as const).map((role) =>
          subject.store.tokens.createToken({ name: `t-${role}`, role }),
        ),
      );
      await subject.store.tokens.revokeToken(created[0]!.info.tokenId);
      const rows = await subject.rows();
      expect(rows).toHaveLength(3);
      const dump = JSON.stringify(rows);
      for (const { token, info } of created) {
        const row = rows.find((r) => r['token_id'] === info.tokenId)!;
        expect(row['token_hash']).toBe(createHash('sha256').update(token).digest('hex'));
        expect(row['prefix']).toBe(info.prefix);
        expect(dump).not.toContain(token);
        // The prefix is all that is kept of the secret: no 12 characters of the rest appear anywhere.
        const rest = token.slice(info.prefix.length);
        for (let i = 0; i + 12 <= rest.length; i++) expect(dump).not.toContain(rest.slice(i, i + 12));
      }
      expect(Object.keys(rows[0]!).sort()).toEqual(
        ['created_time', 'last_used_time', 'name', 'prefix', 'revoked_time', 'role', 'token_hash', 'token_id'].sort(),
      );
    });
  });
}

secretsAreNotStored('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-tokens-'));
  const file = join(dir, 'trestle.db');
  const store = await openMetadataStore(file, { artifactRoot: join(dir, 'artifacts') });
  const raw = new Database(file, { readonly: true });
  return {
    store,
    rows: () => Promise.resolve(raw.prepare('SELECT * FROM api_tokens').all() as Row[]),
    close: async () => {
      raw.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const postgres = await postgresTests('the PostgreSQL api-token storage test');
if (postgres.run) {
  secretsAreNotStored('postgres', async () => {
    postgres.assertReachable();
    const database: TestDatabase = await createTestDatabase(postgres.baseUri);
    const store = await openMetadataStore(database.uri, { artifactRoot: '/srv/trestle/artifacts' });
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: database.uri });
    await client.connect();
    return {
      store,
      rows: async () => (await client.query<Row>('SELECT * FROM api_tokens')).rows,
      close: async () => {
        await client.end();
        await store.close();
        await database.drop();
      },
    };
  });
}

describe('api tokens: last use', () => {
  let clock = 1_700_000_000_000;
  let writes = 0;
  let store: SqlMetadataStore;
  let db: Kysely<MetadataDatabase>;

  beforeAll(async () => {
    db = new Kysely<MetadataDatabase>({
      dialect: new SqliteDialect({ database: new Database(':memory:') }),
    }).withPlugin({
      transformQuery: (args) => {
        if (args.node.kind === 'UpdateQueryNode') writes++;
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    });
    store = new SqlMetadataStore({ db, dialect: sqliteDialect, artifactRoot: '/srv/artifacts', now: () => clock });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('records the first use, then writes again only once a minute has passed', async () => {
    const { token, info } = await store.tokens.createToken({ name: 'busy', role: 'editor' });
    expect(info.createdTime).toBe(clock);
    writes = 0;
    clock += 5;
    expect((await store.tokens.verifyToken(token))?.lastUsedTime).toBe(clock);
    const first = clock;
    for (let i = 0; i < 10; i++) {
      clock += 1000;
      expect((await store.tokens.verifyToken(token))?.lastUsedTime).toBe(first);
    }
    expect(writes).toBe(1);
    clock = first + LAST_USED_RESOLUTION_MS;
    expect((await store.tokens.verifyToken(token))?.lastUsedTime).toBe(clock);
    expect(writes).toBe(2);
    expect((await store.tokens.listTokens()).find((t) => t.tokenId === info.tokenId)?.lastUsedTime).toBe(clock);
  });

  it('hashes with SHA-256, hex', () => {
    expect(hashTokenSecret('trestle_x')).toBe(createHash('sha256').update('trestle_x').digest('hex'));
    expect(hashTokenSecret('trestle_x')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses use once the owning store is closed', async () => {
    const other = new SqlMetadataStore({
      db: new Kysely<MetadataDatabase>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) }),
      dialect: sqliteDialect,
      artifactRoot: '/srv/artifacts',
    });
    await other.migrate();
    await other.close();
    await expect(other.tokens.listTokens()).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });
});
