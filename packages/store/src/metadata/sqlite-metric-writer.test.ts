import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Metric } from '@trestle/core';
import { openMetadataStore } from './index.js';
import type { SqlMetadataStore } from './sql-metadata-store.js';
import { sqliteMetricFastPath } from './sqlite-metric-writer.js';

const point = (step: number, value = step / 10): Metric => ({ key: 'loss', value, step, timestamp: 1000 + step });

describe('SQLite metric fast path', () => {
  let dir: string;
  let file: string;
  let store: SqlMetadataStore;
  let db: Database.Database;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trestle-fastpath-'));
    file = join(dir, 'trestle.db');
    store = await openMetadataStore(file, { artifactRoot: join(dir, 'artifacts') });
    db = new Database(file);
    db.pragma('busy_timeout = 0');
  });
  afterEach(async () => {
    db.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = (table: string, runId: string): number =>
    (db.prepare(`select count(*) as n from ${table} where run_id = ?`).get(runId) as { n: number }).n;

  it('writes history, latest point and one rollup row per width in one transaction', async () => {
    const run = await store.createRun({ experimentId: '0' });
    const id = run.info.runId;
    const fast = sqliteMetricFastPath(db);
    expect(fast.tryWrite(id, [point(3), point(1000, NaN)])).toBe(true);
    expect(db.inTransaction).toBe(false);
    expect(count('metrics', id)).toBe(2);
    // Steps 3 and 1000 share buckets from width 1024 up: 2 rows at width 256, 1 at each of the 4 others.
    expect(count('metric_rollups', id)).toBe(6);
    // The store reads what the fast path wrote: NaN is the latest point (greatest step).
    expect((await store.getRun(id)).data.metrics).toEqual([point(1000, NaN)]);
    const sampled = await store.getMetricHistoryDownsampled(id, 'loss', { points: 10 });
    expect(sampled).toEqual([point(3), point(1000, NaN)]);
  });

  it('is what the store opened on a SQLite file writes a metrics-only logBatch with, in the calling tick', async () => {
    const run = await store.createRun({ experimentId: '0' });
    const id = run.info.runId;
    const fast = store.logBatch(id, { metrics: [point(1), point(2)] });
    // Not awaited yet: only the synchronous fast path can have written the rows.
    expect(count('metrics', id)).toBe(2);
    await fast;
    // With a tag the batch takes the general path, which writes only once awaited.
    const general = store.logBatch(id, { metrics: [point(3)], tags: [{ key: 'note', value: 'x' }] });
    expect(count('metrics', id)).toBe(2);
    await general;
    expect(count('metrics', id)).toBe(3);
  });

  it('declines, writing nothing, for a missing or deleted run and an empty batch, so the store reports them', async () => {
    const run = await store.createRun({ experimentId: '0' });
    const id = run.info.runId;
    const fast = sqliteMetricFastPath(db);
    expect(fast.tryWrite('0'.repeat(32), [point(1)])).toBe(false);
    expect(fast.tryWrite(id, [])).toBe(false);
    await store.deleteRun(id);
    expect(fast.tryWrite(id, [point(1)])).toBe(false);
    expect(db.inTransaction).toBe(false);
    expect(count('metrics', id)).toBe(0);
    await expect(store.logBatch(id, { metrics: [point(1)] })).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/is deleted; restore it/) as unknown,
    });
    await expect(store.logBatch('0'.repeat(32), { metrics: [point(1)] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('declines while a transaction of its connection is open, or another connection holds the write lock', async () => {
    const run = await store.createRun({ experimentId: '0' });
    const id = run.info.runId;
    const fast = sqliteMetricFastPath(db);
    db.exec('BEGIN');
    expect(fast.tryWrite(id, [point(1)])).toBe(false);
    db.exec('ROLLBACK');
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      expect(fast.tryWrite(id, [point(1)])).toBe(false);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect(fast.tryWrite(id, [point(1)])).toBe(true);
    expect(count('metrics', id)).toBe(1);
  });

  it('declines on a database that is not migrated yet', () => {
    const empty = new Database(join(dir, 'empty.db'));
    try {
      expect(sqliteMetricFastPath(empty).tryWrite('r', [point(1)])).toBe(false);
    } finally {
      empty.close();
    }
  });

  it('a one-point logBatch while another connection holds the lock waits without blocking, then lands', async () => {
    const run = await store.createRun({ experimentId: '0' });
    const id = run.info.runId;
    db.exec('BEGIN IMMEDIATE');
    let done = false;
    const write = store.logBatch(id, { metrics: [point(7)] }).then(() => (done = true));
    // Timers still fire while the write waits: the event loop is not blocked.
    let ticks = 0;
    const started = Date.now();
    while (Date.now() - started < 200) {
      await new Promise((r) => setTimeout(r, 10));
      ticks++;
    }
    expect(ticks).toBeGreaterThan(5);
    expect(done).toBe(false);
    db.exec('COMMIT');
    await write;
    expect((await store.getMetricHistory(id, 'loss')).items).toEqual([point(7)]);
  });
});
