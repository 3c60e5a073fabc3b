/**
 * The registry contract: the same assertions for every `RegistryStore` (SQLite, PostgreSQL,
 * and the REST client against a server). A backend's test file runs it in one line:
 *
 * @example
 * registryStoreContract('sqlite', async () => {
 *   const store = await openMetadataStore(join(tmp, 'trestle.db'));
 *   return { metadata: store, registry: store.registry, cleanup: () => store.close() };
 * });
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryStore, TrackingBackend } from '@trestle/core';
import { expectCode, uid } from './tracking-contract.js';

/** What a backend's factory hands the suite. */
export interface RegistryContractSubject {
  /** Where the suite makes runs and dataset inputs for lineage. */
  tracking: TrackingBackend;
  registry: RegistryStore;
  cleanup: () => Promise<void>;
  /** A second registry on the same database (another replica), when the backend has one. */
  openAnother?: () => Promise<{ registry: RegistryStore; close: () => Promise<void> }>;
}

/** Registers the registry contract suite for one backend. */
export function registryStoreContract(name: string, factory: () => Promise<RegistryContractSubject>): void {
  describe(`registry store contract: ${name}`, () => {
    let subject: RegistryContractSubject | undefined;
    const s = (): RegistryContractSubject => {
      if (subject === undefined) throw new Error('the store factory failed; see the beforeAll error');
      return subject;
    };
    const reg = (): RegistryStore => s().registry;
    const newRun = async (): Promise<string> => {
      const exp = await s().tracking.createExperiment({ name: `reg-${uid()}` });
      return (await s().tracking.createRun({ experimentId: exp.experimentId })).info.runId;
    };

    beforeAll(async () => {
      subject = await factory();
    });
    afterAll(async () => {
      await subject?.cleanup();
    });

    it('creates, gets, renames, updates and deletes registered models', async () => {
      const name = `fraud-${uid()}`;
      const created = await reg().createRegisteredModel(
        { name, description: 'card fraud', tags: [{ key: 'team', value: 'risk' }] },
        { actor: 'alice' },
      );
      expect(created).toMatchObject({ name, description: 'card fraud', userId: 'alice', latestVersion: 0 });
      expect(created.tags).toEqual([{ key: 'team', value: 'risk' }]);
      await expectCode(reg().createRegisteredModel({ name }), 'ALREADY_EXISTS', /already exists/);
      await expectCode(reg().getRegisteredModel(`missing-${uid()}`), 'NOT_FOUND', /does not exist/);
      await expectCode(reg().createRegisteredModel({ name: 'a/b' }), 'INVALID_ARGUMENT', /'\/'/);

      const renamed = `${name}-v2`;
      const runId = await newRun();
      await reg().createModelVersion({ name, source: `runs:/${runId}/model`, runId });
      await reg().setAlias(name, 'champion', 1);
      expect((await reg().renameRegisteredModel(name, renamed)).name).toBe(renamed);
      await expectCode(reg().getRegisteredModel(name), 'NOT_FOUND');
      expect((await reg().getModelVersionByAlias(renamed, 'champion')).version).toBe(1);
      expect((await reg().updateRegisteredModel(renamed, { description: 'new' })).description).toBe('new');
      await reg().setRegisteredModelTag(renamed, 'owner', 'bob');
      await reg().deleteRegisteredModelTag(renamed, 'team');
      expect((await reg().getRegisteredModel(renamed)).tags).toEqual([{ key: 'owner', value: 'bob' }]);
      await expectCode(reg().deleteRegisteredModelTag(renamed, 'team'), 'NOT_FOUND');

      await reg().deleteRegisteredModel(renamed);
      await expectCode(reg().getRegisteredModel(renamed), 'NOT_FOUND');
      await expectCode(reg().getModelVersion(renamed, 1), 'NOT_FOUND');
      // The trail outlives the model, readable under the name it had; a name never used is NOT_FOUND.
      const trail = await reg().listEvents({ model: renamed, order: 'desc' });
      expect(trail[0]).toMatchObject({ type: 'model.deleted', model: renamed });
      await expectCode(reg().listEvents({ model: `never-${uid()}` }), 'NOT_FOUND', /does not exist/);
      // The name is free again, and numbering starts afresh for the new model.
      const again = await reg().createModelVersion({ name: renamed, source: 's3://b/m', createModel: true });
      expect(again.version).toBe(1);
    });

    it('numbers versions from 1 and never reuses a number', async () => {
      const name = `nums-${uid()}`;
      const runId = await newRun();
      const v1 = await reg().createModelVersion(
        {
          name,
          source: `runs:/${runId}/model`,
          runId,
          createModel: true,
          description: 'first',
          tags: [{ key: 'k', value: 'v' }],
        },
        { actor: 'ci' },
      );
      expect(v1).toMatchObject({
        name,
        version: 1,
        source: `runs:/${runId}/model`,
        runId,
        status: 'READY',
        stage: 'None',
        description: 'first',
        userId: 'ci',
        tags: [{ key: 'k', value: 'v' }],
        aliases: [],
      });
      const v2 = await reg().createModelVersion({ name, source: 'file:///x' });
      expect(v2.version).toBe(2);
      await reg().deleteModelVersion(name, 2);
      await expectCode(reg().getModelVersion(name, 2), 'NOT_FOUND', /version 2/);
      expect((await reg().createModelVersion({ name, source: 'file:///y' })).version).toBe(3);
      expect((await reg().getRegisteredModel(name)).latestVersion).toBe(3);
      await expectCode(reg().createModelVersion({ name: `none-${uid()}`, source: 'x' }), 'NOT_FOUND');
      await expectCode(reg().getModelVersion(name, 0), 'INVALID_ARGUMENT');
    });

    it('registers atomically: a refused registration leaves nothing behind', async () => {
      const name = `atomic-${uid()}`;
      await expectCode(
        reg().createModelVersion({ name, source: 'x', runId: 'f'.repeat(32), createModel: true }),
        'NOT_FOUND',
        /run/,
      );
      await expectCode(reg().getRegisteredModel(name), 'NOT_FOUND');
      await expectCode(
        reg().createModelVersion({ name, source: 'x', createModel: true, aliases: ['bad alias'] }),
        'INVALID_ARGUMENT',
      );
      await expectCode(reg().getRegisteredModel(name), 'NOT_FOUND');
      const v = await reg().createModelVersion({ name, source: 'x', createModel: true, aliases: ['champion'] });
      expect(v.aliases).toEqual(['champion']);
      const events = await reg().listEvents({ model: name });
      expect(events.map((e) => e.type)).toEqual(['model.created', 'version.created', 'alias.set']);
    });

    it('sets, moves and deletes aliases, refuses versions that are not READY, and records every move', async () => {
      const name = `alias-${uid()}`;
      for (let i = 0; i < 3; i++) await reg().createModelVersion({ name, source: `s${i}`, createModel: true });
      const pending = await reg().createModelVersion({ name, source: 'p', status: 'PENDING_REGISTRATION' });
      expect(pending.status).toBe('PENDING_REGISTRATION');

      await reg().setAlias(name, 'champion', 1, { actor: 'alice', reason: 'first' });
      await reg().setAlias(name, 'champion', 2, { actor: 'bob', reason: 'better AUC' });
      await reg().setAlias(name, 'challenger', 3);
      expect((await reg().getModelVersionByAlias(name, 'champion')).version).toBe(2);
      expect((await reg().getModelVersion(name, 2)).aliases).toEqual(['champion']);
      expect((await reg().getRegisteredModel(name)).aliases).toEqual([
        { alias: 'challenger', version: 3 },
        { alias: 'champion', version: 2 },
      ]);
      await expectCode(reg().setAlias(name, 'champion', 4), 'FAILED_PRECONDITION', /PENDING_REGISTRATION.*READY/);
      expect((await reg().getModelVersionByAlias(name, 'champion')).version).toBe(2);
      await expectCode(reg().setAlias(name, 'latest', 1), 'INVALID_ARGUMENT', /reserved/);
      await expectCode(reg().setAlias(name, 'v2', 1), 'INVALID_ARGUMENT', /reserved/);
      await expectCode(reg().setAlias(name, 'champion', 9), 'NOT_FOUND');
      await expectCode(reg().getModelVersionByAlias(name, 'nope'), 'NOT_FOUND', /no alias 'nope'/);
      // A version carrying an alias cannot leave READY.
      await expectCode(reg().updateModelVersion(name, 2, { status: 'FAILED_REGISTRATION' }), 'FAILED_PRECONDITION');
      await reg().updateModelVersion(name, 4, { status: 'READY' }, { actor: 'ci' });
      await reg().setAlias(name, 'champion', 4);

      await reg().deleteAlias(name, 'challenger', { actor: 'carol', reason: 'retired' });
      await expectCode(reg().getModelVersionByAlias(name, 'challenger'), 'NOT_FOUND');
      await expectCode(reg().deleteAlias(name, 'challenger'), 'NOT_FOUND');

      const moves = await reg().listEvents({ model: name, types: ['alias.set', 'alias.deleted'] });
      expect(moves.map((e) => [e.type, e.alias, e.oldVersion, e.newVersion, e.actor, e.reason])).toEqual([
        ['alias.set', 'champion', undefined, 1, 'alice', 'first'],
        ['alias.set', 'champion', 1, 2, 'bob', 'better AUC'],
        ['alias.set', 'challenger', undefined, 3, '', undefined],
        ['alias.set', 'champion', 2, 4, '', undefined],
        ['alias.deleted', 'challenger', 3, undefined, 'carol', 'retired'],
      ]);
      for (const e of moves) expect(e.time).toBeGreaterThan(1_600_000_000_000);
      const statusChange = (await reg().listEvents({ model: name, types: ['version.updated'] }))[0];
      expect(statusChange).toMatchObject({
        version: 4,
        actor: 'ci',
        details: { field: 'status', old: 'PENDING_REGISTRATION', new: 'READY' },
      });
      const newest = await reg().listEvents({ model: name, order: 'desc', limit: 1 });
      expect(newest[0]?.type).toBe('alias.deleted');
    });

    it('rolls an alias back to its previous version, recorded as a move', async () => {
      const name = `rollback-${uid()}`;
      for (let i = 0; i < 3; i++) await reg().createModelVersion({ name, source: `s${i}`, createModel: true });
      await reg().setAlias(name, 'champion', 1);
      await expectCode(reg().rollbackAlias(name, 'champion'), 'FAILED_PRECONDITION', /no earlier version/);
      await reg().setAlias(name, 'champion', 3);
      const back = await reg().rollbackAlias(name, 'champion', { actor: 'oncall', reason: 'v3 misbehaves' });
      expect(back.version).toBe(1);
      expect((await reg().getModelVersionByAlias(name, 'champion')).version).toBe(1);
      const [last] = await reg().listEvents({ model: name, order: 'desc', limit: 1 });
      expect(last).toMatchObject({
        type: 'alias.set',
        alias: 'champion',
        oldVersion: 3,
        newVersion: 1,
        actor: 'oncall',
        reason: 'v3 misbehaves',
        details: { rollback: true },
      });
      await expectCode(reg().rollbackAlias(name, 'nope'), 'NOT_FOUND');
    });

    it('walks lineage both ways: version → run → datasets, and dataset → runs → versions', async () => {
      const name = `lineage-${uid()}`;
      const digest = randomBytes(32).toString('hex');
      const runId = await newRun();
      await s().tracking.logInputs(runId, [
        {
          dataset: { name: 'flights-jan', digest, sourceType: 'local', source: 'file:///data/f.parquet' },
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
        },
      ]);
      await reg().createModelVersion({ name, source: `runs:/${runId}/model`, runId, createModel: true });
      await reg().setAlias(name, 'champion', 1);
      const down = await reg().getVersionLineage(name, 1);
      expect(down.version.version).toBe(1);
      expect(down.run).toMatchObject({ runId, status: 'RUNNING' });
      expect(down.run?.datasets).toEqual([
        { name: 'flights-jan', digest, source: 'file:///data/f.parquet', context: 'training' },
      ]);
      const up = await reg().getDatasetLineage(digest);
      expect(up.runs).toEqual([expect.objectContaining({ runId, datasetName: 'flights-jan', context: 'training' })]);
      expect(up.versions).toEqual([{ name, version: 1, runId, aliases: ['champion'] }]);
      expect((await reg().getDatasetLineage('0'.repeat(64))).versions).toEqual([]);
      const fileOnly = await reg().createModelVersion({ name, source: 'file:///m' });
      expect((await reg().getVersionLineage(name, fileOnly.version)).run).toBeUndefined();
    });

    it("searches with MLflow's registry filters, including the clause MLflow 3 appends", async () => {
      const prefix = `srch${uid()}`;
      await reg().createRegisteredModel({ name: `${prefix}-alpha`, tags: [{ key: 'team', value: 'risk' }] });
      await reg().createRegisteredModel({ name: `${prefix}-beta` });
      await reg().createRegisteredModel({
        name: `${prefix}-prompt`,
        tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }],
      });
      const names = async (filter: string, orderBy?: string[]): Promise<string[]> =>
        (await reg().searchRegisteredModels({ filter, ...(orderBy === undefined ? {} : { orderBy }) })).items.map(
          (m) => m.name,
        );
      expect(await names(`name LIKE '${prefix}%'`)).toEqual([`${prefix}-alpha`, `${prefix}-beta`, `${prefix}-prompt`]);
      expect(await names(`name LIKE '${prefix}%' AND tag.\`mlflow.prompt.is_prompt\` != 'true'`)).toEqual([
        `${prefix}-alpha`,
        `${prefix}-beta`,
      ]);
      expect(await names(`name LIKE '${prefix}%' AND tags.team = 'risk'`)).toEqual([`${prefix}-alpha`]);
      expect(await names(`name ILIKE '${prefix.toUpperCase()}-B%'`)).toEqual([`${prefix}-beta`]);
      expect(await names(`name = '${prefix}-beta' OR name = '${prefix}-alpha'`, ['name DESC'])).toEqual([
        `${prefix}-beta`,
        `${prefix}-alpha`,
      ]);
      const page1 = await reg().searchRegisteredModels({ filter: `name LIKE '${prefix}%'`, maxResults: 2 });
      expect(page1.items).toHaveLength(2);
      const page2 = await reg().searchRegisteredModels({
        filter: `name LIKE '${prefix}%'`,
        maxResults: 2,
        pageToken: page1.nextPageToken!,
      });
      expect(page2.items.map((m) => m.name)).toEqual([`${prefix}-prompt`]);
      expect(page2.nextPageToken).toBeUndefined();
      await expectCode(reg().searchRegisteredModels({ filter: 'metrics.x > 1' }), 'INVALID_ARGUMENT');

      const runId = await newRun();
      await reg().createModelVersion({ name: `${prefix}-alpha`, source: 'a1', runId });
      await reg().createModelVersion({ name: `${prefix}-alpha`, source: 'a2', tags: [{ key: 'gate', value: 'ok' }] });
      await reg().createModelVersion({ name: `${prefix}-beta`, source: 'b1', runId });
      const versions = async (filter: string): Promise<string[]> =>
        (await reg().searchModelVersions({ filter })).items.map((v) => `${v.name}/${v.version}`);
      expect(await versions(`run_id = '${runId}'`)).toEqual([`${prefix}-alpha/1`, `${prefix}-beta/1`]);
      expect(await versions(`run_id IN ('${runId}', 'x') AND name = '${prefix}-beta'`)).toEqual([`${prefix}-beta/1`]);
      expect(await versions(`name = '${prefix}-alpha'`)).toEqual([`${prefix}-alpha/2`, `${prefix}-alpha/1`]);
      expect(await versions(`name = '${prefix}-alpha' AND version_number >= 2`)).toEqual([`${prefix}-alpha/2`]);
      expect(await versions(`tags.gate = 'ok'`)).toEqual([`${prefix}-alpha/2`]);
      expect(await versions(`source_path = 'b1'`)).toEqual([`${prefix}-beta/1`]);
    });

    it('keeps the deprecated stages: transition, archive existing, latest per stage', async () => {
      const name = `stages-${uid()}`;
      for (let i = 0; i < 3; i++) await reg().createModelVersion({ name, source: `s${i}`, createModel: true });
      await reg().transitionStage(name, 1, 'Production', false);
      await reg().transitionStage(name, 2, 'Staging', false);
      const moved = await reg().transitionStage(name, 3, 'Production', true);
      expect(moved.stage).toBe('Production');
      expect((await reg().getModelVersion(name, 1)).stage).toBe('Archived');
      const latest = await reg().getLatestVersions(name);
      expect(latest.map((v) => [v.version, v.stage])).toEqual([
        [1, 'Archived'],
        [2, 'Staging'],
        [3, 'Production'],
      ]);
      expect((await reg().getLatestVersions(name, ['Staging'])).map((v) => v.version)).toEqual([2]);
      await expectCode(reg().transitionStage(name, 1, 'Bogus' as never, false), 'INVALID_ARGUMENT', /stage/);
    });

    it('feeds events in id order to a reader that resumes after the last id it saw', async () => {
      const start = await reg().lastEventId();
      const name = `events-${uid()}`;
      await reg().createModelVersion({ name, source: 's', createModel: true });
      await reg().setAlias(name, 'champion', 1);
      const after = await reg().listEvents({ after: start });
      const mine = after.filter((e) => e.model === name);
      expect(mine.map((e) => e.type)).toEqual(['model.created', 'version.created', 'alias.set']);
      const ids = after.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(await reg().lastEventId()).toBe(ids.at(-1));
      const rest = await reg().listEvents({ after: mine[1]!.id });
      expect(rest.find((e) => e.model === name)?.type).toBe('alias.set');
    });

    it('gives distinct version numbers to concurrent registrations, also from another instance', async () => {
      const name = `race-${uid()}`;
      await reg().createRegisteredModel({ name });
      const other = await s().openAnother?.();
      try {
        const registries = [reg(), other?.registry ?? reg()];
        const made = await Promise.all(
          Array.from({ length: 8 }, (_, i) => registries[i % 2]!.createModelVersion({ name, source: `s${i}` })),
        );
        expect(made.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      } finally {
        await other?.close();
      }
    });
  });
}
