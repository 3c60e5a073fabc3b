import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, runArtifactKey } from '../packages/core/src/index.js';
import { openStores } from '../packages/store/src/index.js';
import { runCli } from './support/cli.js';
import { QUICKSTART_SLICE } from './support/quickstart.js';

interface Summary {
  runId?: string;
  trainRunId: string;
  workdir: string;
  stages: { stage: string; state: string; reason: string }[];
  metrics: Record<string, number>;
  gate: { passed: boolean };
  registered: { name: string; version: number; source: string; aliases: string[] };
  rows: { read: number; train: number; test: number };
}

describe('npm start: the quickstart pipeline (prepare → train → evaluate → register)', () => {
  let home: string;
  let first: Summary;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-qs-pipeline-'));
    const r = await runCli(['quickstart', '--exit', '--json', ...QUICKSTART_SLICE], { TRESTLE_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout) as Summary;
  }, 300_000);

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('the first run executes every stage and registers flights-delay@champion from the train run', async () => {
    expect(first.stages.map((s) => [s.stage, s.state])).toEqual([
      ['prepare', 'ran'],
      ['train', 'ran'],
      ['evaluate', 'ran'],
      ['register', 'ran'],
    ]);
    expect(first.rows).toEqual({ read: 622_708, train: 5000, test: 5000 });
    expect(first.metrics['test_auc']).toBeGreaterThan(first.metrics['baseline_auc']!);
    expect(first.metrics['baseline_auc']).toBe(0.5);
    expect(first.gate.passed).toBe(true);
    expect(first.registered).toMatchObject({ name: 'flights-delay', version: 1, aliases: ['champion'] });
    expect(first.registered.source).toBe(`runs:/${first.trainRunId}/model`);
    expect(first.workdir).toBe(join(home, 'quickstart'));
    expect(existsSync(join(first.workdir, 'trestle.lock'))).toBe(true);
    // The slice is in the working copy's params, not in the example.
    expect(readFileSync(join(first.workdir, 'params.yaml'), 'utf8')).toMatch(/max_rows: 5000/);

    const { metadata, artifacts } = await openStores(loadConfig({ home }, {}));
    try {
      const champion = await metadata.registry.getModelVersionByAlias('flights-delay', 'champion');
      expect(champion.version).toBe(1);
      expect(champion.runId).toBe(first.trainRunId);
      // The pipeline run has one child run per stage; the train run holds the GBDT package.
      const parent = await metadata.getRun(first.runId!);
      expect(parent.info.status).toBe('FINISHED');
      const train = await metadata.getRun(first.trainRunId);
      expect(train.info.status).toBe('FINISHED');
      expect(train.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value).toBe(first.runId);
      expect(train.data.params.find((p) => p.key === 'model')?.value).toBe('gbdt');
      expect(train.data.metrics.find((m) => m.key === 'valid_auc')?.value).toBeGreaterThan(0.5);
      const manifest = JSON.parse(
        (await buffer(await artifacts.get(runArtifactKey(train.info, 'model/trestle-model.json')))).toString('utf8'),
      ) as { trainer?: { name?: string }; run?: { runId: string } };
      expect(manifest.run?.runId).toBe(first.trainRunId);
    } finally {
      await metadata.close();
      await artifacts.close();
    }
  });

  it('a second run skips every stage, says so, and logs no new run', async () => {
    const r = await runCli(['quickstart', '--exit', ...QUICKSTART_SLICE], { TRESTLE_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    for (const stage of ['prepare', 'train', 'evaluate', 'register'])
      expect(r.stderr).toContain(`✓ ${stage}: skipped (unchanged)`);
    expect(r.stdout).toContain('Nothing to do: all 4 stages skipped');
    expect(r.stdout).toContain('npx trestle serve models:/flights-delay@champion');
    expect(r.stdout).toMatch(new RegExp(`test AUC\\s+${first.metrics['test_auc']!.toFixed(4)}\\s+0\\.5000`));
    const runs = await runCli(['runs', 'list', '--json'], { TRESTLE_HOME: home });
    const ids = (JSON.parse(runs.stdout) as { runs: { info: { runId: string } }[] }).runs.map((x) => x.info.runId);
    expect(ids).toHaveLength(5); // the pipeline run and its 4 stage runs, all from the first run
  }, 300_000);

  it('refuses an unknown parameter with a usage error naming the keys', async () => {
    const r = await runCli(['quickstart', '--set', 'train.trees=5'], { TRESTLE_HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--set train\.trees: .*params\.yaml has no such key \(it has .*train\.rounds/);
  });
});
