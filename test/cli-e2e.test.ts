import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { QUICKSTART_SLICE } from './support/quickstart.js';

/**
 * The first end-to-end run: `trestle quickstart` runs the flights pipeline (on a slice) and
 * logs to a fresh embedded store; the CLI then finds, shows, searches and compares the
 * training run it logged.
 */
describe('trestle quickstart and the runs/experiments commands', () => {
  let home: string;
  let env: Record<string, string>;
  let runId: string;
  let secondRunId: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-cli-'));
    env = { TRESTLE_HOME: home };
    const r = await runCli(['quickstart', '--exit', '--json', ...QUICKSTART_SLICE], env);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      trainRunId: string;
      stages: { state: string }[];
      metrics: Record<string, number>;
      rows: { read: number; train: number; test: number };
    };
    expect(summary.stages.map((s) => s.state)).toEqual(['ran', 'ran', 'ran', 'ran', 'ran']);
    // The baseline answers "on time" for every flight: its AUC is ½ and its accuracy the on-time share.
    expect(summary.metrics['baseline_auc']).toBe(0.5);
    expect(summary.metrics['baseline_accuracy']).toBeGreaterThan(0.8);
    expect(summary.metrics['test_auc']).toBeGreaterThan(summary.metrics['baseline_auc']!);
    expect(summary.rows).toEqual({ read: 2_999_994, train: 5000, test: 5000 });
    runId = summary.trainRunId;
  }, 300_000);

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('runs show displays the finished training run by id prefix: params, metrics, datasets, artifacts', async () => {
    const r = await runCli(['runs', 'show', runId.slice(0, 6)], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Run ${runId}`);
    expect(r.stdout).toContain('FINISHED');
    expect(r.stdout).toMatch(/valid_auc\s+0\.\d+/);
    expect(r.stdout).toMatch(/max_leaves\s+7/);
    expect(r.stdout).toMatch(/flights-train\s+\w+\s+training/);
    expect(r.stdout).toMatch(/model\/trestle-model\.json\s+\d+/);
    expect(r.stdout).toMatch(/model\/model\.onnx\s+\d+/);
  });

  it('runs show --json carries the per-round loss', async () => {
    const r = await runCli(['runs', 'show', runId, '--json'], env);
    const { run } = JSON.parse(r.stdout) as { run: { data: { metrics: { key: string; step: number }[] } } };
    const loss = run.data.metrics.find((m) => m.key === 'train_loss');
    expect(loss?.step).toBeGreaterThan(5);
  });

  it('runs list and search find it; a bad filter is one readable line with exit 2 (a usage error)', async () => {
    const list = await runCli(['runs', 'list', '--json'], env);
    expect(
      (JSON.parse(list.stdout) as { runs: { info: { runId: string } }[] }).runs.map((x) => x.info.runId),
    ).toContain(runId);
    const hit = await runCli(
      ['runs', 'search', '--filter', "metrics.valid_auc > 0.5 AND params.model = 'gbdt'", '--json'],
      env,
    );
    expect((JSON.parse(hit.stdout) as { runs: unknown[] }).runs).toHaveLength(1);
    const miss = await runCli(
      ['runs', 'search', '--filter', "metrics.valid_auc > 0.99 OR tags.task = 'regression'", '--json'],
      env,
    );
    expect((JSON.parse(miss.stdout) as { runs: unknown[] }).runs).toHaveLength(0);
    const bad = await runCli(['runs', 'search', '--filter', 'metrics.test_auc LIKE 1'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/LIKE/);
  });

  it('the README search examples each find the quickstart training run', async () => {
    const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const examples = readme.split('\n').filter((l) => l.startsWith('trestle runs search '));
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const line of examples) {
      const args = [...line.matchAll(/(--[\w-]+) "([^"]*)"/g)].flatMap((m) => [m[1]!, m[2]!]);
      const r = await runCli(['runs', 'search', ...args, '--json'], env);
      expect(r.code, `${line}: ${r.stderr}`).toBe(0);
      const ids = (JSON.parse(r.stdout) as { runs: { info: { runId: string } }[] }).runs.map((x) => x.info.runId);
      expect(ids, line).toContain(runId);
    }
  });

  it('the quickstart says what it reads and predicts, reruns what a change touches, with the baseline beside the model', async () => {
    const second = await runCli(['quickstart', '--exit', ...QUICKSTART_SLICE, '--set', 'train.rounds=20'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('✓ prepare: skipped (unchanged)');
    expect(second.stderr).toMatch(/✓ train: ran \(a dependency or parameter changed/);
    expect(second.stdout).toContain('does a flight arrive more than 15 minutes late?');
    expect(second.stdout).toContain('tested on the 5,000 flights after them (2001-02-01 to 2001-02-07');
    expect(second.stdout).toContain('GBDT     logistic regression   always "on time"');
    expect(second.stdout).toMatch(/test AUC\s+0\.\d{4}\s+0\.\d{4}\s+0\.5000/);
    // Only the GBDT's parameter changed: the logistic regression beside it is not retrained.
    expect(second.stderr).toContain('✓ baseline: skipped (unchanged)');
    expect(second.stdout).toMatch(/registered\s+flights-delay version 2 \(@champion\)/);
    secondRunId = /from runs:\/([0-9a-f]{32})\/model/.exec(second.stdout)![1]!;
  }, 300_000);

  it('runs compare marks differing params and metrics', async () => {
    const r = await runCli(['runs', 'compare', runId, secondRunId], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\*\s+params\.rounds\s+30\s+20/);
    expect(r.stdout).toMatch(/\s+params\.max_leaves\s+7\s+7/);
  }, 120_000);

  it('experiments create, rename, list, delete and restore', async () => {
    expect((await runCli(['experiments', 'create', 'churn', '--tag', 'team=growth'], env)).code).toBe(0);
    const dup = await runCli(['experiments', 'create', 'churn'], env);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/i);
    expect((await runCli(['experiments', 'rename', 'churn', 'churn-v2'], env)).code).toBe(0);
    const listed = await runCli(['experiments', 'list', '--json'], env);
    const names = (JSON.parse(listed.stdout) as { experiments: { name: string }[] }).experiments.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['churn-v2', 'quickstart-flights', 'Default']));
    expect((await runCli(['experiments', 'delete', 'churn-v2'], env)).code).toBe(0);
    const active = await runCli(['experiments', 'list', '--json'], env);
    expect(active.stdout).not.toContain('churn-v2');
    expect((await runCli(['experiments', 'restore', 'churn-v2'], env)).code).toBe(0);
    expect((await runCli(['experiments', 'list'], env)).stdout).toContain('churn-v2');
  });

  it('runs delete hides a run from list and restore brings it back', async () => {
    expect((await runCli(['runs', 'delete', runId], env)).code).toBe(0);
    expect((await runCli(['runs', 'list', '--json'], env)).stdout).not.toContain(runId);
    expect((await runCli(['runs', 'restore', runId.slice(0, 8)], env)).code).toBe(0);
    expect((await runCli(['runs', 'list', '--json'], env)).stdout).toContain(runId);
  });

  it('db upgrade reports an up-to-date schema; a missing run is exit 1', async () => {
    const up = await runCli(['db', 'upgrade', '--json'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toEqual({ applied: [] });
    const missing = await runCli(['runs', 'show', 'ffffffffffffffffffffffffffffffff'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist|not found/i);
  });
});
