/**
 * Opening a metadata store from a URI: `postgres://` / `postgresql://` → PostgreSQL (pg pool),
 * anything else → a SQLite file (better-sqlite3). Each driver is imported only when its URI is
 * opened, so the SQLite path never loads pg and the other way round.
 */
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { TrestleError } from '@trestle/core';
import { postgresDialect, sqliteDialect } from './dialects.js';
import type { SqlDialect } from './dialects.js';
import type { MetadataDatabase } from './schema.js';
import { SqlMetadataStore } from './sql-metadata-store.js';

/** Options of {@link openMetadataStore}. */
export interface OpenMetadataStoreOptions {
  /** Directory relative paths (SQLite file, artifact root) are resolved against; default `process.cwd()`. */
  cwd?: string;
  /** Artifact root for new experiments: a path (made absolute) or a URI such as `s3://bucket/prefix`; default `.trestle/artifacts`. */
  artifactRoot?: string;
  /** Apply pending migrations on open (default true); `trestle db upgrade` opens with `false` and calls `migrate()`. */
  migrate?: boolean;
  /** PostgreSQL pool size; default 10. */
  poolSize?: number;
}

const URI_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True for `postgres://…` and `postgresql://…` URIs. */
export function isPostgresUri(uri: string): boolean {
  return /^postgres(ql)?:\/\//i.test(uri);
}

/** An artifact root as stored: URIs unchanged, paths absolute, no trailing slash. */
export function resolveArtifactRoot(root: string, cwd: string): string {
  const absolute = URI_SCHEME.test(root) || isAbsolute(root) ? root : resolve(cwd, root);
  return absolute.length > 1 ? absolute.replace(/\/+$/, '') : absolute;
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages. */
export function redactUri(uri: string): string {
  return uri.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/**
 * Opens (and by default migrates) the metadata store at `uri`.
 *
 * @example
 * const store = await openMetadataStore('.trestle/trestle.db', { artifactRoot: '.trestle/artifacts' });
 * const pg = await openMetadataStore('postgres://trestle@db:5432/trestle');
 */
export async function openMetadataStore(
  uri: string,
  options: OpenMetadataStoreOptions = {},
): Promise<SqlMetadataStore> {
  const cwd = options.cwd ?? process.cwd();
  const artifactRoot = resolveArtifactRoot(options.artifactRoot ?? '.trestle/artifacts', cwd);
  const store = isPostgresUri(uri)
    ? await openPostgres(uri, artifactRoot, options.poolSize ?? 10)
    : await openSqlite(uri, artifactRoot, cwd);
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

function storeOver(db: Kysely<MetadataDatabase>, dialect: SqlDialect, artifactRoot: string): SqlMetadataStore {
  return new SqlMetadataStore({ db, dialect, artifactRoot });
}

/** Kysely prepares every query; better-sqlite3 statements are reusable, so keep the recent ones. */
function withStatementCache(db: SqliteDatabase, size = 200): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(text: string): SqliteStatement {
      let stmt = cache.get(text);
      if (stmt !== undefined) {
        cache.delete(text);
      } else {
        stmt = db.prepare(text);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}

async function openSqlite(uri: string, artifactRoot: string, cwd: string): Promise<SqlMetadataStore> {
  const path = uri.replace(/^sqlite:(\/\/)?/i, '');
  const inMemory = path === ':memory:' || path === '';
  const file = inMemory ? ':memory:' : resolve(cwd, path);
  if (!inMemory) mkdirSync(dirname(file), { recursive: true });
  const { default: Database } = await import('better-sqlite3');
  let database;
  try {
    database = new Database(file);
  } catch (err) {
    throw new TrestleError(
      'UNAVAILABLE',
      `cannot open the SQLite metadata store '${file}': ${String(err)}`,
      { file },
      { cause: err },
    );
  }
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<MetadataDatabase>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return storeOver(db, sqliteDialect, artifactRoot);
}

async function openPostgres(uri: string, artifactRoot: string, poolSize: number): Promise<SqlMetadataStore> {
  const { default: pg } = await import('pg');
  // int8 (counts, epoch ms, steps) and numeric as JS numbers, for this pool only.
  const asNumber = (text: string): number => Number(text);
  const INT8 = 20;
  const NUMERIC = 1700;
  const defaultParser = pg.types.getTypeParser as (
    oid: number,
    format: 'text' | 'binary',
  ) => (value: string) => unknown;
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8 || oid === NUMERIC
        ? asNumber
        : defaultParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: uri, types, max: poolSize });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<MetadataDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new TrestleError(
      'UNAVAILABLE',
      `cannot connect to the PostgreSQL metadata store ${redactUri(uri)}: ${err instanceof Error ? err.message : String(err)}; check that the server is running and the URI is right`,
      { uri: redactUri(uri) },
      { cause: err },
    );
  }
  return storeOver(db, postgresDialect, artifactRoot);
}
