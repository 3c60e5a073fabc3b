/**
 * Everything that differs between SQLite and PostgreSQL, in one place. The store, the
 * migrations and the search compiler ask this object; none of them branch on the dialect name.
 * No driver is imported here: `open.ts` loads better-sqlite3 or pg when a URI needs it.
 */
import { CompiledQuery, sql } from 'kysely';
import type { ColumnDefinitionBuilder, CreateTableBuilder, Expression, RawBuilder, SqlBool } from 'kysely';
import { TrestleError, isTrestleError, type StoreCapabilities } from '@trestle/core';

/** SQL type of one column of a {@link SqlDialect.bulkInsert}. */
export type BulkColumnType = 'text' | 'bigint' | 'double' | 'smallint' | 'blob';

/** A value bound into SQL by the store. */
export type BulkValue = string | number | Uint8Array | null;

/** A multi-row insert for {@link SqlDialect.bulkInsert}. */
export interface BulkInsert {
  /** Table, optionally with an alias: `metric_rollups AS mr`. */
  readonly into: string;
  readonly columns: readonly string[];
  readonly types: readonly BulkColumnType[];
  readonly rows: readonly (readonly BulkValue[])[];
  /** e.g. `ON CONFLICT DO NOTHING`. */
  readonly tail: string;
}

/** The dialect-specific pieces of SQL the metadata store needs. */
export interface SqlDialect {
  readonly capabilities: StoreCapabilities;
  /** Column types for migrations. */
  readonly types: {
    /** Text compared bytewise on both engines (PostgreSQL: `COLLATE "C"`), so order and LIKE agree. */
    readonly text: RawBuilder<unknown>;
    readonly bigint: RawBuilder<unknown>;
    readonly double: RawBuilder<unknown>;
    readonly smallint: RawBuilder<unknown>;
    readonly integer: RawBuilder<unknown>;
    readonly blob: RawBuilder<unknown>;
    /** A 64-bit {@link identityPrimaryKey} column (SQLite: `integer`, which alone makes the rowid alias). */
    readonly identity: RawBuilder<unknown>;
  };
  /**
   * How the metric history is stored: `chunks` (PostgreSQL), one `metric_chunks` row per
   * (run, key) of each logged batch with its points packed (see `metric-chunks.ts`), or
   * `rows` (SQLite), one `metrics` row per point (see migration `0003-metric-chunks`).
   */
  readonly metricHistory: 'rows' | 'chunks';
  /** Makes an integer column an auto-assigned primary key (SQLite rowid alias, PostgreSQL identity). */
  identityPrimaryKey(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Stores a table in primary-key order when the engine can (SQLite `WITHOUT ROWID`). */
  clustered<T extends CreateTableBuilder<string, string>>(table: T): T;
  /** Expression indexed for `(key, value)` lookups on long text values (see {@link textEquals}). */
  indexedTextValue(column: string): RawBuilder<unknown>;
  /** `lhs = value` written so that the `(key, indexedTextValue)` index serves it. */
  textEquals(lhs: Expression<unknown>, value: string): RawBuilder<SqlBool>;
  /**
   * Whether migrations must run inside one write transaction to be safe against a concurrent
   * migrator (SQLite: Kysely takes no lock there). PostgreSQL relies on Kysely's advisory lock.
   */
  readonly migrateInWriteTransaction: boolean;
  /** Statement that starts a write transaction (SQLite takes the write lock up front). */
  readonly beginWrite: RawBuilder<unknown>;
  /** Case-sensitive LIKE with `%`, `_` and `\` as escape character. */
  like(lhs: Expression<unknown>, pattern: string): RawBuilder<SqlBool>;
  /** Case-insensitive LIKE (SQLite folds ASCII letters only). */
  ilike(lhs: Expression<unknown>, pattern: string): RawBuilder<SqlBool>;
  /** `lhs IN (values)` with the whole list bound as one parameter (no bind-variable limits). */
  inList(lhs: Expression<unknown>, values: readonly (string | number)[], type: 'text' | 'bigint'): RawBuilder<SqlBool>;
  /**
   * `INSERT INTO <into> (<columns>) <rows> <tail>` as ready-to-run statements (several when
   * the rows exceed the engine's bind-parameter limit). Built as text with placeholders
   * rather than query-builder nodes: compiling a node per value costs a few microseconds
   * per row, as much as the insert itself. `into`, `columns` and `tail` must be trusted SQL.
   * Numbers may be ±Infinity (never NaN).
   */
  bulkInsert(statement: BulkInsert): CompiledQuery[];
  /**
   * `inserts` (as {@link bulkInsert} would run them) and the check that run `runId` is active,
   * as ONE statement that writes only if the run exists and is active, and returns the run's
   * `lifecycle_stage` (no row: no such run). One round trip, atomic without an explicit
   * transaction. `undefined` where the engine cannot put an INSERT inside WITH (SQLite), where
   * the caller checks and inserts in a write transaction (in process: no round trips to save).
   *
   * @example
   * const q = dialect.insertsIfRunActive?.(runId, [{ into: 'metrics', columns, types, rows, tail: '' }]);
   */
  readonly insertsIfRunActive?: (
    runId: string,
    inserts: readonly BulkInsert[],
  ) => CompiledQuery<{ lifecycle_stage: string }>;
  /** Aggregate of `expr` into a JSON array, as text (`null` on PostgreSQL for no rows). */
  jsonArrayAgg(expr: Expression<unknown>): RawBuilder<string | null>;
  /** Aggregate of text `expr` joined by `separator`, ordered by `orderBy` (`null` for no rows). */
  stringAgg(expr: Expression<unknown>, separator: string, orderBy: RawBuilder<unknown>): RawBuilder<string | null>;
  /**
   * A finite double as the text of a JSON number that reads back as the same double (SQLite
   * writes 17 significant digits, e.g. `1.0`; PostgreSQL the shortest exact form).
   */
  jsonNumber(expr: Expression<unknown>): RawBuilder<string>;
  /**
   * Run inside a write transaction before appending to an event table, so that event ids are
   * handed out in commit order and a reader that resumes after id N never misses a later
   * commit with a smaller id. `undefined` where writers are already serialised (SQLite).
   */
  readonly serializeAppends: RawBuilder<unknown> | undefined;
  /** A unique or primary-key constraint failed. */
  isUniqueViolation(err: unknown): boolean;
  /** The transaction lost a race (deadlock, serialization failure) and may be retried at once. */
  isRetryable(err: unknown): boolean;
  /** A lock was not granted in time (another process holds the database): report, do not retry. */
  isBusy(err: unknown): boolean;
  /** The error as `STORAGE_FULL` when it says the store's disk or quota is full; else undefined. */
  storageFull(err: unknown): TrestleError | undefined;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Turns a LIKE pattern (`%`, `_`, `\` escapes) into the equivalent case-sensitive GLOB pattern. */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      out += globLiteral(pattern[++i]!);
    } else if (c === '%') {
      out += '*';
    } else if (c === '_') {
      out += '?';
    } else {
      out += globLiteral(c);
    }
  }
  return out;
}

function globLiteral(c: string): string {
  return c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
}

const SQLITE_MAX_PARAMETERS = 32766;
const sqliteRowTexts = new Map<string, string>();

/** `(?, ?, …), (?, ?, …)` for `rows` rows of `columns` values, memoised per shape. */
function sqlitePlaceholders(rows: number, columns: number): string {
  const shape = `${rows}x${columns}`;
  let text = sqliteRowTexts.get(shape);
  if (text === undefined) {
    const row = `(${new Array<string>(columns).fill('?').join(', ')})`;
    text = new Array<string>(rows).fill(row).join(', ');
    if (sqliteRowTexts.size < 64) sqliteRowTexts.set(shape, text);
  }
  return text;
}

const ESCAPE = '\\';

/**
 * SQLite: LIKE is case-insensitive for ASCII, so the case-sensitive LIKE is compiled to GLOB
 * (rather than `PRAGMA case_sensitive_like`, which is deprecated and per connection) and
 * ILIKE to LIKE. Lists travel as one JSON parameter read with `json_each`; bulk rows as
 * multi-row VALUES split under SQLite's 32,766 bind parameters, each statement text memoised
 * (and its prepared statement cached by `open.ts`).
 */
export const sqliteDialect: SqlDialect = {
  capabilities: Object.freeze({ dialect: 'sqlite', concurrentWriters: false }),
  types: {
    text: sql`text`,
    bigint: sql`bigint`,
    double: sql`double precision`,
    smallint: sql`smallint`,
    integer: sql`integer`,
    blob: sql`blob`,
    identity: sql`integer`,
  },
  metricHistory: 'rows',
  identityPrimaryKey: (col) => col.primaryKey(),
  clustered: (table) => table.modifyEnd(sql`without rowid`) as typeof table,
  indexedTextValue: (column) => sql.ref(column),
  textEquals: (lhs, value) => sql<SqlBool>`${lhs} = ${value}`,
  migrateInWriteTransaction: true,
  beginWrite: sql`begin immediate`,
  like: (lhs, pattern) => sql<SqlBool>`${lhs} GLOB ${likeToGlob(pattern)}`,
  ilike: (lhs, pattern) => sql<SqlBool>`${lhs} LIKE ${pattern} ESCAPE ${ESCAPE}`,
  inList: (lhs, values) => sql<SqlBool>`${lhs} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`,
  bulkInsert: ({ into, columns, rows, tail }) => {
    const perStatement = Math.max(1, Math.floor(SQLITE_MAX_PARAMETERS / columns.length));
    const out: CompiledQuery[] = [];
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      const parameters: unknown[] = [];
      for (const row of chunk) for (const v of row) parameters.push(v);
      const text = `INSERT INTO ${into} (${columns.join(', ')}) VALUES ${sqlitePlaceholders(chunk.length, columns.length)} ${tail}`;
      out.push(CompiledQuery.raw(text, parameters));
    }
    return out;
  },
  jsonArrayAgg: (expr) => sql<string>`json_group_array(${expr})`,
  // An ORDER BY inside group_concat doubles its time; the caller's ordered subquery over the
  // WITHOUT ROWID primary key already yields rows in that order.
  stringAgg: (expr, separator) => sql<string | null>`group_concat(${expr}, ${sql.lit(separator)})`,
  // CAST(real AS text) keeps only 15 digits; the JSON renderer keeps 17.
  jsonNumber: (expr) => sql<string>`json_quote(${expr})`,
  // BEGIN IMMEDIATE already makes one writer at a time.
  serializeAppends: undefined,
  isUniqueViolation: (err) => /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(errorCode(err)),
  // BEGIN IMMEDIATE never upgrades a read lock, so SQLITE_BUSY only comes after busy_timeout.
  isRetryable: () => false,
  isBusy: (err) => errorCode(err).startsWith('SQLITE_BUSY'),
  // The connection (sqlite-lock-wait.ts) already names a full disk, with the file's name.
  storageFull: (err) => (isTrestleError(err, 'STORAGE_FULL') ? err : undefined),
};

/** Characters of a text value that PostgreSQL's `(key, value)` indexes hold (btree rows must stay under ~2.7 kB). */
const PG_INDEXED_PREFIX = 200;

const PG_TYPES: Record<BulkColumnType, string> = {
  text: 'text',
  bigint: 'int8',
  double: 'float8',
  smallint: 'int2',
  blob: 'bytea',
};

/**
 * `INSERT INTO <into> (<columns>) SELECT * FROM unnest(<one array parameter per column>)
 * <where> <tail>`, whatever the number of rows; appends the arrays to `parameters`.
 */
function pgBulkInsertText(
  { into, columns, types, rows, tail }: BulkInsert,
  parameters: unknown[],
  where: string,
): string {
  const arrays = types.map((type, i) => {
    parameters.push(rows.map((row) => row[i] ?? null));
    return `$${parameters.length}::${PG_TYPES[type]}[]`;
  });
  const select = `INSERT INTO ${into} (${columns.join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})`;
  return [select, where, tail].filter((part) => part !== '').join(' ');
}

/**
 * PostgreSQL: text columns use `COLLATE "C"` so ordering and LIKE match SQLite's bytewise
 * rules; `(key, value)` indexes hold a prefix of the value because a btree entry cannot
 * exceed ~2.7 kB and tag values may be 8,000 characters. Lists and bulk rows are arrays.
 */
export const postgresDialect: SqlDialect = {
  capabilities: Object.freeze({ dialect: 'postgres', concurrentWriters: true }),
  types: {
    text: sql`text collate "C"`,
    bigint: sql`bigint`,
    double: sql`double precision`,
    smallint: sql`smallint`,
    integer: sql`integer`,
    blob: sql`bytea`,
    identity: sql`bigint`,
  },
  metricHistory: 'chunks',
  identityPrimaryKey: (col) => col.generatedByDefaultAsIdentity().primaryKey(),
  clustered: (table) => table,
  indexedTextValue: (column) => sql`(left(${sql.ref(column)}, ${sql.lit(PG_INDEXED_PREFIX)}))`,
  textEquals: (lhs, value) =>
    sql<SqlBool>`(left(${lhs}, ${sql.lit(PG_INDEXED_PREFIX)}) = left(${value}, ${sql.lit(PG_INDEXED_PREFIX)}) AND ${lhs} = ${value})`,
  migrateInWriteTransaction: false,
  beginWrite: sql`begin`,
  like: (lhs, pattern) => sql<SqlBool>`${lhs} LIKE ${pattern} ESCAPE ${ESCAPE}`,
  ilike: (lhs, pattern) => sql<SqlBool>`${lhs} ILIKE ${pattern} ESCAPE ${ESCAPE}`,
  inList: (lhs, values, type) => sql<SqlBool>`${lhs} = ANY(${values}::${sql.raw(PG_TYPES[type])}[])`,
  bulkInsert: (insert) => {
    if (insert.rows.length === 0) return [];
    const parameters: unknown[] = [];
    return [CompiledQuery.raw(pgBulkInsertText(insert, parameters, ''), parameters)];
  },
  insertsIfRunActive: (runId, inserts) => {
    const parameters: unknown[] = [runId];
    const guard = `WHERE EXISTS (SELECT 1 FROM run WHERE lifecycle_stage = 'active')`;
    // Data-modifying WITH queries always run to completion, read or not; the run is read once.
    const writes = inserts
      .filter((insert) => insert.rows.length > 0)
      .map((insert, i) => `, w${i} AS (${pgBulkInsertText(insert, parameters, guard)})`);
    const text = `WITH run AS (SELECT lifecycle_stage FROM runs WHERE run_id = $1)${writes.join('')} SELECT lifecycle_stage FROM run`;
    return CompiledQuery.raw(text, parameters);
  },
  jsonArrayAgg: (expr) => sql<string | null>`json_agg(${expr})::text`,
  // PostgreSQL does not promise a subquery's order to an aggregate (parallel plans): say it.
  stringAgg: (expr, separator, orderBy) =>
    sql<string | null>`string_agg(${expr}, ${sql.lit(separator)} ORDER BY ${orderBy})`,
  // float8 → text is the shortest exact form (with the default extra_float_digits).
  jsonNumber: (expr) => sql<string>`(${expr})::text`,
  // A transaction-scoped advisory lock (key: "trestle events" in ASCII, truncated) held to commit.
  serializeAppends: sql`SELECT pg_advisory_xact_lock(7491857743)`,
  isUniqueViolation: (err) => errorCode(err) === '23505',
  isRetryable: (err) => ['40001', '40P01'].includes(errorCode(err)),
  isBusy: (err) => errorCode(err) === '55P03',
  // 53100 disk_full, 53200 out_of_memory is not ours to report as storage.
  storageFull: (err) =>
    isTrestleError(err, 'STORAGE_FULL')
      ? err
      : errorCode(err) === '53100'
        ? new TrestleError(
            'STORAGE_FULL',
            `the PostgreSQL metadata store cannot write: its disk is full (${err instanceof Error ? err.message : '53100'}); free space on the database server, then retry`,
            { reason: 'storage-full' },
            { cause: err },
          )
        : undefined,
};
