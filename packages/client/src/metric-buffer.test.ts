import { describe, expect, it } from 'vitest';
import type { Metric } from '@trestle/core';
import { MetricBuffer } from './metric-buffer.js';

const point = (i: number): Metric => ({ key: 'loss', value: i, timestamp: 1_700_000_000_000 + i, step: i });

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

  it('flushes by time when the batch is not full', async () => {
    const batches: Metric[][] = [];
    const buf = new MetricBuffer((b) => Promise.resolve(void batches.push(b)), {
      batchSize: 1000,
      flushIntervalMs: 20,
    });
    await buf.add(point(1), point(2));
    expect(batches).toEqual([]);
    await new Promise((r) => setTimeout(r, 80));
    expect(batches.flat().map((p) => p.step)).toEqual([1, 2]);
  });

  it('keeps points of a failed write and surfaces the error on flush, then retries them', async () => {
    let fail = true;
    const written: Metric[] = [];
    const buf = new MetricBuffer(
      (b) => {
        if (fail) return Promise.reject(new Error('connection refused'));
        written.push(...b);
        return Promise.resolve();
      },
      { batchSize: 5, flushIntervalMs: 60_000 },
    );
    for (let i = 0; i < 7; i++) await buf.add(point(i));
    await expect(buf.flush()).rejects.toThrow('connection refused');
    expect(buf.pending).toBe(7);
    fail = false;
    await buf.flush();
    expect(written.map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('applies backpressure: add waits while the buffer is over its bound, nothing is dropped', async () => {
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
    for (let i = 0; i < 15; i++) await buf.add(point(i)); // first batch of 10 is in flight and stalls
    let done = false;
    const adding = (async () => {
      for (let i = 15; i < 40; i++) await buf.add(point(i));
      done = true;
    })();
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    expect(buf.pending).toBeLessThanOrEqual(21);
    release();
    await adding;
    await buf.flush();
    expect(written.map((p) => p.step)).toEqual([...Array(40).keys()]);
  });
});
