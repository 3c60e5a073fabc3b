import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ModelVersion, type RegisteredModel, type RegistryEvent } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { syntheticCsv } from '../packages/models/src/testing-data.js';
import { runCli, type CliResult } from './support/cli.js';

/**
 * `trestle train --register` and `trestle models …` end to end, on a real SQLite store and over
 * HTTP against a real `trestle server` (`--tracking-uri`); `trestle predict models:/…` gives the
 * same predictions as the run's own package.
 */
describe.each(['embedded', 'http'] as const)('trestle models (%s)', (mode) => {
  let dir: string;
  let server: RunningServer | undefined;
  /** For train and predict (TRESTLE_TRACKING_URI in HTTP mode). */
  let env: Record<string, string>;
  /** For `models …`: the HTTP mode passes --tracking-uri instead of the environment. */
  let modelsEnv: Record<string, string>;
  let remote: string[];
  let csv: string;
  let run1: string;
  let run2: string;

  const models = (...args: string[]): Promise<CliResult> => runCli(['models', ...args, ...remote], modelsEnv);
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await models(...args, '--json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const predict = async (uri: string): Promise<string> => {
    const out = join(dir, `pred-${Math.random().toString(36).slice(2)}.csv`);
    const r = await runCli(['predict', uri, '--data', csv, '--out', out], env);
    expect(r.code, r.stderr).toBe(0);
    return readFile(out, 'utf8');
  };
  const train = async (extra: string[]): Promise<{ runId: string; registered?: { version: number } }> => {
    const r = await runCli(
      ['train', 'gbdt', '--data', csv, '--target', 'delayed', '--experiment', 'cli-models', '--json', ...extra],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { runId: string; registered?: { version: number } };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `trestle-cli-models-${mode}-`));
    csv = join(dir, 'flights.csv');
    await writeFile(csv, syntheticCsv(1500));
    const clientHome = join(dir, 'client', '.trestle');
    if (mode === 'http') {
      server = await startServer({
        config: loadConfig({ home: join(dir, 'server') }, {}),
        port: 0,
        logger: false,
        handleSignals: false,
      });
      env = { TRESTLE_HOME: clientHome, TRESTLE_TRACKING_URI: server.url };
      remote = ['--tracking-uri', server.url];
    } else {
      env = { TRESTLE_HOME: clientHome };
      remote = [];
    }
    modelsEnv = { TRESTLE_HOME: clientHome };
    const first = await train(['--param', 'rounds=8', '--register', 'flights', '--alias', 'champion']);
    expect(first.registered).toMatchObject({ name: 'flights', version: 1, aliases: ['champion'] });
    const second = await train(['--param', 'rounds=16', '--register', 'flights']);
    expect(second.registered).toMatchObject({ name: 'flights', version: 2 });
    run1 = first.runId;
    run2 = second.runId;
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists and shows models and versions, as tables and as JSON', async () => {
    const list = await json<{ models: RegisteredModel[] }>('list');
    expect(list.models.map((m) => [m.name, m.latestVersion, m.aliases])).toEqual([
      ['flights', 2, [{ alias: 'champion', version: 1 }]],
    ]);
    const table = await models('list');
    expect(table.stdout).toMatch(/^NAME\s+LATEST\s+ALIASES/);
    expect(table.stdout).toMatch(/flights\s+2\s+champion=1/);

    const shown = await json<{ model: RegisteredModel; versions: ModelVersion[] }>('show', 'flights');
    expect(shown.versions.map((v) => [v.version, v.runId, v.source])).toEqual([
      [2, run2, `runs:/${run2}/model`],
      [1, run1, `runs:/${run1}/model`],
    ]);
    const byAlias = await json<{ version: ModelVersion }>('show', 'flights@champion');
    expect(byAlias.version).toMatchObject({ version: 1, runId: run1, aliases: ['champion'] });
    expect((await json<{ version: ModelVersion }>('show', 'models:/flights/latest')).version.version).toBe(2);
    expect((await models('show', 'flights/1')).stdout).toMatch(/^model\s+flights\nversion\s+1\nstatus\s+READY/);
  });

  it('predicts through models:/ URIs exactly as through the run that made the version', async () => {
    const fromRun1 = await predict(`runs:/${run1}/model`);
    const fromRun2 = await predict(`runs:/${run2}/model`);
    expect(fromRun1).not.toBe(fromRun2);
    expect(fromRun1.split('\n').length).toBe(1502);
    expect(await predict('models:/flights@champion')).toBe(fromRun1);
    expect(await predict('models:/flights/1')).toBe(fromRun1);
    expect(await predict('models:/flights/latest')).toBe(fromRun2);
    const unknown = await runCli(['predict', 'models:/flights@nobody', '--data', csv], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe(
      "trestle predict: error: registered model 'flights' has no alias 'nobody'; set it with 'trestle models alias flights@nobody VERSION'",
    );
  });

  it('moves an alias with a reason, shows it in the history, rolls it back', async () => {
    const moved = await json<{ version: number; previousVersion: number }>(
      'alias',
      'flights@champion',
      '2',
      '--reason',
      'beats v1 on AUC',
    );
    expect(moved).toMatchObject({ version: 2, previousVersion: 1 });
    expect((await json<{ version: ModelVersion }>('show', 'flights@champion')).version.version).toBe(2);

    const history = await json<{ events: RegistryEvent[] }>('history', 'flights@champion');
    expect(history.events[0]).toMatchObject({
      type: 'alias.set',
      alias: 'champion',
      oldVersion: 1,
      newVersion: 2,
      reason: 'beats v1 on AUC',
    });
    expect(history.events[0]!.actor).not.toBe('');

    const back = await json<{ version: number; previousVersion: number }>('rollback', 'flights@champion');
    expect(back).toMatchObject({ version: 1, previousVersion: 2 });
    expect((await json<{ version: ModelVersion }>('show', 'flights@champion')).version.version).toBe(1);
    expect(await predict('models:/flights@champion')).toBe(await predict(`runs:/${run1}/model`));

    // `train --register` records who registered, as `models` commands do.
    const created = await json<{ events: RegistryEvent[] }>('history', 'flights', '--type', 'version.created');
    expect(created.events.map((e) => e.version)).toEqual([2, 1]);
    for (const e of created.events) expect(e.actor).not.toBe('');

    const all = await models('history', 'flights');
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TIME\s+ACTOR\s+EVENT\s+VERSION\s+CHANGE\s+REASON$/);
    expect(lines[1]).toMatch(/alias\.set\s+1\s+@champion 2 → 1/);
    expect(lines[2]).toMatch(/alias\.set\s+2\s+@champion 1 → 2\s+beats v1 on AUC/);
    expect(lines.at(-1)).toMatch(/model\.created/);
  });

  it('traces lineage both ways: version → run → dataset digest → runs → versions', async () => {
    const { lineage } = await json<{
      lineage: { version: ModelVersion; run: { runId: string; datasets: { digest: string; context?: string }[] } };
    }>('lineage', 'flights/1');
    expect(lineage.run.runId).toBe(run1);
    const digest = lineage.run.datasets.find((d) => d.context === 'training')!.digest;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const { dataset } = await json<{
      dataset: { runs: { runId: string }[]; versions: { name: string; version: number }[] };
    }>('lineage', '--dataset', digest);
    expect(dataset.runs.map((r) => r.runId).sort()).toEqual([run1, run2].sort());
    expect(dataset.versions.map((v) => `${v.name}/${v.version}`).sort()).toEqual(['flights/1', 'flights/2']);
    const human = await models('lineage', 'flights@champion');
    expect(human.stdout).toContain(`run      ${run1}`);
    expect(human.stdout).toContain(digest);
  });

  it('registers a run prefix and a package folder; deletes a version, an alias, then the model', async () => {
    const fromPrefix = await json<{ version: ModelVersion }>(
      'register',
      'flights-copy',
      `runs:/${run2.slice(0, 10)}/model`,
      '--alias',
      'challenger',
      '--tag',
      'team=risk',
    );
    expect(fromPrefix.version).toMatchObject({
      name: 'flights-copy',
      version: 1,
      runId: run2,
      source: `runs:/${run2}/model`,
      aliases: ['challenger'],
      tags: [{ key: 'team', value: 'risk' }],
    });
    expect(await predict('models:/flights-copy@challenger')).toBe(await predict(`runs:/${run2}/model`));
    if (mode === 'embedded') {
      // A package folder on this machine (here: the run's own copy in the artifact store).
      const { version: v1 } = await json<{ version: ModelVersion }>('show', 'flights/1');
      const run = await runCli(['runs', 'show', run1, '--json'], modelsEnv);
      const experimentId = (JSON.parse(run.stdout) as { run: { info: { experimentId: string } } }).run.info
        .experimentId;
      const packageDir = join(dir, 'client', '.trestle', 'artifacts', experimentId, run1, 'artifacts', 'model');
      const fromFolder = await json<{ version: ModelVersion }>('register', 'flights-folder', packageDir);
      expect(fromFolder.version.source).toBe(pathToFileURL(packageDir).href);
      expect(fromFolder.version.runId).toBeUndefined();
      expect(v1.runId).toBe(run1);
      expect(await predict('models:/flights-folder/1')).toBe(await predict(`runs:/${run1}/model`));
      await models('delete', 'flights-folder', '--yes');

      const folder = join(dir, 'client', '.trestle', 'artifacts');
      expect(existsSync(folder)).toBe(true);
      const notAPackage = await models('register', 'flights-copy', folder);
      expect(notAPackage.code).toBe(1);
      expect(notAPackage.stderr.trim().split('\n')).toHaveLength(1);
    }

    expect((await models('delete', 'flights/2')).code).toBe(0);
    expect((await json<{ versions: ModelVersion[] }>('show', 'flights')).versions.map((v) => v.version)).toEqual([1]);
    expect((await models('delete', 'flights@champion')).code).toBe(0);
    const gone = await models('show', 'flights@champion');
    expect(gone.code).toBe(1);
    const refused = await models('delete', 'flights');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/removes its versions and aliases for good; add --yes/);
    expect((await models('delete', 'flights', '--yes')).code).toBe(0);
    expect((await json<{ models: RegisteredModel[] }>('list')).models.map((m) => m.name)).toEqual(['flights-copy']);
    // The trail outlives the model.
    const trail = await json<{ events: RegistryEvent[] }>('history', 'flights');
    expect(trail.events[0]).toMatchObject({ type: 'model.deleted' });
  });

  it.each([
    [
      ['show', 'nope'],
      1,
      "trestle models show: error: registered model 'nope' does not exist; see 'trestle models list'",
    ],
    [['show', 'flights-copy/9'], 1, /^trestle models show: error: version 9 of registered model 'flights-copy'/],
    [['rollback', 'flights-copy@nobody'], 1, /^trestle models rollback: error: .*has no alias 'nobody'/],
    [['lineage', 'nope/1'], 1, /^trestle models lineage: error: registered model 'nope' does not exist/],
    [['alias', 'flights-copy', '1'], 2, /names no alias; write NAME@ALIAS/],
    [['alias', 'flights-copy@champion'], 2, /give the VERSION to point the alias at/],
    [['alias', 'flights-copy@champion', 'two'], 2, /VERSION must be a positive integer/],
    [['show', 'flights-copy/x1'], 2, /has version 'x1', which is not a positive integer/],
    [['lineage'], 2, /give a version \(NAME\/VERSION or NAME@ALIAS\) or --dataset DIGEST/],
    [['lineage', 'flights-copy'], 2, /names a model, not a version/],
    [['register', 'x', 's3://bucket/model'], 2, /cannot register 's3:\/\/bucket\/model'/],
    [['show'], 2, /expected NAME \| NAME\/VERSION/],
  ] as const)('%j: exit %i with one readable line', async (args, code, message) => {
    const r = await models(...args);
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    if (typeof message === 'string') expect(r.stderr.trim()).toBe(message);
    else expect(r.stderr).toMatch(message);
  });

  if (mode === 'embedded') {
    it('predicting from models:/ with no store says so in one line and creates none', async () => {
      const empty = join(dir, 'empty', '.trestle');
      const r = await runCli(['predict', 'models:/flights@champion', '--data', csv], { TRESTLE_HOME: empty });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(empty)).toBe(false);
    });
  }

  it('refuses a --tracking-uri that is not a URL', async () => {
    const r = await runCli(['models', 'list', '--tracking-uri', 'localhost:5000'], modelsEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tracking-uri expects an http\(s\):\/\/ URL, got 'localhost:5000'/);
  });

  if (mode === 'http') {
    it('left no embedded store behind on the client', () => {
      expect(existsSync(join(dir, 'client', '.trestle', 'trestle.db'))).toBe(false);
    });
  }
});
