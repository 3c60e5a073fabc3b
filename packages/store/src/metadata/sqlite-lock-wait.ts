/**
 * Waiting for SQLite's write lock without freezing the process. better-sqlite3 is synchronous:
 * with a busy timeout, a statement that finds another process's write lock sleeps inside the
 * driver and the whole event loop with it (every request, `/health` included). Here SQLite
 * gives up at once (`busy_timeout = 0`) and the statement is tried again after an
 * asynchronous pause, with backoff, until `lockWaitMs` has passed; other work (requests that
 * need no database) goes on meanwhile.
 */
import { SqliteDialect } from 'kysely';
import { TrestleError } from '@trestle/core';
import { corruptDatabaseError, isCorruptDatabaseError } from './sqlite-file.js';
import type {
  CompiledQuery,
  DatabaseConnection,
  Driver,
  QueryResult,
  SqliteDialectConfig,
  TransactionSettings,
} from 'kysely';

/** Default of how long a statement waits for another process's write lock: 5 s. */
const DEFAULT_LOCK_WAIT_MS = 5000;

function isBusy(err: unknown): boolean {
  return errorCode(err).startsWith('SQLITE_BUSY');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : '';
}

/** The driver's failures that have a name of their own: a full disk, a damaged file. */
function named(err: unknown, file: string | undefined): unknown {
  const code = errorCode(err);
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC') {
    return new TrestleError(
      'STORAGE_FULL',
      `the metadata store${file === undefined ? '' : ` '${file}'`} cannot write: ${err instanceof Error ? err.message : code}; free space on its disk, then retry (nothing of this request was written)`,
      { reason: 'storage-full' },
      { cause: err },
    );
  }
  if (file !== undefined && isCorruptDatabaseError(err)) return corruptDatabaseError(file, err);
  return err;
}

class LockWaitingConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    readonly lockWaitMs: number,
    readonly file: string | undefined,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const started = Date.now();
    for (let pause = 1; ; pause = Math.min(25, pause * 2)) {
      try {
        return await this.inner.executeQuery<R>(query);
      } catch (err) {
        // A busy statement did nothing (BEGIN IMMEDIATE takes the lock before any write), so trying again is safe.
        if (!isBusy(err) || Date.now() - started >= this.lockWaitMs) throw named(err, this.file);
        await sleep(pause * (0.5 + Math.random()));
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class LockWaitingDriver implements Driver {
  constructor(
    readonly inner: Driver,
    readonly lockWaitMs: number,
    readonly file: string | undefined,
  ) {}
  init(): Promise<void> {
    return this.inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new LockWaitingConnection(await this.inner.acquireConnection(), this.lockWaitMs, this.file);
  }
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as LockWaitingConnection).inner);
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/**
 * Kysely's SQLite dialect whose statements wait for the write lock asynchronously (see the
 * module comment). Open the database with `busy_timeout = 0`.
 *
 * @example new Kysely({ dialect: new LockWaitingSqliteDialect({ database }, 5000) })
 */
export class LockWaitingSqliteDialect extends SqliteDialect {
  readonly #lockWaitMs: number;
  readonly #file: string | undefined;
  /** `file` names the database in errors: a full disk is `STORAGE_FULL`, a damaged file says how to recover. */
  constructor(config: SqliteDialectConfig, lockWaitMs = DEFAULT_LOCK_WAIT_MS, file?: string) {
    super(config);
    this.#lockWaitMs = lockWaitMs;
    this.#file = file;
  }
  override createDriver(): Driver {
    return new LockWaitingDriver(super.createDriver(), this.#lockWaitMs, this.#file);
  }
}
