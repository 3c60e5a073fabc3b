/**
 * Opening a metadata store from a URI: `postgres://` / `postgresql://` → PostgreSQL (pg pool),
 * a path (or `sqlite:path`) → a SQLite file (better-sqlite3); any other scheme is refused.
 * Each driver is imported only when its URI is opened, so the SQLite path never loads pg and
 * the other way round.
 */
import { isAbsolute, resolve } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { TrestleError } from '@trestle/core';
import { postgresDialect, sqliteDialect } from './dialects.js';
import type { SqlDialect } from './dialects.js';
import type { MetadataDatabase } from './schema.js';
import { MIGRATION_TABLES } from './migrations/index.js';
import { LockWaitingSqliteDialect } from './sqlite-lock-wait.js';
import { SqlMetadataStore } from './sql-metadata-store.js';
import { sqliteMetricFastPath, type MetricFastPath } from './sqlite-metric-writer.js';
import { corruptDatabaseError, createSqliteFile, inspectSqliteFile, isCorruptDatabaseError } from './sqlite-file.js';

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
  /**
   * Create a missing SQLite file (default true). Its folder must exist either way: a store is
   * never made in a place nobody prepared. Read-only callers pass `false`, so that looking
   * never creates a store (a missing file is then `NOT_FOUND`).
   */
  create?: boolean;
  /**
   * SQLite: how long (ms) a statement waits for another process's write lock before failing
   * with `UNAVAILABLE`; default 5000. The wait is asynchronous: the process keeps serving.
   */
  lockWaitMs?: number;
  /** The clock (epoch ms) of creation, update and deletion times; default `Date.now`. For tests. */
  now?: () => number;
}

const URI_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True for `postgres://…` and `postgresql://…` URIs. */
export function isPostgresUri(uri: string): boolean {
  return /^postgres(ql)?:\/\//i.test(uri);
}

/** The schemes {@link openMetadataStore} accepts besides a plain path. */
const METADATA_STORE_SCHEMES: readonly string[] = ['sqlite', 'postgres', 'postgresql'];

// `C:\\trestle.db` is a Windows path, not a scheme: schemes have two letters or more.
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/** An artifact root as stored: URIs unchanged, paths absolute, no trailing slash. */
export function resolveArtifactRoot(root: string, cwd: string): string {
  const absolute = URI_SCHEME.test(root) || isAbsolute(root) ? root : resolve(cwd, root);
  return absolute.length > 1 ? absolute.replace(/\/+$/, '') : absolute;
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages. */
function redactUri(uri: string): string {
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
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme !== undefined && !METADATA_STORE_SCHEMES.includes(scheme)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `unsupported metadata store URI scheme '${scheme}:' in '${redactUri(uri)}'; use a SQLite file path (or sqlite:path) or postgres://user@host/db`,
      { uri: redactUri(uri), scheme, supported: [...METADATA_STORE_SCHEMES] },
    );
  }
  if (isPostgresUri(uri)) {
    const store = await openPostgres(uri, artifactRoot, options.poolSize ?? 10, options.now);
    if (options.migrate !== false) await migrateOrClose(store, (err) => err);
    return store;
  }
  const { store, file } = await openSqlite(uri, artifactRoot, cwd, options);
  await migrateOrClose(
    store,
    (err) => (file !== undefined && isCorruptDatabaseError(err) ? corruptDatabaseError(file, err) : err),
    options.migrate !== false,
  );
  return store;
}

async function migrateOrClose(
  store: SqlMetadataStore,
  mapError: (err: unknown) => unknown,
  migrate = true,
): Promise<void> {
  try {
    if (migrate) await store.migrate();
  } catch (err) {
    await store.close();
    throw mapError(err);
  }
}

function storeOver(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  artifactRoot: string,
  now: (() => number) | undefined,
  metricFastPath?: MetricFastPath,
): SqlMetadataStore {
  return new SqlMetadataStore({
    db,
    dialect,
    artifactRoot,
    ...(now === undefined ? {} : { now }),
    ...(metricFastPath === undefined ? {} : { metricFastPath }),
  });
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

async function openSqlite(
  uri: string,
  artifactRoot: string,
  cwd: string,
  options: OpenMetadataStoreOptions,
): Promise<{ store: SqlMetadataStore; file: string | undefined }> {
  const path = uri.replace(/^sqlite:(\/\/)?/i, '');
  const inMemory = path === ':memory:';
  if (path.trim() === '') {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      'the metadata store path is empty; give a SQLite file path or postgres:// URI',
    );
  }
  const file = inMemory ? ':memory:' : resolve(cwd, path);
  const { default: Database } = await import('better-sqlite3');
  let database;
  try {
    if (!inMemory && inspectSqliteFile(file, { create: options.create ?? true }) === 'missing') {
      createSqliteFile(file, (p) => new Database(p));
    }
    // `fileMustExist`: from here on the driver never creates a file, whatever happened meanwhile.
    database = new Database(file, { fileMustExist: !inMemory });
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    // SQLite's own busy wait would sleep inside the synchronous driver: wait in LockWaitingSqliteDialect instead.
    database.pragma('busy_timeout = 0');
    database.pragma('foreign_keys = ON');
    refuseForeignDatabase(database, file);
  } catch (err) {
    database?.close();
    if (err instanceof TrestleError) throw err;
    if (isCorruptDatabaseError(err)) throw corruptDatabaseError(file, err);
    throw new TrestleError(
      'UNAVAILABLE',
      `cannot open the SQLite metadata store '${file}': ${err instanceof Error ? err.message : String(err)}`,
      { file },
      { cause: err },
    );
  }
  const db = new Kysely<MetadataDatabase>({
    dialect: new LockWaitingSqliteDialect(
      { database: withStatementCache(database) },
      options.lockWaitMs,
      inMemory ? undefined : file,
    ),
  });
  return {
    store: storeOver(db, sqliteDialect, artifactRoot, options.now, sqliteMetricFastPath(database)),
    file: inMemory ? undefined : file,
  };
}

/** A SQLite file with tables but no Trestle migration table belongs to another program: leave it alone. */
function refuseForeignDatabase(
  database: { prepare(sql: string): { pluck(): { all(): unknown[] } } },
  file: string,
): void {
  const tables = database
    .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")
    .pluck()
    .all() as string[];
  if (tables.length > 0 && !tables.includes(MIGRATION_TABLES.migrations)) {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
    throw new TrestleError(
      'FAILED_PRECONDITION',
      `'${file}' is a SQLite database of another program (tables ${shown}), not a Trestle metadata store; Trestle leaves it untouched: point --db (TRESTLE_DB) at a Trestle store or a new file`,
      { file, reason: 'foreign' },
    );
  }
}

async function openPostgres(
  uri: string,
  artifactRoot: string,
  poolSize: number,
  now: (() => number) | undefined,
): Promise<SqlMetadataStore> {
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
  return storeOver(db, postgresDialect, artifactRoot, now);
}
