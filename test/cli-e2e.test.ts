import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

/**
 * The first end-to-end run: `trestle quickstart` trains on the real flights data and logs to a
 * fresh embedded store; the CLI then finds, shows, searches and compares what it logged.
 */
describe('trestle quickstart and the runs/experiments commands', () => {
  let home: string;
  let env: Record<string, string>;
  let runId: string;
  let secondRunId: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-cli-'));
    env = { TRESTLE_HOME: home };
    const r = await runCli(['quickstart', '--exit', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      runId: string;
      status: string;
      metrics: Record<string, number>;
      baseline: Record<string, number>;
      task: { label: string; positiveRate: { train: number; test: number } };
      rows: { read: number; train: number; test: number };
    };
    expect(summary.status).toBe('FINISHED');
    expect(summary.metrics['test_auc']).toBeGreaterThan(0.55);
    // The baseline answers "on time" for every flight: its accuracy is the on-time share, its AUC ½.
    expect(summary.task.label).toBe('arrival delay > 15 min');
    expect(summary.baseline['test_auc']).toBe(0.5);
    expect(summary.baseline['test_accuracy']).toBeCloseTo(1 - summary.task.positiveRate.test, 12);
    expect(summary.metrics['test_auc']).toBeGreaterThan(summary.baseline['test_auc']!);
    expect(summary.metrics['test_log_loss']).toBeLessThan(summary.baseline['test_log_loss']!);
    expect(summary.rows).toEqual({ read: 622_708, train: 508_239, test: 114_469 });
    runId = summary.runId;
  }, 120_000);

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('runs show displays the finished run by id prefix: params, metrics, datasets, artifacts', async () => {
    const r = await runCli(['runs', 'show', runId.slice(0, 6)], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Run ${runId}`);
    expect(r.stdout).toContain('FINISHED');
    expect(r.stdout).toMatch(/test_auc\s+0\.\d+/);
    expect(r.stdout).toMatch(/l2\s+0\.0001/);
    expect(r.stdout).toMatch(/flights-2001-01\s+\w+\s+training/);
    expect(r.stdout).toMatch(/flights-2001-02-w1\s+\w+\s+evaluation/);
    expect(r.stdout).toMatch(/model\/encoder\.json\s+\d+/);
    expect(r.stdout).toMatch(/model\/model\.json\s+\d+/);
  });

  it('runs show --json carries the per-iteration loss and the model artifact', async () => {
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
      ['runs', 'search', '--filter', "metrics.test_auc > 0.55 AND params.optimizer = 'L-BFGS'", '--json'],
      env,
    );
    expect((JSON.parse(hit.stdout) as { runs: unknown[] }).runs).toHaveLength(1);
    const miss = await runCli(
      ['runs', 'search', '--filter', "metrics.test_auc > 0.99 OR tags.task = 'regression'", '--json'],
      env,
    );
    expect((JSON.parse(miss.stdout) as { runs: unknown[] }).runs).toHaveLength(0);
    const bad = await runCli(['runs', 'search', '--filter', 'metrics.test_auc LIKE 1'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/LIKE/);
  });

  it('the README search examples each find the quickstart run', async () => {
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

  it('the quickstart says what it reads and predicts, with the baseline beside the model', async () => {
    const second = await runCli(['quickstart', '--exit', '--l2', '0.01', '--max-iterations', '5'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('flights departing 2001-01-01 to 2001-02-07');
    expect(second.stderr).toContain('622,708 flights read');
    expect(second.stderr).toContain('arrives more than 15 minutes late (arrival delay > 15 min)');
    expect(second.stdout).toContain('baseline: always "on time"');
    expect(second.stdout).toMatch(/test AUC\s+0\.\d{4}\s+0\.5000/);
    const other = /Run ([0-9a-f]{32}) FINISHED/.exec(second.stdout)![1]!;
    secondRunId = other;
  }, 120_000);

  it('runs compare marks differing params and metrics', async () => {
    const other = secondRunId;
    const r = await runCli(['runs', 'compare', runId, other], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\*\s+params\.l2\s+0\.0001\s+0\.01/);
    expect(r.stdout).toMatch(/\s+params\.optimizer\s+L-BFGS\s+L-BFGS/);
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
