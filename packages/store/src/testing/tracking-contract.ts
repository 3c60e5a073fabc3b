/**
 * The tracking backend contract: experiments, runs, params, tags, metrics, datasets, run search
 * and paging, the same assertions for every {@link TrackingBackend}: the SQL store on SQLite and
 * PostgreSQL (through {@link metadataStoreContract}, which adds what only a store has) and the
 * REST client talking to a real server. A backend's test file runs it in one line:
 *
 * @example
 * trackingBackendContract('rest', async () => {
 *   const server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
 *   const { backend } = connectRest({ trackingUri: server.url });
 *   return { backend, cleanup: () => server.close() };
 * });
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_TAGS } from '@trestle/core';
import type { ErrorCode, Experiment, Metric, Run, TrackingBackend } from '@trestle/core';

/** What a backend's factory hands {@link trackingBackendContract}. */
export interface TrackingContractSubject {
  backend: TrackingBackend;
  /** Closes the backend and removes what the factory created. */
  cleanup: () => Promise<void>;
}

export const uid = (): string => randomBytes(4).toString('hex');

export async function expectCode(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected the call to fail with ${code}`).toBeDefined();
  expect(err).toMatchObject({ name: 'TrestleError', code });
  if (message !== undefined) expect((err as Error).message).toMatch(message);
}

export function metric(key: string, value: number, step: number, timestamp = 1_700_000_000_000 + step): Metric {
  return { key, value, step, timestamp };
}

/** Registers the tracking contract suite for one backend. */
export function trackingBackendContract(name: string, factory: () => Promise<TrackingContractSubject>): void {
  describe(`tracking backend contract: ${name}`, () => {
    let subject: TrackingContractSubject | undefined;
    beforeAll(async () => {
      subject = await factory();
    });
    afterAll(async () => {
      await subject?.cleanup();
    });
    trackingTests(() => {
      if (subject === undefined) throw new Error('the backend factory failed; see the beforeAll error');
      return subject.backend;
    });
  });
}

/**
 * Registers the tracking tests in the enclosing `describe`, on the backend `store()` returns
 * (the metadata store contract runs them on its store).
 */
export function trackingTests(store: () => TrackingBackend): void {
  const experiment = (prefix = 'exp', tags?: { key: string; value: string }[]): Promise<Experiment> =>
    store().createExperiment({ name: `${prefix}-${uid()}`, ...(tags === undefined ? {} : { tags }) });
  const runIn = (exp: Experiment, extra: { runName?: string; startTime?: number } = {}): Promise<Run> =>
    store().createRun({ experimentId: exp.experimentId, ...extra });

  describe('experiments', () => {
    it('has the Default experiment 0', async () => {
      const exp = await store().getExperiment('0');
      expect(exp).toMatchObject({ experimentId: '0', name: 'Default', lifecycleStage: 'active' });
      expect(exp.artifactLocation).toMatch(/\/0$/);
      expect((await store().getExperimentByName('Default')).experimentId).toBe('0');
    });

    it('creates, gets by id and name, with tags and a default artifact location', async () => {
      const name = `create-${uid()}`;
      const created = await store().createExperiment({ name, tags: [{ key: 'team', value: 'risk' }] });
      expect(created.experimentId).toMatch(/^[1-9]\d*$/);
      expect(created).toMatchObject({ name, lifecycleStage: 'active', tags: [{ key: 'team', value: 'risk' }] });
      expect(created.artifactLocation).toBe(
        (await store().getExperiment('0')).artifactLocation.replace(/\/0$/, `/${created.experimentId}`),
      );
      expect(created.creationTime).toBeGreaterThan(1_600_000_000_000);
      expect(await store().getExperiment(created.experimentId)).toEqual(created);
      expect(await store().getExperimentByName(name)).toEqual(created);
      const custom = await store().createExperiment({ name: `custom-${uid()}`, artifactLocation: 's3://bucket/x' });
      expect(custom.artifactLocation).toBe('s3://bucket/x');
      expect(custom.experimentId).not.toBe(created.experimentId);
    });

    it('reports missing experiments as NOT_FOUND', async () => {
      await expectCode(store().getExperiment('987654'), 'NOT_FOUND');
      await expectCode(store().getExperiment('not-a-number'), 'NOT_FOUND');
      await expectCode(store().getExperimentByName(`missing-${uid()}`), 'NOT_FOUND');
      await expectCode(store().createExperiment({ name: '' }), 'INVALID_ARGUMENT');
    });

    it('keeps names unique among active and deleted experiments', async () => {
      const a = await experiment('unique');
      await expectCode(store().createExperiment({ name: a.name }), 'ALREADY_EXISTS', /already exists/);
      await store().deleteExperiment(a.experimentId);
      await expectCode(store().createExperiment({ name: a.name }), 'ALREADY_EXISTS', /restore/);
      const b = await experiment('unique');
      await expectCode(store().renameExperiment(b.experimentId, a.name), 'ALREADY_EXISTS');
    });

    it('renames', async () => {
      const a = await experiment('rename');
      const newName = `renamed-${uid()}`;
      await store().renameExperiment(a.experimentId, newName);
      expect((await store().getExperiment(a.experimentId)).name).toBe(newName);
      expect((await store().getExperimentByName(newName)).experimentId).toBe(a.experimentId);
      await expectCode(store().getExperimentByName(a.name), 'NOT_FOUND');
    });

    it('deletes and restores with its runs, leaving runs deleted on their own deleted', async () => {
      const exp = await experiment('lifecycle');
      const kept = await runIn(exp);
      const alone = await runIn(exp);
      await store().deleteRun(alone.info.runId);
      await store().deleteExperiment(exp.experimentId);
      expect((await store().getExperiment(exp.experimentId)).lifecycleStage).toBe('deleted');
      expect((await store().getRun(kept.info.runId)).info.lifecycleStage).toBe('deleted');
      expect((await store().searchRuns({ experimentIds: [exp.experimentId] })).items).toEqual([]);
      await expectCode(store().createRun({ experimentId: exp.experimentId }), 'FAILED_PRECONDITION', /restore/);
      await expectCode(
        store().logBatch(kept.info.runId, { params: [{ key: 'a', value: '1' }] }),
        'FAILED_PRECONDITION',
      );
      await expectCode(store().renameExperiment(exp.experimentId, `x-${uid()}`), 'FAILED_PRECONDITION');

      await store().restoreExperiment(exp.experimentId);
      expect((await store().getExperiment(exp.experimentId)).lifecycleStage).toBe('active');
      expect((await store().getRun(kept.info.runId)).info.lifecycleStage).toBe('active');
      expect((await store().getRun(alone.info.runId)).info.lifecycleStage).toBe('deleted');
      await expectCode(store().deleteExperiment('0'), 'FAILED_PRECONDITION');
      await expectCode(store().deleteExperiment('987654'), 'NOT_FOUND');
    });

    it('sets, overwrites and deletes tags', async () => {
      const exp = await experiment('tags');
      await store().setExperimentTag(exp.experimentId, 'owner', 'ann');
      await store().setExperimentTag(exp.experimentId, 'owner', 'bob');
      await store().setExperimentTag(exp.experimentId, 'stage', 'dev');
      expect((await store().getExperiment(exp.experimentId)).tags).toEqual([
        { key: 'owner', value: 'bob' },
        { key: 'stage', value: 'dev' },
      ]);
      await store().deleteExperimentTag(exp.experimentId, 'owner');
      expect((await store().getExperiment(exp.experimentId)).tags).toEqual([{ key: 'stage', value: 'dev' }]);
      await expectCode(store().deleteExperimentTag(exp.experimentId, 'owner'), 'NOT_FOUND');
      await expectCode(store().setExperimentTag(exp.experimentId, '', 'x'), 'INVALID_ARGUMENT');
    });

    it('searches with filters, order, view types and pages', async () => {
      const p = `srch${uid()}`;
      const names = [`${p}-alpha`, `${p}-Beta`, `${p}-gamma`, `${p}-delta`, `${p}-ALPHA2`];
      const exps: Experiment[] = [];
      for (const [i, n] of names.entries()) {
        exps.push(
          await store().createExperiment({ name: n, tags: [{ key: 'rank', value: i % 2 === 0 ? 'even' : 'odd' }] }),
        );
      }
      await store().deleteExperiment(exps[3]!.experimentId);
      const names1 = async (filter: string, extra: { viewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL' } = {}) =>
        (await store().searchExperiments({ filter, orderBy: ['name ASC'], ...extra })).items.map((e) => e.name);

      expect(await names1(`name LIKE '${p}-%'`)).toEqual([`${p}-ALPHA2`, `${p}-Beta`, `${p}-alpha`, `${p}-gamma`]);
      expect(await names1(`name LIKE '${p}-a%'`)).toEqual([`${p}-alpha`]);
      expect(await names1(`name ILIKE '${p}-a%'`)).toEqual([`${p}-ALPHA2`, `${p}-alpha`]);
      expect(await names1(`name LIKE '${p}-%' AND tags.rank = 'odd'`)).toEqual([`${p}-Beta`]);
      expect(await names1(`name = '${p}-gamma' OR (name LIKE '${p}-%' AND tags.rank = 'odd')`)).toEqual([
        `${p}-Beta`,
        `${p}-gamma`,
      ]);
      expect(await names1(`name LIKE '${p}-%'`, { viewType: 'DELETED_ONLY' })).toEqual([`${p}-delta`]);
      expect(await names1(`name LIKE '${p}-%'`, { viewType: 'ALL' })).toHaveLength(5);
      expect(await names1(`name LIKE '${p}-%' AND experiment_id = '${exps[2]!.experimentId}'`)).toEqual([`${p}-gamma`]);
      expect(await names1(`name LIKE '${p}-%' AND tags.rank != 'odd' AND name != '${p}-gamma'`)).toEqual([
        `${p}-ALPHA2`,
        `${p}-alpha`,
      ]);
      expect(await names1(`name LIKE '${p}-%' AND tags.rank LIKE 'ev%' AND tags.rank ILIKE 'EVEN'`)).toHaveLength(3);
      expect(
        await names1(`name ILIKE '${p}-BETA' AND creation_time >= ${exps[1]!.creationTime} AND last_update_time > 0`),
      ).toEqual([`${p}-Beta`]);

      const desc = await store().searchExperiments({ filter: `name LIKE '${p}-%'`, orderBy: ['name DESC'] });
      expect(desc.items.map((e) => e.name)).toEqual([`${p}-gamma`, `${p}-alpha`, `${p}-Beta`, `${p}-ALPHA2`]);
      const byDefault = await store().searchExperiments({ filter: `name LIKE '${p}-%'` });
      expect(byDefault.items.map((e) => e.name)).toEqual(
        [...exps]
          .filter((e) => e.name !== `${p}-delta`)
          .sort((a, b) => b.creationTime - a.creationTime || Number(a.experimentId) - Number(b.experimentId))
          .map((e) => e.name),
      );

      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await store().searchExperiments({
          filter: `name LIKE '${p}-%'`,
          viewType: 'ALL',
          orderBy: ['name ASC'],
          maxResults: 2,
          ...(token === undefined ? {} : { pageToken: token }),
        });
        seen.push(...page.items.map((e) => e.name));
        token = page.nextPageToken;
        pages++;
      } while (token !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual([...names].sort());

      await expectCode(store().searchExperiments({ maxResults: 0 }), 'INVALID_ARGUMENT');
      await expectCode(store().searchExperiments({ maxResults: 50_001 }), 'INVALID_ARGUMENT');
      await expectCode(store().searchExperiments({ pageToken: 'garbage!' }), 'INVALID_ARGUMENT');
      await expectCode(store().searchExperiments({ filter: 'name ~ 1' }), 'INVALID_ARGUMENT');
      await expectCode(store().searchExperiments({ filter: 'metrics.x > 1' }), 'INVALID_ARGUMENT');
    });
  });

  describe('runs', () => {
    it('creates runs with defaults, system tags and an artifact URI under the experiment', async () => {
      const exp = await experiment('runs');
      const before = Date.now();
      const run = await store().createRun({
        experimentId: exp.experimentId,
        userId: 'ann',
        tags: [{ key: 'team', value: 'ml' }],
      });
      const { info } = run;
      expect(info.runId).toMatch(/^[0-9a-f]{32}$/);
      expect(info).toMatchObject({
        experimentId: exp.experimentId,
        userId: 'ann',
        status: 'RUNNING',
        endTime: null,
        lifecycleStage: 'active',
      });
      expect(info.runName).toMatch(/^[a-z]+-[a-z]+-\d{3}$/);
      expect(info.startTime).toBeGreaterThanOrEqual(before - 1000);
      expect(info.artifactUri).toBe(`${exp.artifactLocation}/${info.runId}/artifacts`);
      expect(run.data.tags).toEqual(
        expect.arrayContaining([
          { key: SYSTEM_TAGS.runName, value: info.runName },
          { key: SYSTEM_TAGS.user, value: 'ann' },
          { key: 'team', value: 'ml' },
        ]),
      );
      expect(run.data.metrics).toEqual([]);
      expect(run.inputs.datasetInputs).toEqual([]);
      expect(await store().getRun(info.runId)).toEqual(run);

      const named = await store().createRun({ experimentId: exp.experimentId, runName: 'lr-0.1', startTime: 1234 });
      expect(named.info).toMatchObject({ runName: 'lr-0.1', startTime: 1234 });
      const byTag = await store().createRun({
        experimentId: exp.experimentId,
        tags: [{ key: SYSTEM_TAGS.runName, value: 'from-tag' }],
      });
      expect(byTag.info.runName).toBe('from-tag');
    });

    it('rejects runs in missing experiments and missing runs', async () => {
      await expectCode(store().createRun({ experimentId: '987654' }), 'NOT_FOUND');
      await expectCode(store().getRun('0'.repeat(32)), 'NOT_FOUND');
      await expectCode(store().updateRun('0'.repeat(32), { status: 'FINISHED' }), 'NOT_FOUND');
      await expectCode(store().logBatch('0'.repeat(32), {}), 'NOT_FOUND');
      // Metrics alone take the engines' one-statement or fast paths: the run check holds there too.
      await expectCode(store().logBatch('0'.repeat(32), { metrics: [metric('loss', 1, 0)] }), 'NOT_FOUND');
    });

    it('links parent and child runs', async () => {
      const exp = await experiment('parent');
      const parent = await runIn(exp);
      const child = await store().createRun({ experimentId: exp.experimentId, parentRunId: parent.info.runId });
      expect(child.data.tags).toContainEqual({ key: SYSTEM_TAGS.parentRunId, value: parent.info.runId });
      const found = await store().searchRuns({
        experimentIds: [exp.experimentId],
        filter: `tags.mlflow.parentRunId = '${parent.info.runId}'`,
      });
      expect(found.items.map((r) => r.info.runId)).toEqual([child.info.runId]);
      await expectCode(
        store().createRun({ experimentId: exp.experimentId, parentRunId: 'f'.repeat(32) }),
        'NOT_FOUND',
        /parent/,
      );
    });

    it('updates status, end time and name', async () => {
      const exp = await experiment('update');
      const run = await runIn(exp);
      const before = Date.now();
      const finished = await store().updateRun(run.info.runId, { status: 'FINISHED' });
      expect(finished.status).toBe('FINISHED');
      expect(finished.endTime).toBeGreaterThanOrEqual(before - 1000);
      expect((await store().getRun(run.info.runId)).info).toEqual(finished);

      const other = await runIn(exp);
      const failed = await store().updateRun(other.info.runId, { status: 'FAILED', endTime: 42 });
      expect(failed).toMatchObject({ status: 'FAILED', endTime: 42 });

      const renamed = await store().updateRun(run.info.runId, { runName: 'better-name' });
      expect(renamed.runName).toBe('better-name');
      const reread = await store().getRun(run.info.runId);
      expect(reread.info.runName).toBe('better-name');
      expect(reread.data.tags).toContainEqual({ key: SYSTEM_TAGS.runName, value: 'better-name' });
      await store().setTag(run.info.runId, SYSTEM_TAGS.runName, 'via-tag');
      expect((await store().getRun(run.info.runId)).info.runName).toBe('via-tag');

      await expectCode(store().updateRun(run.info.runId, { status: 'DONE' as never }), 'INVALID_ARGUMENT');
    });

    it('deletes and restores runs', async () => {
      const exp = await experiment('delrun');
      const run = await runIn(exp);
      await store().deleteRun(run.info.runId);
      expect((await store().getRun(run.info.runId)).info.lifecycleStage).toBe('deleted');
      await expectCode(
        store().logBatch(run.info.runId, { tags: [{ key: 'a', value: 'b' }] }),
        'FAILED_PRECONDITION',
        /restore/,
      );
      // Metrics alone are refused the same way, and none of them is written.
      await expectCode(
        store().logBatch(run.info.runId, { metrics: [metric('loss', 0.5, 1), metric('acc', 0.9, 1)] }),
        'FAILED_PRECONDITION',
        /restore/,
      );
      await expectCode(store().updateRun(run.info.runId, { status: 'FINISHED' }), 'FAILED_PRECONDITION');
      const ids = async (viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL') =>
        (await store().searchRuns({ experimentIds: [exp.experimentId], viewType })).items.map((r) => r.info.runId);
      expect(await ids('ACTIVE_ONLY')).toEqual([]);
      expect(await ids('DELETED_ONLY')).toEqual([run.info.runId]);
      expect(await ids('ALL')).toEqual([run.info.runId]);
      await store().restoreRun(run.info.runId);
      expect((await store().getRun(run.info.runId)).info.lifecycleStage).toBe('active');
      expect((await store().getRun(run.info.runId)).data.metrics).toEqual([]);
      expect((await store().getMetricHistory(run.info.runId, 'loss')).items).toEqual([]);
      expect(await ids('ACTIVE_ONLY')).toEqual([run.info.runId]);
    });
  });

  describe('params, tags and metrics', () => {
    it('keeps params immutable: the same value again is fine, another is CONFLICT', async () => {
      const run = await runIn(await experiment('params'));
      const id = run.info.runId;
      await store().logBatch(id, { params: [{ key: 'lr', value: '0.1' }] });
      await store().logBatch(id, { params: [{ key: 'lr', value: '0.1' }] });
      await expectCode(store().logBatch(id, { params: [{ key: 'lr', value: '0.2' }] }), 'CONFLICT', /0\.1.*0\.2/);
      await expectCode(
        store().logBatch(id, {
          params: [
            { key: 'l2', value: '1' },
            { key: 'l2', value: '2' },
          ],
        }),
        'CONFLICT',
      );
      // A failing batch writes nothing.
      await expectCode(
        store().logBatch(id, {
          params: [{ key: 'lr', value: '9' }],
          metrics: [metric('loss', 1, 0)],
          tags: [{ key: 'x', value: 'y' }],
        }),
        'CONFLICT',
      );
      const after = await store().getRun(id);
      expect(after.data.params).toEqual([{ key: 'lr', value: '0.1' }]);
      expect(after.data.metrics).toEqual([]);
      expect(after.data.tags.find((t) => t.key === 'x')).toBeUndefined();
    });

    it('overwrites and deletes tags', async () => {
      const run = await runIn(await experiment('tags'));
      const id = run.info.runId;
      await store().setTag(id, 'note', 'one');
      await store().logBatch(id, { tags: [{ key: 'note', value: 'two' }] });
      expect((await store().getRun(id)).data.tags).toContainEqual({ key: 'note', value: 'two' });
      await store().deleteTag(id, 'note');
      expect((await store().getRun(id)).data.tags.find((t) => t.key === 'note')).toBeUndefined();
      await expectCode(store().deleteTag(id, 'note'), 'NOT_FOUND');
    });

    it('appends metric history and keeps the latest by step, then timestamp, then value', async () => {
      const run = await runIn(await experiment('metrics'));
      const id = run.info.runId;
      await store().logBatch(id, { metrics: [metric('loss', 0.5, 5, 100), metric('loss', 0.9, 1, 50)] });
      await store().logBatch(id, { metrics: [metric('loss', 0.1, 3, 500)] });
      const latest = (await store().getRun(id)).data.metrics;
      expect(latest).toEqual([{ key: 'loss', value: 0.5, step: 5, timestamp: 100 }]);
      const history = await store().getMetricHistory(id, 'loss');
      expect(history.items.map((m) => [m.step, m.value])).toEqual([
        [1, 0.9],
        [3, 0.1],
        [5, 0.5],
      ]);
      expect(history.nextPageToken).toBeUndefined();

      await store().logBatch(id, { metrics: [metric('loss', 0.4, 5, 200)] });
      expect((await store().getRun(id)).data.metrics[0]).toMatchObject({ value: 0.4, timestamp: 200 });
      await store().logBatch(id, { metrics: [metric('loss', 0.45, 5, 200)] });
      expect((await store().getRun(id)).data.metrics[0]).toMatchObject({ value: 0.45, timestamp: 200 });
      await store().logBatch(id, { metrics: [metric('loss', 0.3, 5, 200)] });
      expect((await store().getRun(id)).data.metrics[0]).toMatchObject({ value: 0.45, timestamp: 200 });
      expect((await store().getMetricHistory(id, 'loss')).items).toHaveLength(6);
      expect((await store().getMetricHistory(id, 'nothing')).items).toEqual([]);
    });

    it('keeps an identical point once, whether re-logged in a later batch or the same one', async () => {
      const run = await runIn(await experiment('dedupe'));
      const id = run.info.runId;
      await store().logBatch(id, { metrics: [metric('m', 1, 0), metric('m', 2, 1)] });
      await store().logBatch(id, {
        metrics: [metric('m', 2, 1), metric('m', 3, 2)],
        params: [{ key: 'p', value: 'v' }],
      });
      await store().logBatch(id, { metrics: [metric('m', 4, 3), metric('m', 4, 3), metric('m', 5, 3)] });
      expect((await store().getMetricHistory(id, 'm')).items.map((m) => m.value)).toEqual([1, 2, 3, 4, 5]);
      expect((await store().getRun(id)).data).toMatchObject({
        params: [{ key: 'p', value: 'v' }],
        metrics: [metric('m', 5, 3)],
      });
    });

    it('round-trips NaN and ±Infinity', async () => {
      const run = await runIn(await experiment('nan'));
      const id = run.info.runId;
      await store().logBatch(id, {
        metrics: [
          metric('a', NaN, 0),
          metric('a', Infinity, 1),
          metric('a', -Infinity, 2),
          metric('b', Infinity, 0),
          metric('c', NaN, 7),
        ],
      });
      const values = (await store().getMetricHistory(id, 'a')).items.map((m) => m.value);
      expect(values).toEqual([NaN, Infinity, -Infinity]);
      const latest = Object.fromEntries((await store().getRun(id)).data.metrics.map((m) => [m.key, m.value]));
      expect(latest).toEqual({ a: -Infinity, b: Infinity, c: NaN });
      const sampled = await store().getMetricHistoryDownsampled(id, 'a', { points: 10 });
      expect(sampled.map((m) => m.value)).toEqual([NaN, Infinity, -Infinity]);
    });

    it('serialises a whole history to JSON as its points would be (getMetricHistoryJson, optional)', async (ctx) => {
      const s = store();
      if (s.getMetricHistoryJson === undefined) {
        ctx.skip('this backend does not implement the optional getMetricHistoryJson');
        return;
      }
      const historyJson = (runId: string, key: string) => s.getMetricHistoryJson!(runId, key);
      const run = await runIn(await experiment('history-json'));
      const id = run.info.runId;
      const key = 'val "loss" \\ é/✓';
      const values = [
        NaN,
        Infinity,
        -Infinity,
        0,
        -0,
        1,
        -2,
        0.1,
        1 / 3,
        0.30000000000000004,
        2 ** 53 + 2,
        1e20,
        1e-7,
        123456.789,
        Number.MIN_VALUE,
        -Number.MIN_VALUE,
        Number.MAX_VALUE,
        -Number.MAX_VALUE,
        2.2250738585072014e-308,
      ];
      const points = values.map((v, i) => metric(key, v, i % 7 === 3 ? -i : i, 1_700_000_000_000 + (i % 3)));
      // Out of order, over two batches, with a repeated (step, timestamp) of another value.
      await s.logBatch(id, { metrics: points.slice(8).reverse() });
      await s.logBatch(id, { metrics: [...points.slice(0, 8).reverse(), metric(key, 0.25, 2, 1_700_000_000_002)] });
      await s.logBatch(id, {
        metrics: Array.from({ length: 1000 }, (_, i) => metric('many', Math.sin(i) * 10 ** ((i % 40) - 20), 999 - i)),
      });

      const encode = (v: number): number | string =>
        Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
      for (const k of [key, 'many']) {
        const objects = (await s.getMetricHistory(id, k)).items.map((m) => ({
          key: m.key,
          value: encode(m.value),
          timestamp: m.timestamp,
          step: m.step,
        }));
        const json = await historyJson(id, k);
        const parsed = JSON.parse(json) as Record<string, unknown>[];
        expect(parsed).toEqual(JSON.parse(JSON.stringify(objects)));
        expect(parsed.every((p) => Object.keys(p).join() === 'key,value,timestamp,step')).toBe(true);
        // Keys are escaped exactly as JSON.stringify does; numbers may be written differently (`1.0`) but read back the same.
        expect(json.startsWith(`[{"key":${JSON.stringify(k)},"value":`)).toBe(true);
      }
      const parsed = JSON.parse(await historyJson(id, key)) as { value: unknown; step: number }[];
      expect(parsed).toHaveLength(values.length + 1);
      expect(parsed.filter((p) => typeof p.value === 'string').map((p) => p.value)).toEqual([
        'NaN',
        'Infinity',
        '-Infinity',
      ]);
      expect(parsed.map((p) => p.value)).toEqual(
        expect.arrayContaining([Number.MAX_VALUE, -Number.MIN_VALUE, 1 / 3, 2 ** 53 + 2]),
      );

      expect(await historyJson(id, 'nothing')).toBe('[]');
      await expectCode(historyJson('0'.repeat(32), key), 'NOT_FOUND');
      await expectCode(historyJson(id, '../up'), 'INVALID_ARGUMENT');
    });

    it('enforces batch limits and validates keys and values', async () => {
      const run = await runIn(await experiment('limits'));
      const id = run.info.runId;
      const many = (n: number) => Array.from({ length: n }, (_, i) => metric('m', i, i));
      await expectCode(store().logBatch(id, { metrics: many(1001) }), 'RESOURCE_EXHAUSTED', /1000/);
      const params = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: 'v' }));
      await expectCode(store().logBatch(id, { params: params(101) }), 'RESOURCE_EXHAUSTED');
      await expectCode(store().logBatch(id, { tags: params(101) }), 'RESOURCE_EXHAUSTED');
      await expectCode(store().logBatch(id, { metrics: many(950), params: params(60) }), 'RESOURCE_EXHAUSTED');
      await store().logBatch(id, { metrics: many(1000) });
      expect((await store().getMetricHistory(id, 'm')).items).toHaveLength(1000);

      for (const key of ['', '../up', 'a/../b', '/abs', 'k'.repeat(251), 'new\nline']) {
        await expectCode(store().logBatch(id, { params: [{ key, value: '1' }] }), 'INVALID_ARGUMENT');
      }
      await store().logBatch(id, { params: [{ key: 'k'.repeat(250), value: 'v'.repeat(6000) }] });
      await expectCode(store().logBatch(id, { params: [{ key: 'big', value: 'v'.repeat(6001) }] }), 'INVALID_ARGUMENT');
      await store().setTag(id, 'long', 't'.repeat(8000));
      await expectCode(store().setTag(id, 'longer', 't'.repeat(8001)), 'INVALID_ARGUMENT');
      await expectCode(
        store().logBatch(id, { metrics: [{ key: 'x', value: 1, timestamp: 1.5, step: 0 }] }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        store().logBatch(id, { metrics: [{ key: 'x', value: '1' as never, timestamp: 1, step: 0 }] }),
        'INVALID_ARGUMENT',
      );
    });

    it('pages through a metric history without gaps or duplicates', async () => {
      const run = await runIn(await experiment('history'));
      const id = run.info.runId;
      const points = Array.from({ length: 25 }, (_, i) => metric('h', i * 1.5, Math.floor(i / 2), 1000 + i));
      await store().logBatch(id, { metrics: [...points].reverse() });
      const pages: Metric[][] = [];
      let token: string | undefined;
      do {
        const page = await store().getMetricHistory(id, 'h', {
          maxResults: 10,
          ...(token === undefined ? {} : { pageToken: token }),
        });
        pages.push(page.items);
        token = page.nextPageToken;
      } while (token !== undefined);
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(points);
      await expectCode(store().getMetricHistory(id, 'h', { pageToken: 'nope' }), 'INVALID_ARGUMENT');
      await expectCode(store().getMetricHistory(id, 'h', { maxResults: 0 }), 'INVALID_ARGUMENT');
      await expectCode(store().getMetricHistory('0'.repeat(32), 'h'), 'NOT_FOUND');
    });

    it('pages through a history logged in many batches, out of order and with repeats, as one ordered history', async () => {
      const run = await runIn(await experiment('batches'));
      const id = run.info.runId;
      // 150 calls of 4 points, later calls reaching back before earlier ones; every 10th call
      // logs again a point of the call before, which is kept once.
      const logged: Metric[] = [];
      for (let call = 0; call < 150; call++) {
        const base = (call * 37) % 150;
        const batch = [0, 1, 2, 3].map((i) => metric('c', (call * 4 + i) / 10, base * 3 + i, 1_000 + call));
        if (call % 10 === 9) batch.push(logged[logged.length - 2]!);
        logged.push(...batch.slice(0, 4));
        await store().logBatch(id, { metrics: batch });
      }
      const expected = [...logged].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp || a.value - b.value);
      expect((await store().getMetricHistory(id, 'c')).items).toEqual(expected);
      for (const maxResults of [7, 100, 599, 600]) {
        const pages: Metric[] = [];
        let token: string | undefined;
        do {
          const page = await store().getMetricHistory(id, 'c', {
            maxResults,
            ...(token === undefined ? {} : { pageToken: token }),
          });
          expect(page.items.length).toBeLessThanOrEqual(maxResults);
          pages.push(...page.items);
          token = page.nextPageToken;
        } while (token !== undefined);
        expect(pages).toEqual(expected);
      }
      const sampled = await store().getMetricHistoryDownsampled(id, 'c', {
        points: 1000,
        startStep: 100,
        endStep: 200,
      });
      expect(sampled).toEqual(expected.filter((m) => m.step >= 100 && m.step <= 200));
    });

    it('downsamples long histories with bounded size, keeping spikes and the ends', async () => {
      const run = await runIn(await experiment('downsample'));
      const id = run.info.runId;
      const n = 20_000;
      const spikeStep = 12_345;
      for (let start = 0; start < n; start += 1000) {
        const batch = Array.from({ length: 1000 }, (_, i) => {
          const step = start + i;
          return metric('loss', step === spikeStep ? 1000 : Math.sin(step / 100), step);
        });
        await store().logBatch(id, { metrics: batch });
      }
      const sampled = await store().getMetricHistoryDownsampled(id, 'loss', { points: 200 });
      expect(sampled.length).toBeLessThanOrEqual(200);
      expect(sampled.length).toBeGreaterThan(50);
      expect(sampled).toContainEqual(metric('loss', 1000, spikeStep));
      expect(sampled[0]).toEqual(metric('loss', 0, 0));
      expect(sampled.at(-1)!.step).toBe(n - 1);
      for (let i = 1; i < sampled.length; i++) expect(sampled[i]!.step).toBeGreaterThanOrEqual(sampled[i - 1]!.step);

      const ranged = await store().getMetricHistoryDownsampled(id, 'loss', {
        points: 100,
        startStep: 1000,
        endStep: 15_000,
      });
      expect(ranged.length).toBeLessThanOrEqual(100);
      expect(ranged.every((m) => m.step >= 1000 && m.step <= 15_000)).toBe(true);
      expect(ranged).toContainEqual(metric('loss', 1000, spikeStep));
      expect(ranged[0]!.step).toBe(1000);
      expect(ranged.at(-1)!.step).toBe(15_000);

      const short = await store().getMetricHistoryDownsampled(id, 'loss', {
        points: 50,
        startStep: 100,
        endStep: 129,
      });
      expect(short.map((m) => m.step)).toEqual(Array.from({ length: 30 }, (_, i) => 100 + i));

      // A metric logged without steps (every step 0): its first, smallest, largest and last points.
      const flat = Array.from({ length: 900 }, (_, i) =>
        metric('flat', i === 400 ? -7 : i === 600 ? 9 : 1, 0, 5000 + i),
      );
      await store().logBatch(id, { metrics: flat });
      await store().logBatch(id, { metrics: flat.map((m) => ({ ...m, timestamp: m.timestamp + 1000 })) });
      const flatSampled = await store().getMetricHistoryDownsampled(id, 'flat', { points: 100 });
      expect(flatSampled.length).toBeLessThanOrEqual(100);
      expect(flatSampled.map((m) => m.value)).toEqual(expect.arrayContaining([-7, 9]));
      expect(flatSampled[0]).toEqual(flat[0]);
      expect(await store().getMetricHistoryDownsampled(id, 'missing', { points: 10 })).toEqual([]);
      await expectCode(store().getMetricHistoryDownsampled(id, 'loss', { points: 0 }), 'INVALID_ARGUMENT');
    });
  });

  describe('datasets', () => {
    it('stores a (name, digest) once, keeps input tags and searches on datasets', async () => {
      const exp = await experiment('datasets');
      const a = await runIn(exp);
      const b = await runIn(exp);
      const train = {
        name: 'flights',
        digest: 'abc123',
        sourceType: 'local',
        source: '/data/flights.csv',
        schema: '{"cols":[]}',
      };
      const evalSet = { name: 'flights-eval', digest: 'def456', sourceType: 'local', source: '/data/eval.csv' };
      const ctx = (v: string) => [{ key: SYSTEM_TAGS.datasetContext, value: v }];
      await store().logInputs(a.info.runId, [{ dataset: train, tags: ctx('training') }]);
      await store().logInputs(a.info.runId, [
        { dataset: train, tags: ctx('training') },
        { dataset: evalSet, tags: ctx('evaluation') },
      ]);
      await store().logInputs(b.info.runId, [{ dataset: train, tags: ctx('evaluation') }]);

      const inputs = (await store().getRun(a.info.runId)).inputs.datasetInputs;
      expect(inputs).toEqual([
        { dataset: train, tags: ctx('training') },
        { dataset: evalSet, tags: ctx('evaluation') },
      ]);
      const search = async (filter: string) =>
        (await store().searchRuns({ experimentIds: [exp.experimentId], filter })).items.map((r) => r.info.runId).sort();
      expect(await search(`datasets.name = 'flights'`)).toEqual([a.info.runId, b.info.runId].sort());
      expect(await search(`datasets.digest IN ('def456', 'zzz')`)).toEqual([a.info.runId]);
      expect(await search(`datasets.context = 'training'`)).toEqual([a.info.runId]);
      expect(await search(`datasets.name LIKE 'flights-%'`)).toEqual([a.info.runId]);
      expect(await search(`datasets.context = 'evaluation' AND datasets.name = 'flights'`)).toEqual(
        [a.info.runId, b.info.runId].sort(),
      );
      expect(await search(`datasets.name NOT IN ('flights')`)).toEqual([a.info.runId]);
      expect(await search(`datasets.digest != 'abc123'`)).toEqual([a.info.runId]);
      expect(await search(`datasets.name ILIKE 'FLIGHTS'`)).toEqual([a.info.runId, b.info.runId].sort());
      expect(await search(`datasets.context IN ('evaluation') AND run_id = '${b.info.runId}'`)).toEqual([b.info.runId]);
    });
  });

  describe('run search', () => {
    let exp: Experiment;
    const runs: Record<string, Run> = {};
    const ids = async (filter: string, orderBy?: string[]): Promise<string[]> => {
      const page = await store().searchRuns({
        experimentIds: [exp.experimentId],
        filter,
        ...(orderBy === undefined ? {} : { orderBy }),
      });
      return page.items.map((r) => r.info.runName);
    };
    const sorted = async (filter: string) => (await ids(filter)).sort();

    beforeAll(async () => {
      exp = await experiment('search');
      const specs = [
        { name: 'r1', acc: 0.9, loss: 0.2, model: 'LogisticRegression', team: 'Risk', start: 1000 },
        { name: 'r2', acc: 0.7, loss: undefined, model: 'logistic-tree', team: 'risk', start: 2000 },
        { name: 'r3', acc: undefined, loss: 0.5, model: 'Forest', team: undefined, start: 3000 },
        { name: 'r4', acc: 0.95, loss: 0.1, model: undefined, team: 'ops', start: 4000 },
      ];
      for (const s of specs) {
        const run = await store().createRun({
          experimentId: exp.experimentId,
          runName: s.name,
          startTime: s.start,
          userId: `user-${s.name}`,
        });
        runs[s.name] = run;
        await store().logBatch(run.info.runId, {
          metrics: [
            ...(s.acc === undefined ? [] : [metric('acc', s.acc, 1)]),
            ...(s.loss === undefined ? [] : [metric('loss', s.loss, 1)]),
          ],
          params: s.model === undefined ? [] : [{ key: 'model', value: s.model }],
          tags: s.team === undefined ? [] : [{ key: 'team', value: s.team }],
        });
      }
      await store().updateRun(runs['r4']!.info.runId, { status: 'FINISHED', endTime: 5000 });
    });

    it('filters on metrics with every comparator; runs lacking the metric never match', async () => {
      expect(await sorted('metrics.acc > 0.7')).toEqual(['r1', 'r4']);
      expect(await sorted('metrics.acc >= 0.7')).toEqual(['r1', 'r2', 'r4']);
      expect(await sorted('metrics.acc < 0.9')).toEqual(['r2']);
      expect(await sorted('metrics.acc <= 0.9')).toEqual(['r1', 'r2']);
      expect(await sorted('metrics.acc = 0.95')).toEqual(['r4']);
      expect(await sorted('metrics.acc != 0.95')).toEqual(['r1', 'r2']);
    });

    it('filters on params and tags; LIKE is case-sensitive, ILIKE is not', async () => {
      expect(await sorted(`params.model = 'Forest'`)).toEqual(['r3']);
      expect(await sorted(`params.model != 'Forest'`)).toEqual(['r1', 'r2']);
      expect(await sorted(`params.model LIKE 'Logistic%'`)).toEqual(['r1']);
      expect(await sorted(`params.model ILIKE 'logistic%'`)).toEqual(['r1', 'r2']);
      expect(await sorted(`params.model LIKE '%-tr_e'`)).toEqual(['r2']);
      expect(await sorted(`tags.team = 'risk'`)).toEqual(['r2']);
      expect(await sorted(`tags.team ILIKE 'RISK'`)).toEqual(['r1', 'r2']);
      expect(await sorted(`tags.team LIKE 'R%'`)).toEqual(['r1']);
      expect(await sorted(`tags.team != 'ops'`)).toEqual(['r1', 'r2']);
      expect(await sorted(`params.model ILIKE '%TREE'`)).toEqual(['r2']);
    });

    it('filters on attributes, including IN and NOT IN on run_id', async () => {
      expect(await sorted(`attributes.status = 'FINISHED'`)).toEqual(['r4']);
      expect(await sorted(`run_name LIKE 'r%' AND start_time > 2000`)).toEqual(['r3', 'r4']);
      expect(await sorted(`created <= 2000`)).toEqual(['r1', 'r2']);
      expect(await sorted(`end_time = 5000`)).toEqual(['r4']);
      expect(await sorted(`user_id = 'user-r2'`)).toEqual(['r2']);
      const [a, b] = [runs['r1']!.info.runId, runs['r3']!.info.runId];
      expect(await sorted(`run_id IN ('${a}', '${b}')`)).toEqual(['r1', 'r3']);
      expect(await sorted(`run_id NOT IN ('${a}', '${b}')`)).toEqual(['r2', 'r4']);
      expect(await sorted(`attributes.artifact_uri LIKE '%${runs['r2']!.info.runId}%'`)).toEqual(['r2']);
      expect(await sorted(`status != 'FINISHED'`)).toEqual(['r1', 'r2', 'r3']);
      expect(await sorted(`run_name ILIKE 'R1'`)).toEqual(['r1']);
      expect(await sorted(`run_name LIKE 'R1'`)).toEqual([]);
      expect(await sorted(`start_time >= 2000 AND start_time < 4000 AND end_time != 5000`)).toEqual([]);
      expect(await sorted(`start_time != 2000 AND created >= 3000`)).toEqual(['r3', 'r4']);
    });

    it('combines with AND, OR and parentheses', async () => {
      expect(await sorted(`metrics.acc > 0.92 OR params.model = 'Forest'`)).toEqual(['r3', 'r4']);
      expect(await sorted(`(metrics.acc > 0.92 OR params.model = 'Forest') AND start_time < 3500`)).toEqual(['r3']);
      expect(await sorted(`metrics.acc > 0.92 OR (params.model = 'Forest' AND start_time < 3500)`)).toEqual([
        'r3',
        'r4',
      ]);
      expect(await sorted(`tags.team ILIKE 'risk' AND (metrics.loss < 0.3 OR metrics.acc < 0.8)`)).toEqual([
        'r1',
        'r2',
      ]);
    });

    it('orders with missing values last in both directions, ties by start time', async () => {
      expect(await ids('', ['metrics.acc ASC'])).toEqual(['r2', 'r1', 'r4', 'r3']);
      expect(await ids('', ['metrics.acc DESC'])).toEqual(['r4', 'r1', 'r2', 'r3']);
      expect(await ids('', ['metrics.loss DESC'])).toEqual(['r3', 'r1', 'r4', 'r2']);
      expect(await ids('', ['params.model ASC'])).toEqual(['r3', 'r1', 'r2', 'r4']);
      expect(await ids('', ['params.model DESC'])).toEqual(['r2', 'r1', 'r3', 'r4']);
      expect(await ids('', ['tags.team DESC'])).toEqual(['r2', 'r4', 'r1', 'r3']);
      expect(await ids('', ['end_time ASC'])).toEqual(['r4', 'r3', 'r2', 'r1']);
      expect(await ids('', ['start_time ASC'])).toEqual(['r1', 'r2', 'r3', 'r4']);
      expect(await ids('')).toEqual(['r4', 'r3', 'r2', 'r1']);
    });

    it('returns runs with their data', async () => {
      const [run] = (await store().searchRuns({ experimentIds: [exp.experimentId], filter: `run_name = 'r1'` })).items;
      expect(run).toEqual(await store().getRun(runs['r1']!.info.runId));
      expect(run!.data.metrics.map((m) => m.key)).toEqual(['acc', 'loss']);
      expect(run!.data.params).toEqual([{ key: 'model', value: 'LogisticRegression' }]);
    });

    it('rejects bad filters, orders and page sizes with INVALID_ARGUMENT', async () => {
      const search = (o: { filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string }) =>
        store().searchRuns({ experimentIds: [exp.experimentId], ...o });
      await expectCode(search({ filter: 'metrics.acc >> 1' }), 'INVALID_ARGUMENT');
      await expectCode(search({ filter: 'bogus.key = 1' }), 'INVALID_ARGUMENT');
      await expectCode(search({ filter: `metrics.acc = 'high'` }), 'INVALID_ARGUMENT');
      await expectCode(search({ filter: `params.model > 'a'` }), 'INVALID_ARGUMENT');
      await expectCode(search({ filter: `(metrics.acc > 1` }), 'INVALID_ARGUMENT');
      await expectCode(search({ orderBy: ['datasets.name'] }), 'INVALID_ARGUMENT');
      await expectCode(search({ maxResults: 0 }), 'INVALID_ARGUMENT');
      await expectCode(search({ maxResults: 50_001 }), 'INVALID_ARGUMENT');
      await expectCode(search({ pageToken: '%%%' }), 'INVALID_ARGUMENT');
      await expectCode(store().searchRuns({ experimentIds: ['nope'] }), 'INVALID_ARGUMENT');
      expect((await search({ maxResults: 50_000 })).items).toHaveLength(4);
    });
  });

  describe('run keys', () => {
    it('lists the keys of the active runs of one experiment only, sorted', async () => {
      const exp = await experiment('keys');
      const other = await experiment('keys-other');
      const a = await runIn(exp);
      const b = await runIn(exp);
      const gone = await runIn(exp);
      const elsewhere = await runIn(other);
      await store().logBatch(a.info.runId, {
        params: [
          { key: 'lr', value: '0.1' },
          { key: 'depth', value: '3' },
        ],
        metrics: [metric('loss', 0.5, 0), metric('loss', 0.4, 1)],
        tags: [{ key: 'team', value: 'risk' }],
      });
      await store().logBatch(b.info.runId, {
        params: [{ key: 'lr', value: '0.2' }],
        metrics: [metric('auc', 0.8, 0)],
      });
      await store().logBatch(gone.info.runId, { params: [{ key: 'deleted_only', value: '1' }] });
      await store().deleteRun(gone.info.runId);
      await store().logBatch(elsewhere.info.runId, {
        params: [{ key: 'other_only', value: '1' }],
        metrics: [metric('aaa_other', 1, 0)],
        tags: [{ key: 'zz_other', value: 'x' }],
      });
      const keys = await store().listRunKeys(exp.experimentId);
      expect(keys.params).toEqual(['depth', 'lr']);
      expect(keys.metrics).toEqual(['auc', 'loss']);
      expect(keys.tags).toContain('team');
      expect(keys.tags).not.toContain('zz_other');
      expect([...keys.tags].sort()).toEqual(keys.tags);
      const again = await store().listRunKeys(other.experimentId);
      expect(again.params).toEqual(['other_only']);
      expect(again.metrics).toEqual(['aaa_other']);
    });

    it('answers empty lists for an experiment without runs and NOT_FOUND for an unknown one', async () => {
      const exp = await experiment('keys-empty');
      expect(await store().listRunKeys(exp.experimentId)).toEqual({ params: [], metrics: [], tags: [] });
      await expectCode(store().listRunKeys('987654321'), 'NOT_FOUND');
    });
  });

  describe('run search paging', () => {
    it('pages across results with no duplicates or gaps', async () => {
      const exp = await experiment('paging');
      const created: string[] = [];
      for (let i = 0; i < 23; i++) {
        // Equal start times for some runs: the run_id tiebreak must keep pages stable.
        const run = await store().createRun({ experimentId: exp.experimentId, startTime: 1000 + (i % 5) });
        await store().logBatch(run.info.runId, { metrics: i % 3 === 0 ? [] : [metric('score', i % 4, 0)] });
        created.push(run.info.runId);
      }
      for (const orderBy of [undefined, ['metrics.score DESC'], ['metrics.score ASC', 'start_time ASC']]) {
        const all = await store().searchRuns({
          experimentIds: [exp.experimentId],
          ...(orderBy === undefined ? {} : { orderBy }),
        });
        const paged: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await store().searchRuns({
            experimentIds: [exp.experimentId],
            maxResults: 5,
            ...(orderBy === undefined ? {} : { orderBy }),
            ...(token === undefined ? {} : { pageToken: token }),
          });
          paged.push(...page.items.map((r) => r.info.runId));
          token = page.nextPageToken;
          pages++;
        } while (token !== undefined);
        expect(pages).toBe(5);
        expect(paged).toEqual(all.items.map((r) => r.info.runId));
        expect(new Set(paged).size).toBe(23);
        expect([...paged].sort()).toEqual([...created].sort());
      }
    });
  });
}
