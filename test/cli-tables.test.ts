import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { Trestle } from '../packages/client/src/index.js';
import { runCli } from './support/cli.js';

/** What the runs tables print: names, markers, differences as printed, usage errors. */
describe('runs tables', () => {
  let dir: string;
  let env: Record<string, string>;
  const ids: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trestle-cli-tables-'));
    env = { TRESTLE_HOME: dir };
    const trestle = await Trestle.connect({ config: loadConfig({}, env) });
    const specs = [
      { name: 'GBDT-Big', auc: 0.58401, l2: '1' },
      { name: 'gbdt-small', auc: 0.58399, l2: '2' },
      { name: 'doomed', auc: 0.5, l2: '1' },
    ];
    for (const spec of specs) {
      const run = await trestle.startRun({ experiment: 'Churn Models', name: spec.name, params: { l2: spec.l2 } });
      await run.logMetrics({ auc: spec.auc });
      await run.end();
      ids.push(run.id);
    }
    await trestle.close();
    expect((await runCli(['runs', 'delete', ids[2]!], env)).code).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs list names the experiment and, with --all, marks deleted runs', async () => {
    const list = await runCli(['runs', 'list'], env);
    expect(list.stdout).toMatch(new RegExp(`${ids[0]!}\\s+GBDT-Big\\s+Churn Models\\s+FINISHED\\s`));
    expect(list.stdout).not.toContain('doomed');
    const all = await runCli(['runs', 'list', '--all'], env);
    expect(all.stdout).toMatch(new RegExp(`${ids[2]!}\\s+doomed\\s+Churn Models\\s+FINISHED \\(deleted\\)`));
    expect(all.stdout).toMatch(new RegExp(`${ids[0]!}\\s+GBDT-Big\\s+Churn Models\\s+FINISHED\\s`));
  });

  it('compare keeps run names as they are, de-duplicates ids and flags only what differs as printed', async () => {
    const r = await runCli(['runs', 'compare', ids[0]!, ids[1]!, ids[0]!.slice(0, 6)], env);
    expect(r.code, r.stderr).toBe(0);
    const header = r.stdout.split('\n')[0]!;
    expect(header).toContain(`GBDT-Big (${ids[0]!.slice(0, 8)})`);
    expect(header).toContain(`gbdt-small (${ids[1]!.slice(0, 8)})`);
    expect(header.match(/GBDT-Big/g)).toHaveLength(1);
    // 0.58401 and 0.58399 both print as 0.584: not flagged.
    expect(r.stdout).toMatch(/^\s+metrics\.auc\s+0\.584\s+0\.584$/m);
    expect(r.stdout).toMatch(/^\*\s+params\.l2\s+1\s+2$/m);
    const same = await runCli(['runs', 'compare', ids[0]!, ids[0]!], env);
    expect(same.code).toBe(2);
  });

  it('restore reports only what was deleted', async () => {
    const r = await runCli(['runs', 'restore', ids[0]!, ids[2]!, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ restored: [ids[2]!], unchanged: [ids[0]!] });
    const human = await runCli(['runs', 'restore', ids[2]!], env);
    expect(human.stdout.trim()).toBe(`Run ${ids[2]!} was not deleted; left as it is`);
  });

  it('bad filter or order-by syntax is a usage error (exit 2) with one line naming the position', async () => {
    const bad = await runCli(['runs', 'search', '--filter', 'metrics.auc >> 0.5'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/position/);
    const order = await runCli(['runs', 'search', '--order-by', 'metrics.auc SIDEWAYS'], env);
    expect(order.code).toBe(2);
  });
});
