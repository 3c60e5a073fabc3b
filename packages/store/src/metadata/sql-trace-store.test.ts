import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '@trestle/core';
import { isTrestleError } from '@trestle/core';
import { onEachEngine, type TestStore } from './test-stores.js';

const hex = (n: number): string => n.toString(16).padStart(32, '0');

function traceSuite(name: string, open: () => Promise<TestStore>): void {
  describe(`traces: ${name}`, () => {
    let store: MetadataStore;
    let fixture: TestStore | undefined;
    let exp: string;
    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
      exp = (await store.createExperiment({ name: 'agents' })).experimentId;
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('creates a whole trace, reads it back, and merges a second start of the same id', async () => {
      const created = await store.traces.startTrace({
        traceId: `tr-${hex(1)}`,
        experimentId: exp,
        requestTime: 1_000,
        executionDuration: 250,
        state: 'OK',
        requestPreview: '{"q":"hi"}',
        responsePreview: '"hello"',
        clientRequestId: 'req-1',
        metadata: { 'mlflow.sourceRun': 'r1', 'mlflow.trace_schema.version': '3' },
        tags: { 'mlflow.traceName': 'predict', topic: 'greeting' },
      });
      expect(created).toEqual({
        traceId: `tr-${hex(1)}`,
        experimentId: exp,
        requestTime: 1_000,
        executionDuration: 250,
        state: 'OK',
        clientRequestId: 'req-1',
        requestPreview: '{"q":"hi"}',
        responsePreview: '"hello"',
        metadata: { 'mlflow.sourceRun': 'r1', 'mlflow.trace_schema.version': '3' },
        tags: { 'mlflow.traceName': 'predict', topic: 'greeting' },
      });
      const merged = await store.traces.startTrace({
        traceId: `tr-${hex(1)}`,
        experimentId: exp,
        requestTime: 1_000,
        executionDuration: 300,
        state: 'ERROR',
        tags: { extra: 'x' },
      });
      expect(merged.state).toBe('ERROR');
      expect(merged.executionDuration).toBe(300);
      expect(merged.tags).toEqual({ 'mlflow.traceName': 'predict', topic: 'greeting', extra: 'x' });
    });

    it('starts in progress and ends with a duration, merged tags and metadata (MLflow 2)', async () => {
      const started = await store.traces.startTrace({ experimentId: exp, requestTime: 2_000, tags: { a: '1' } });
      expect(started.traceId).toMatch(/^tr-[0-9a-f]{32}$/);
      expect(started.state).toBe('IN_PROGRESS');
      expect(started.executionDuration).toBeUndefined();
      const ended = await store.traces.endTrace(started.traceId, {
        endTime: 2_120,
        state: 'OK',
        tags: { b: '2' },
        metadata: { m: 'v' },
      });
      expect(ended).toMatchObject({
        state: 'OK',
        executionDuration: 120,
        tags: { a: '1', b: '2' },
        metadata: { m: 'v' },
      });
      await store.traces.deleteTraces({ experimentId: exp, traceIds: [started.traceId] });
    });

    it('searches by state, time, tags, metadata and name; orders; pages', async () => {
      const e2 = (await store.createExperiment({ name: 'search-traces' })).experimentId;
      for (let i = 0; i < 5; i++) {
        await store.traces.startTrace({
          traceId: `tr-${hex(0x100 + i)}`,
          experimentId: e2,
          requestTime: 10_000 + i,
          executionDuration: 50 - i,
          state: i % 2 === 0 ? 'OK' : 'ERROR',
          metadata: { 'mlflow.sourceRun': i < 2 ? 'run-a' : 'run-b' },
          tags: { 'mlflow.traceName': i === 4 ? 'chat' : 'predict', n: String(i) },
        });
      }
      const ids = async (filter?: string, orderBy?: string[]): Promise<string[]> =>
        (
          await store.traces.searchTraces({
            experimentIds: [e2],
            ...(filter === undefined ? {} : { filter }),
            ...(orderBy === undefined ? {} : { orderBy }),
          })
        ).items.map((t) => t.traceId.slice(-1));
      expect(await ids()).toEqual(['4', '3', '2', '1', '0']);
      expect(await ids("trace.status = 'OK'")).toEqual(['4', '2', '0']);
      expect(await ids("status = 'ok' AND timestamp_ms > 10001")).toEqual(['4', '2']);
      expect(await ids("metadata.mlflow.sourceRun = 'run-a'")).toEqual(['1', '0']);
      expect(await ids("request_metadata.`mlflow.sourceRun` = 'run-b' AND tags.n != '3'")).toEqual(['4', '2']);
      expect(await ids("trace.name = 'chat'")).toEqual(['4']);
      expect(
        await ids(
          "tags.n IN ('1', '2')".replace('tags.n', 'trace.trace_id').replace("('1', '2')", `('tr-${hex(0x101)}')`),
        ),
      ).toEqual(['1']);
      expect(await ids(undefined, ['execution_time_ms ASC'])).toEqual(['4', '3', '2', '1', '0']);
      expect(await ids(undefined, ['timestamp_ms ASC'])).toEqual(['0', '1', '2', '3', '4']);

      const first = await store.traces.searchTraces({ experimentIds: [e2], maxResults: 2 });
      expect(first.items.map((t) => t.traceId.slice(-1))).toEqual(['4', '3']);
      const second = await store.traces.searchTraces({
        experimentIds: [e2],
        maxResults: 2,
        pageToken: first.nextPageToken ?? '',
      });
      expect(second.items.map((t) => t.traceId.slice(-1))).toEqual(['2', '1']);
      await expect(store.traces.searchTraces({ experimentIds: [e2], filter: 'params.x = 1' })).rejects.toThrow(
        /trace search/,
      );
      await expect(store.traces.searchTraces({ experimentIds: [e2], maxResults: 501 })).rejects.toThrow(
        /max_results must be between 1 and 500/,
      );
    });

    it('sets and deletes tags; unknown traces and tags are NOT_FOUND', async () => {
      const t = await store.traces.startTrace({ experimentId: exp, requestTime: 3_000, state: 'OK' });
      await store.traces.setTraceTag(t.traceId, 'k', 'v');
      expect((await store.traces.getTraceInfo(t.traceId)).tags).toEqual({ k: 'v' });
      await store.traces.deleteTraceTag(t.traceId, 'k');
      expect((await store.traces.getTraceInfo(t.traceId)).tags).toEqual({});
      const missingTag = await store.traces.deleteTraceTag(t.traceId, 'k').catch((e: unknown) => e);
      expect(isTrestleError(missingTag, 'NOT_FOUND')).toBe(true);
      const missing = await store.traces.getTraceInfo(`tr-${hex(999)}`).catch((e: unknown) => e);
      expect(isTrestleError(missing, 'NOT_FOUND')).toBe(true);
      const badExp = await store.traces.startTrace({ experimentId: '424242', requestTime: 1 }).catch((e: unknown) => e);
      expect(isTrestleError(badExp, 'NOT_FOUND')).toBe(true);
    });

    it('deletes by ids or by time (oldest first, at most max_traces), with their tags and links', async () => {
      const e3 = (await store.createExperiment({ name: 'delete-traces' })).experimentId;
      const run = await store.createRun({ experimentId: e3 });
      for (let i = 0; i < 4; i++) {
        await store.traces.startTrace({
          traceId: `tr-${hex(0x200 + i)}`,
          experimentId: e3,
          requestTime: 100 + i,
          state: 'OK',
          tags: { i: String(i) },
        });
      }
      await store.traces.linkTracesToRun(run.info.runId, [`tr-${hex(0x200)}`, `tr-${hex(0x203)}`]);
      expect(await store.traces.linkedTraces(run.info.runId)).toEqual([`tr-${hex(0x200)}`, `tr-${hex(0x203)}`]);
      expect(await store.traces.deleteTraces({ experimentId: e3, maxTimestampMillis: 102, maxTraces: 2 })).toBe(2);
      expect(await store.traces.linkedTraces(run.info.runId)).toEqual([`tr-${hex(0x203)}`]);
      expect(await store.traces.deleteTraces({ experimentId: e3, traceIds: [`tr-${hex(0x203)}`] })).toBe(1);
      const left = await store.traces.searchTraces({ experimentIds: [e3] });
      expect(left.items.map((t) => t.traceId)).toEqual([`tr-${hex(0x202)}`]);
      await expect(store.traces.deleteTraces({ experimentId: e3 })).rejects.toThrow(/max_timestamp_millis/);
      const badRun = await store.traces.linkTracesToRun('f'.repeat(32), []).catch((e: unknown) => e);
      expect(isTrestleError(badRun, 'NOT_FOUND')).toBe(true);
    });
  });
}

await onEachEngine('trace store tests', traceSuite);
