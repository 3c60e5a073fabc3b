import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore, MonitorResult } from '@trestle/core';
import { onEachEngine, type TestStore } from './test-stores.js';

function monitoringSuite(name: string, open: () => Promise<TestStore>): void {
  describe(`monitoring store: ${name}`, () => {
    let store: MetadataStore;
    let fixture: TestStore | undefined;
    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.close();
    });
    const model = { name: 'flights', version: '1', alias: 'champion' };

    it('logs predictions once per request id, joins labels by request id or key, and finds labelled ones per window', async () => {
      const m = store.monitoring;
      const records = [0, 1, 2, 3].map((i) => ({
        requestId: `r${i}`,
        key: `k${i}`,
        time: 1000 + i * 100,
        inputs: { x: i },
        outputs: { label: i % 2 === 0 ? '1' : '0', probability: i / 4 },
        latencyMs: 1.5,
      }));
      expect(await m.logInferences(model, records)).toEqual({ accepted: 4, duplicates: 0 });
      expect(await m.logInferences(model, records.slice(0, 2))).toEqual({ accepted: 0, duplicates: 2 });
      const found = await m.findInferences({ requestIds: ['r0', 'nope'], keys: ['k3'] });
      expect(found.map((f) => f.requestId).sort()).toEqual(['r0', 'r3']);
      expect(found[0]).toMatchObject({ model: 'flights', version: '1' });
      expect(
        await m.applyLabels([
          { requestId: 'r0', label: '"1"', time: 5000 },
          { requestId: 'r3', label: '"1"', time: 5000 },
        ]),
      ).toBe(2);
      const labelled = await m.labelledInferences({ name: 'flights', version: '1', start: 1000, end: 1300 });
      expect(labelled.map((l) => [l.requestId, l.label])).toEqual([['r0', '1']]);
      expect(labelled[0]!.outputs).toEqual({ label: '1', probability: 0 });
    });

    it('stores a batch of columns as one, skips request ids it has, and reads labelled outputs back from the batch', async () => {
      const m = store.monitoring;
      const v = { name: 'columns', version: '2', alias: 'challenger' };
      const batch = {
        requestIds: ['c0', 'c1', 'c2', 'c0'],
        times: [10, 20, 30, 40],
        latencyMs: [0.5, null, 0.7, 0.1],
        keys: [null, 'order-1', null, null],
        inputs: { x: [1, 2, null, 4], tags: [['a'], [], ['b', 'c'], null] },
        outputs: { label: ['1', '0', '1', '0'], probability: [0.9, 0.1, 0.8, 0.2] },
      };
      // c0 twice in one batch: the first is kept.
      expect(await m.logInferenceBatch(v, batch)).toEqual({ accepted: 3, duplicates: 1 });
      expect(await m.logInferenceBatch(v, { ...batch, requestIds: ['c2', 'c3', 'c4', 'c5'] })).toEqual({
        accepted: 3,
        duplicates: 1,
      });
      await expect(m.logInferenceBatch(v, { ...batch, times: [1, 2] })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('columns.times has 2 values'),
      });
      const found = await m.findInferences({ requestIds: ['c0', 'c5'], keys: ['order-1'] });
      // A key may name several predictions (order-1 came in both batches).
      expect(found.map((f) => [f.requestId, f.time, f.key]).sort()).toEqual([
        ['c0', 10, null],
        ['c1', 20, 'order-1'],
        ['c3', 20, 'order-1'],
        ['c5', 40, null],
      ]);
      await m.applyLabels([
        { requestId: 'c0', label: '"1"', time: 99 },
        { requestId: 'c2', label: '"0"', time: 99 },
        { requestId: 'c5', label: '"0"', time: 99 },
      ]);
      const labelled = await m.labelledInferences({ name: 'columns', version: '2', start: 0, end: 40 });
      expect(labelled).toEqual([
        { requestId: 'c0', time: 10, outputs: { label: '1', probability: 0.9 }, label: '1' },
        { requestId: 'c2', time: 30, outputs: { label: '1', probability: 0.8 }, label: '0' },
      ]);
      // c5 is row 3 of the second batch: each prediction's outputs come from its own batch.
      const both = await m.labelledInferences({ name: 'columns', version: '2', start: 0, end: 41 });
      expect(both.map((l) => [l.requestId, l.outputs])).toEqual([
        ['c0', { label: '1', probability: 0.9 }],
        ['c2', { label: '1', probability: 0.8 }],
        ['c5', { label: '0', probability: 0.2 }],
      ]);
    });

    it('holds labels that came first, hands each to one taker, and forgets expired ones', async () => {
      const m = store.monitoring;
      expect(await m.takePendingLabels({ requestIds: ['p1'], keys: [] })).toEqual([]);
      await m.holdLabels(
        [
          { requestId: 'p1', label: '"1"', time: 7 },
          { key: 'order-9', label: '0.5', time: 8 },
          { requestId: 'p2', label: '"0"', time: 9 },
        ],
        0,
      );
      const taken = await Promise.all([
        m.takePendingLabels({ requestIds: ['p1', 'other'], keys: ['order-9'] }),
        m.takePendingLabels({ requestIds: ['p1'], keys: ['order-9'] }),
      ]);
      const all = taken.flat().sort((a, b) => a.time - b.time);
      expect(all).toEqual([
        { requestId: 'p1', label: '"1"', time: 7 },
        { key: 'order-9', label: '0.5', time: 8 },
      ]);
      expect(await m.takePendingLabels({ requestIds: ['p1'], keys: ['order-9'] })).toEqual([]);
      // Holding more with an expiry after now forgets p2 (received before it).
      await m.holdLabels([], Date.now() + 1000);
      expect(await m.takePendingLabels({ requestIds: ['p2'], keys: [] })).toEqual([]);
    });

    it('keeps window parts, lists pending windows until computed, and again when a late label arrives', async () => {
      const m = store.monitoring;
      await m.recordWindow(model, 1000, 2000, '{"part":1}');
      await m.recordWindow(model, 1000, 2000, '{"part":2}');
      await m.recordWindow(model, 2000, 3000, '{"part":3}');
      await expect(m.recordWindow(model, 3000, 3000, '{}')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await m.windowSummaries({ name: 'flights', version: '1', start: 1000, end: 2000 })).toEqual([
        '{"part":1}',
        '{"part":2}',
      ]);
      expect((await m.pendingWindows(2500)).map((w) => [w.start, w.end, w.alias])).toEqual([[1000, 2000, 'champion']]);
      expect((await m.pendingWindows(3000)).length).toBe(2);
      expect(await m.pendingWindows(3000, { name: 'other' })).toEqual([]);

      const result: MonitorResult = {
        name: 'flights',
        version: '1',
        alias: 'champion',
        start: 1000,
        end: 2000,
        computedTime: Date.now() + 1,
        rows: 4,
        labelled: 1,
        driftShare: 0.5,
        datasetDrift: true,
        drift: { features: [] },
        quality: { passed: true },
        performance: null,
      };
      await m.putResult(result);
      expect((await m.pendingWindows(3000)).map((w) => w.start)).toEqual([2000]);
      await m.putResult({ ...result, labelled: 2 });
      const results = await m.listResults({ name: 'flights' });
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({
        labelled: 2,
        datasetDrift: true,
        driftShare: 0.5,
        drift: { features: [] },
        performance: null,
      });
      expect(await m.listResults({ name: 'flights', alias: 'challenger' })).toEqual([]);

      // A late label for a prediction inside the computed window makes it pending again.
      await new Promise((r) => setTimeout(r, 5));
      await m.applyLabels([{ requestId: 'r1', label: '"0"', time: Date.now() }]);
      const pending = await m.pendingWindows(3000);
      expect(pending.map((w) => w.start).sort()).toEqual([1000, 2000]);
      expect(await m.listMonitoredModels()).toEqual([{ name: 'flights', version: '1', alias: 'champion' }]);
    });

    it('stores reference profiles and alert state, and gives a lease to one holder until it expires', async () => {
      const m = store.monitoring;
      expect(await m.getReference('flights', '1')).toBeUndefined();
      await m.setReference('flights', '1', '{"a":1}');
      await m.setReference('flights', '1', '{"a":2}');
      expect(await m.getReference('flights', '1')).toBe('{"a":2}');
      await m.setAlertState({ key: 'k', firing: true, since: 5, value: 0.7 });
      expect(await m.getAlertState('k')).toEqual({ key: 'k', firing: true, since: 5, value: 0.7 });
      await m.setAlertState({ key: 'k', firing: false, since: 9, value: null });
      expect(await m.getAlertState('k')).toEqual({ key: 'k', firing: false, since: 9, value: null });
      expect(await m.acquireLease('job', 'a', 200)).toBe(true);
      expect(await m.acquireLease('job', 'b', 200)).toBe(false);
      expect(await m.acquireLease('job', 'a', 200)).toBe(true);
      await new Promise((r) => setTimeout(r, 250));
      expect(await m.acquireLease('job', 'b', 200)).toBe(true);
      expect(await m.acquireLease('job', 'a', 200)).toBe(false);
    });
  });
}

await onEachEngine('monitoring-store tests', monitoringSuite);
