/**
 * What a SQLite metadata store file is before it is opened: a store never guesses. A missing
 * file is created only when asked (and only in a folder that exists), atomically, so a crash
 * never leaves an empty file behind; an empty or foreign file is refused, never initialised
 * over; a damaged database is reported with the file's name and how to recover it.
 */
import { closeSync, linkSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { TrestleError } from '@trestle/core';

/** The 16 bytes every SQLite 3 database file starts with. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

function errnoCode(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
    ? (err as { code: string }).code
    : '';
}

/** True for the driver's "this database is damaged" errors (`SQLITE_CORRUPT*`, `SQLITE_NOTADB`). */
export function isCorruptDatabaseError(err: unknown): boolean {
  const code = errnoCode(err);
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/** The error for a damaged database file: names it and says how to get the data back. */
export function corruptDatabaseError(file: string, err: unknown): TrestleError {
  const why = err instanceof Error ? err.message : String(err);
  return new TrestleError(
    'FAILED_PRECONDITION',
    `the SQLite metadata store '${file}' is damaged (${why}). Stop every Trestle process using it and keep a ` +
      `copy of the file and its '-wal' file; then restore it from a backup, or recover what is readable with ` +
      `sqlite3 '${file}' .recover | sqlite3 '${file}.recovered' and point --db (TRESTLE_DB) at '${file}.recovered'`,
    { file, reason: 'corrupt' },
    { cause: err },
  );
}

/**
 * Checks the file at `file` (absolute) before the driver opens it. Returns `'exists'` for a
 * file that starts like a SQLite database, `'missing'` when there is none and `create` allows
 * one. Throws `NOT_FOUND` for a missing file that may not be created or a missing folder, and
 * `FAILED_PRECONDITION` for an empty file or one that is not a SQLite database.
 *
 * @example inspectSqliteFile('/repo/.trestle/trestle.db', { create: false }) // 'exists'
 */
export function inspectSqliteFile(file: string, options: { create: boolean }): 'exists' | 'missing' {
  let size: number;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `'${file}' is not a file, so it cannot be a SQLite metadata store; point --db (TRESTLE_DB) at a .db file`,
        { file },
      );
    }
    size = stats.size;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    if (!options.create) {
      throw new TrestleError(
        'NOT_FOUND',
        `there is no metadata store at '${file}' yet: nothing has been recorded there. A command that records something (a run, 'trestle experiments create') creates it; or point --db (TRESTLE_DB) or TRESTLE_HOME at an existing store`,
        { file, reason: 'missing' },
      );
    }
    const dir = dirname(file);
    if (!isDirectory(dir)) {
      throw new TrestleError(
        'NOT_FOUND',
        `cannot use the SQLite metadata store '${file}': the folder '${dir}' does not exist; check the path given with --db (TRESTLE_DB), or create the folder first`,
        { file },
      );
    }
    return 'missing';
  }
  if (size === 0) {
    throw new TrestleError(
      'FAILED_PRECONDITION',
      `'${file}' is an empty file (0 bytes), not a Trestle metadata store, and Trestle does not write over it; delete it if a new store should be created there, or point --db (TRESTLE_DB) at the right file`,
      { file, reason: 'empty' },
    );
  }
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(SQLITE_HEADER)) {
    throw new TrestleError(
      'FAILED_PRECONDITION',
      `'${file}' is not a SQLite database (it lacks the SQLite header), so it is not a Trestle metadata store; Trestle leaves it untouched: point --db (TRESTLE_DB) at the right file`,
      { file, reason: 'not-sqlite' },
    );
  }
  return 'exists';
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Creates an empty SQLite database in WAL mode at `file` without ever exposing a partial file:
 * it is made under a temporary name and linked into place (an existing file, made by a
 * concurrent creator, is kept as it is).
 */
export function createSqliteFile(
  file: string,
  open: (path: string) => { pragma(s: string): unknown; close(): void },
): void {
  const temp = `${file}.creating-${randomBytes(6).toString('hex')}`;
  try {
    const db = open(temp);
    try {
      // Setting WAL writes the database header, so the file is a valid database from here on.
      db.pragma('journal_mode = WAL');
    } finally {
      db.close();
    }
    try {
      linkSync(temp, file);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  } finally {
    for (const leftover of [temp, `${temp}-wal`, `${temp}-shm`]) {
      try {
        unlinkSync(leftover);
      } catch {
        // Not there: nothing to remove.
      }
    }
  }
}
