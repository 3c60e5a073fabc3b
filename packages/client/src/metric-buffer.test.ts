import { describe, expect, it } from 'vitest';
import { TrestleError, type Metric } from '@trestle/core';
import { MetricBuffer } from './metric-buffer.js';
import { markTransient } from './transient.js';

const point = (i: number, key = 'loss'): Metric => ({ key, value: i, timestamp: 1_700_000_000_000 + i, step: i });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const unavailable = (): TrestleError =>
  new TrestleError('UNAVAILABLE', 'cannot reach the Trestle server: ECONNREFUSED');

describe('MetricBuffer', () => {
  it('writes full batches by size, in order, and the rest on flush', async () => {
    const batches: Metric[][] = [];
    const buf = new MetricBuffer((b) => Promise.resolve(void batches.push(b)), {
      batchSize: 10,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 25; i++) await buf.add(point(i));
    await buf.flush();
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((p) => p.step)).toEqual([...Array(25).keys()]);
    expect(buf.pending).toBe(0);
  });

  it('a flush that lands while the writing loop is finishing still writes the rest', async () => {
    // A store that writes synchronously (the SQLite fast path) resolves at once: the loop then
    // leaves its last full batch a few microtasks before it lets go of itself. A flush arriving
    // in that window used to get the finishing loop back and leave the tail unwritten.
    const hit = async (depth: number): Promise<number> => {
      const written: Metric[] = [];
      let flushed: Promise<void> | undefined;
      const buf = new MetricBuffer(
        (b) => {
          written.push(...b);
          if (written.length === 20) {
            const later = (n: number): void =>
              queueMicrotask(() => {
                if (n === 0) flushed = buf.flush();
                else later(n - 1);
              });
            later(depth);
          }
          return Promise.resolve();
        },
        { batchSize: 10, flushIntervalMs: 60_000 },
      );
      for (let i = 0; i < 25; i++) void buf.add(point(i));
      while (flushed === undefined) await Promise.resolve();
      await flushed;
      return written.length;
    };
    for (let depth = 0; depth < 8; depth++) expect(await hit(depth), `flush after ${depth} microtasks`).toBe(25);
  });

  it('flushes by time when the batch is not full', async () => {
    const batches: Metric[][] = [];
    const buf = new MetricBuffer((b) => Promise.resolve(void batches.push(b)), {
      batchSize: 1000,
      flushIntervalMs: 20,
    });
    await buf.add(point(1), point(2));
    expect(batches).toEqual([]);
    await sleep(80);
    expect(batches.flat().map((p) => p.step)).toEqual([1, 2]);
  });

  it('validates points when they are added: a bad point throws at once and is never queued', () => {
    const written: Metric[] = [];
    const buf = new MetricBuffer((b) => Promise.resolve(void written.push(...b)));
    const bad: [string, Metric][] = [
      ['300-character key', point(1, 'k'.repeat(300))],
      ['empty key', point(1, '')],
      ['key with ..', point(1, 'a/../b')],
      ['fractional step', { ...point(1), step: 1.5 }],
      ['string value', { ...point(1), value: '0.5' as unknown as number }],
      ['fractional timestamp', { ...point(1), timestamp: 1.25 }],
    ];
    for (const [what, p] of bad) {
      expect(() => buf.add(p), what).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(buf.pending).toBe(0);
    // Non-finite values are valid metric values.
    void buf.add({ ...point(2), value: NaN }, { ...point(3), value: -Infinity });
    expect(buf.pending).toBe(2);
  });

  it('keeps points through a transient failure, surfaces it on flush, and writes them once the store is back', async () => {
    let fail = true;
    const written: Metric[] = [];
    const buf = new MetricBuffer(
      (b) => {
        if (fail) return Promise.reject(unavailable());
        written.push(...b);
        return Promise.resolve();
      },
      { batchSize: 5, flushIntervalMs: 60_000, retryDelayMs: 60_000 },
    );
    for (let i = 0; i < 7; i++) await buf.add(point(i));
    await expect(buf.flush()).rejects.toThrow('ECONNREFUSED');
    expect(buf.pending).toBe(7);
    fail = false;
    await buf.flush();
    expect(written.map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(buf.dropped.points).toBe(0);
  });

  it('retries a 429 (marked transient) instead of dropping the batch', async () => {
    let calls = 0;
    const written: Metric[] = [];
    const buf = new MetricBuffer(
      (b) => {
        calls++;
        if (calls === 1) return Promise.reject(markTransient(new TrestleError('RATE_LIMITED', 'slow down')));
        written.push(...b);
        return Promise.resolve();
      },
      { batchSize: 3, flushIntervalMs: 60_000, retryDelayMs: 5 },
    );
    await buf.add(point(0), point(1), point(2));
    await sleep(60);
    expect(written.map((p) => p.step)).toEqual([0, 1, 2]);
    expect(buf.dropped.points).toBe(0);
  });

  it('applies backpressure: add waits while the buffer is full, nothing is dropped', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const written: Metric[] = [];
    const buf = new MetricBuffer(
      async (b) => {
        calls++;
        if (calls === 1) await new Promise<void>((r) => (release = r));
        written.push(...b);
      },
      { batchSize: 10, maxPending: 20, flushIntervalMs: 60_000 },
    );
    for (let i = 0; i < 15; i++) await buf.add(point(i)); // the first batch of 10 is in flight and stalls
    let done = false;
    const adding = (async () => {
      for (let i = 15; i < 40; i++) await buf.add(point(i));
      done = true;
    })();
    await sleep(30);
    expect(done).toBe(false);
    expect(buf.pending).toBeLessThanOrEqual(20);
    release();
    await adding;
    await buf.flush();
    expect(written.map((p) => p.step)).toEqual([...Array(40).keys()]);
  });

  it('keeps its bound and its backpressure while the store is unreachable, then delivers everything in order', async () => {
    let down = true;
    let attempts = 0;
    let maxSeen = 0;
    const written: Metric[] = [];
    const buf = new MetricBuffer(
      (b) => {
        attempts++;
        if (down) return Promise.reject(unavailable());
        written.push(...b);
        return Promise.resolve();
      },
      { batchSize: 10, maxPending: 30, flushIntervalMs: 5, retryDelayMs: 5 },
    );
    let added = 0;
    const producer = (async () => {
      for (let i = 0; i < 100; i++) {
        await buf.add(point(i));
        added++;
        maxSeen = Math.max(maxSeen, buf.pending);
      }
    })();
    await sleep(150);
    // Blocked at the bound: the producer waits instead of the buffer growing.
    expect(added).toBe(30);
    expect(buf.pending).toBe(30);
    expect(attempts).toBeGreaterThan(2); // retried in the background meanwhile
    down = false;
    await producer;
    await buf.flush();
    expect(maxSeen).toBeLessThanOrEqual(30);
    expect(written.map((p) => p.step)).toEqual([...Array(100).keys()]);
    expect(buf.dropped.points).toBe(0);
  });

  it('splits a refused batch to find the bad point, drops only it, reports it once, and keeps the stream flowing', async () => {
    const written: Metric[] = [];
    const warnings: string[] = [];
    let calls = 0;
    // A store whose rule the client does not know: values above 1e300 are refused.
    const buf = new MetricBuffer(
      (b) => {
        calls++;
        const bad = b.find((p) => p.value > 1e300);
        if (bad !== undefined) {
          return Promise.reject(new TrestleError('INVALID_ARGUMENT', `value of metric '${bad.key}' is too large`));
        }
        written.push(...b);
        return Promise.resolve();
      },
      { batchSize: 64, flushIntervalMs: 60_000, warn: (m) => warnings.push(m), label: 'run abc' },
    );
    for (let i = 0; i < 64; i++) await buf.add(i === 37 || i === 70 ? { ...point(i), value: 1e301 } : point(i));
    for (let i = 64; i < 100; i++) await buf.add(i === 70 ? { ...point(i), value: 1e301 } : point(i));
    await buf.flush();
    expect(written.map((p) => p.step)).toEqual([...Array(100).keys()].filter((i) => i !== 37 && i !== 70));
    expect(buf.dropped).toEqual({
      points: 2,
      byCode: { INVALID_ARGUMENT: 2 },
      firstError: "value of metric 'loss' is too large",
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^trestle: run abc: dropped metric point 'loss' \(step 37\) that the store refused/);
    // Bisection, not one request per point: about 2·log2(64) extra calls for the first batch.
    expect(calls).toBeLessThan(30);
    expect(buf.pending).toBe(0);
  });

  it('drops whole batches for refusals about the run itself (no splitting) and warns once', async () => {
    const warnings: string[] = [];
    let calls = 0;
    const buf = new MetricBuffer(
      () => {
        calls++;
        return Promise.reject(new TrestleError('FAILED_PRECONDITION', "run 'abc' is deleted"));
      },
      { batchSize: 10, flushIntervalMs: 60_000, warn: (m) => warnings.push(m) },
    );
    for (let i = 0; i < 30; i++) await buf.add(point(i));
    await buf.flush();
    expect(calls).toBe(3);
    expect(buf.dropped.points).toBe(30);
    expect(buf.dropped.byCode).toEqual({ FAILED_PRECONDITION: 30 });
    expect(warnings).toHaveLength(1);
    expect(buf.pending).toBe(0);
  });

  it('hands over every unwritten point, those in flight included, to a process that exits', async () => {
    const buf = new MetricBuffer(() => new Promise<void>(() => undefined), { batchSize: 5, flushIntervalMs: 60_000 });
    for (let i = 0; i < 8; i++) await buf.add(point(i));
    expect(buf.takeAll().map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(buf.pending).toBe(0);
  });
});
