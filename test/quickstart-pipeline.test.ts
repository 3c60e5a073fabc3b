import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, runArtifactKey } from '../packages/core/src/index.js';
import { openStores } from '../packages/store/src/index.js';
import { runCli } from './support/cli.js';
import { QUICKSTART_COMPARE_SLICE as SLICE } from './support/quickstart.js';

interface Summary {
  runId?: string;
  trainRunId: string;
  baselineRunId: string;
  workdir: string;
  stages: { stage: string; state: string; reason: string }[];
  metrics: Record<string, number>;
  gate: { passed: boolean; checks: { check: string; passed: boolean }[] };
  registered: { name: string; version: number; source: string; aliases: string[] };
  rows: { read: number; train: number; test: number };
}

describe('npm start: the quickstart pipeline (prepare → train and baseline → evaluate → register)', () => {
  let home: string;
  let first: Summary;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-qs-pipeline-'));
    const r = await runCli(['quickstart', '--exit', '--json', ...SLICE], { TRESTLE_HOME: home });
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
      ['baseline', 'ran'],
      ['evaluate', 'ran'],
      ['register', 'ran'],
    ]);
    // prepare reads January–June (the file but the 6 flights of 1 July): the demo's traffic is February–June.
    expect(first.rows).toEqual({ read: 2_999_994, train: 50_000, test: 50_000 });
    expect(first.metrics['test_auc']).toBeGreaterThan(first.metrics['baseline_auc']!);
    expect(first.metrics['baseline_auc']).toBe(0.5);
    // The logistic regression beside it ranks better than nothing, and the GBDT better than it.
    expect(first.metrics['logistic_auc']).toBeGreaterThan(0.5);
    expect(first.metrics['test_auc']).toBeGreaterThan(first.metrics['logistic_auc']!);
    expect(first.gate.passed).toBe(true);
    expect(first.gate.checks).toContainEqual({ check: "test AUC > logistic regression's", passed: true });
    expect(first.registered).toMatchObject({ name: 'flights-delay', version: 1, aliases: ['champion'] });
    expect(first.registered.source).toBe(`runs:/${first.trainRunId}/model`);
    expect(first.workdir).toBe(join(home, 'quickstart'));
    expect(existsSync(join(first.workdir, 'trestle.lock'))).toBe(true);
    // The slice is in the working copy's params, not in the example.
    expect(readFileSync(join(first.workdir, 'params.yaml'), 'utf8')).toMatch(/max_rows: 50000/);

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
      // The baseline stage's run: the logistic regression on the same rows, its held-out AUC
      // logged as the same metric as the GBDT's, in the same experiment, under the same pipeline run.
      const logistic = await metadata.getRun(first.baselineRunId);
      expect(logistic.info.status).toBe('FINISHED');
      expect(logistic.info.experimentId).toBe(train.info.experimentId);
      expect(logistic.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value).toBe(first.runId);
      expect(logistic.data.params.find((p) => p.key === 'model')?.value).toBe('logistic');
      const metric = (run: typeof train, key: string): number | undefined =>
        run.data.metrics.find((m) => m.key === key)?.value;
      expect(metric(logistic, 'test_auc')).toBe(first.metrics['logistic_auc']);
      expect(metric(train, 'test_auc')).toBe(first.metrics['test_auc']);
      expect(metric(train, 'test_auc')).toBeGreaterThan(metric(logistic, 'test_auc')!);
      expect(metric(logistic, 'valid_auc')).toBeGreaterThan(0.5);
      expect(logistic.data.params.find((p) => p.key === 'valid_rows')?.value, 'the same January validation rows').toBe(
        train.data.params.find((p) => p.key === 'valid_rows')?.value,
      );
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
    const r = await runCli(['quickstart', '--exit', ...SLICE], { TRESTLE_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    for (const stage of ['prepare', 'train', 'baseline', 'evaluate', 'register'])
      expect(r.stderr).toContain(`✓ ${stage}: skipped (unchanged)`);
    expect(r.stdout).toContain('Nothing to do: all 5 stages skipped');
    expect(r.stdout).toContain('npx trestle serve models:/flights-delay@champion');
    const [gbdt, logistic] = [first.metrics['test_auc']!, first.metrics['logistic_auc']!].map((v) => v.toFixed(4));
    expect(r.stdout).toMatch(new RegExp(`test AUC\\s+${gbdt}\\s+${logistic}\\s+0\\.5000`));
    const compare = `npx trestle runs compare ${first.trainRunId} ${first.baselineRunId}`;
    expect(r.stdout).toContain(compare);
    const runs = await runCli(['runs', 'list', '--json'], { TRESTLE_HOME: home });
    const ids = (JSON.parse(runs.stdout) as { runs: { info: { runId: string } }[] }).runs.map((x) => x.info.runId);
    expect(ids).toHaveLength(6); // the pipeline run and its 5 stage runs, all from the first run

    // The command it suggests puts the two models side by side.
    const c = await runCli([...compare.split(' ').slice(2), '--json'], { TRESTLE_HOME: home });
    expect(c.code, c.stderr).toBe(0);
    const rows = (JSON.parse(c.stdout) as { rows: { kind: string; key: string; values: unknown[] }[] }).rows;
    const row = (kind: string, key: string): unknown[] | undefined =>
      rows.find((x) => x.kind === kind && x.key === key)?.values;
    expect(row('param', 'model')).toEqual(['gbdt', 'logistic']);
    expect(row('metric', 'test_auc')).toEqual([first.metrics['test_auc'], first.metrics['logistic_auc']]);
  }, 300_000);

  it('refuses an unknown parameter with a usage error naming the keys', async () => {
    const r = await runCli(['quickstart', '--set', 'train.trees=5'], { TRESTLE_HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--set train\.trees: .*params\.yaml has no such key \(it has .*train\.rounds/);
  });
});
