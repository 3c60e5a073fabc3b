/**
 * SQLite's fast path for metrics-only log calls (`log-metric`, a `logBatch` of metrics): the
 * run check, history insert, latest upsert and rollup upserts as better-sqlite3 statements
 * prepared once, run in one synchronous transaction. Through Kysely the same write is six
 * awaited statements, each through the driver's mutex and the lock-waiting connection; here it
 * is a handful of native calls in one tick, so nothing else can interleave.
 *
 * It only takes the plain case and otherwise writes nothing and says so, leaving the call to
 * the general path, which waits for the lock asynchronously and reports every error its way:
 * another process holds the write lock (`SQLITE_BUSY` at once, busy timeout 0), a transaction
 * of this connection is open (a Kysely write awaiting between statements), the run is missing
 * or not active, or the driver fails in any way (a full disk, a damaged file).
 */
import type { Metric } from '@trestle/core';
import { sqliteDialect, type BulkInsert } from './dialects.js';
import { metricInserts } from './metric-writes.js';

/** The slice of a better-sqlite3 statement used here. */
interface Statement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}

/** The slice of a better-sqlite3 `Database` used here (typed structurally: the driver is loaded by `open.ts`). */
interface SqliteConnection {
  prepare(sql: string): Statement;
  /** True while a transaction is open on the connection. */
  readonly inTransaction: boolean;
}

/** Writes metrics-only batches without Kysely when it can; see the module comment. */
export interface MetricFastPath {
  /**
   * Writes validated `metrics` to run `runId` (history, latest points, rollups) in one
   * transaction and returns true; or writes nothing and returns false when the general path
   * must take the call (see the module comment).
   *
   * @example if (!fast.tryWrite(runId, metrics)) await slowWrite(runId, metrics);
   */
  tryWrite(runId: string, metrics: readonly Metric[]): boolean;
}

/** One row of `insert` as SQL text, with `?` placeholders. */
const oneRowText = ({ into, columns, tail }: BulkInsert): string =>
  `INSERT INTO ${into} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${tail}`;

const sameColumns = (a: readonly string[], b: readonly string[]): boolean =>
  a === b || (a.length === b.length && a.every((column, i) => column === b[i]));

/**
 * The fast path over `database`, the connection Kysely uses too. Statements are prepared on
 * first use (the tables exist only once the store is migrated): the transaction's, the run
 * check, and one single-row statement per insert of {@link metricInserts} (history, latest,
 * rollups), run once per row.
 *
 * @example const fast = sqliteMetricFastPath(database); fast.tryWrite(runId, [{ key: 'loss', value: 0.5, step: 1, timestamp: Date.now() }]);
 */
export function sqliteMetricFastPath(database: SqliteConnection): MetricFastPath {
  let fixed: { begin: Statement; commit: Statement; rollback: Statement; stage: Statement } | undefined;
  // By table, then columns and tail: building each statement's text (a kilobyte for the rollup
  // upsert) and hashing it to find the prepared statement cost more than some of the inserts.
  const inserts = new Map<string, { columns: readonly string[]; tail: string; statement: Statement }[]>();
  const insertOf = (insert: BulkInsert): Statement => {
    let prepared = inserts.get(insert.into);
    if (prepared === undefined) inserts.set(insert.into, (prepared = []));
    for (const p of prepared) if (p.tail === insert.tail && sameColumns(p.columns, insert.columns)) return p.statement;
    const statement = database.prepare(oneRowText(insert));
    prepared.push({ columns: insert.columns, tail: insert.tail, statement });
    return statement;
  };

  const write = (runId: string, metrics: readonly Metric[]): boolean => {
    const s = (fixed ??= {
      begin: database.prepare('BEGIN IMMEDIATE'),
      commit: database.prepare('COMMIT'),
      rollback: database.prepare('ROLLBACK'),
      stage: database.prepare('SELECT lifecycle_stage FROM runs WHERE run_id = ?'),
    });
    // With dedupe: a point identical to a stored one is kept once, in one step.
    const planned = metricInserts(runId, metrics, sqliteDialect.metricHistory, true).map((insert) => ({
      statement: insertOf(insert),
      insert,
    }));
    try {
      s.begin.run();
    } catch {
      return false;
    }
    try {
      const row = s.stage.get(runId) as { lifecycle_stage: string } | undefined;
      if (row?.lifecycle_stage !== 'active') {
        s.rollback.run();
        return false;
      }
      for (const { statement, insert } of planned) for (const r of insert.rows) statement.run(r);
      s.commit.run();
      return true;
    } catch {
      if (database.inTransaction) {
        try {
          s.rollback.run();
        } catch {
          // The connection is unusable: the general path will say why.
        }
      }
      return false;
    }
  };

  return {
    tryWrite(runId, metrics) {
      // An empty batch still checks the run: the general path says whether it exists.
      if (metrics.length === 0 || database.inTransaction) return false;
      try {
        return write(runId, metrics);
      } catch {
        // The statements could not be prepared (a store not migrated yet): the general path reports it.
        return false;
      }
    },
  };
}
