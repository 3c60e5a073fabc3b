import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { startServer, type RunningServer } from '../packages/server/src/index.js';
import { openStores, type Stores } from '../packages/store/src/index.js';
import { Trestle } from '../packages/client/src/index.js';
import { runCli } from './support/cli.js';

/** `trestle runs metrics` and `trestle artifacts list|download`, embedded and over HTTP. */
describe('runs metrics and artifacts commands', () => {
  let dir: string;
  let serverStores: Stores;
  let server: RunningServer;
  const runs: Record<string, string> = {};
  const envs: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trestle-cli-metrics-'));
    const config = loadConfig({ home: join(dir, 'server') }, {});
    serverStores = await openStores(config);
    server = await startServer({ config, stores: serverStores, port: 0, logger: false, handleSignals: false });
    envs['embedded'] = { TRESTLE_HOME: join(dir, 'embedded') };
    envs['http'] = { TRESTLE_TRACKING_URI: server.url, TRESTLE_HOME: join(dir, 'unused') };
    for (const [name, env] of Object.entries(envs)) {
      const trestle = await Trestle.connect({ config: loadConfig({}, env) });
      const run = await trestle.startRun({ experiment: 'cli-metrics' });
      for (let step = 0; step < 500; step++) void run.logMetric('loss', 1 / (step + 1), step);
      await run.logMetrics({ auc: 0.7 }, 499);
      await run.logText('model/model.json', '{"weights":[1,2,3]}');
      await run.logText('report.txt', 'all good\n');
      await run.end();
      await trestle.close();
      runs[name] = run.id;
    }
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await serverStores?.metadata.close();
    await serverStores?.artifacts.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const backend of ['embedded', 'http'] as const) {
    it(`${backend}: runs metrics lists every metric with a sparkline, and one metric's history`, async () => {
      const env = envs[backend]!;
      const runId = runs[backend]!;
      const all = await runCli(['runs', 'metrics', runId.slice(0, 8)], env);
      expect(all.code, all.stderr).toBe(0);
      // The loss falls from 1 to 0.002: its sparkline starts above the bottom bar and ends on it.
      expect(all.stdout).toMatch(/loss\s+0\.002\s+499\s+0\.002\s+1\s+[▂-█][▁-█]*▁$/m);
      expect(all.stdout).toMatch(/auc\s+0\.7\s+499/);
      const one = await runCli(['runs', 'metrics', runId, 'loss', '--tail', '3'], env);
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toContain('500 points, min 0.002, max 1, last 0.002');
      expect(one.stdout).toMatch(/^499\s+0\.002\s/m);
      expect(one.stdout).not.toMatch(/^496\s/m);
      const json = JSON.parse((await runCli(['runs', 'metrics', runId, 'loss', '--json'], env)).stdout) as {
        points: { step: number; value: number }[];
      };
      expect(json.points).toHaveLength(500);
      expect(json.points[10]).toMatchObject({ step: 10, value: 1 / 11 });
      const missing = await runCli(['runs', 'metrics', runId, 'nope'], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("has no metric 'nope' (its metrics: auc, loss)");
    });

    it(`${backend}: artifacts list and download (a file, a folder, everything)`, async () => {
      const env = envs[backend]!;
      const runId = runs[backend]!;
      const listed = JSON.parse((await runCli(['artifacts', 'list', runId, '--json'], env)).stdout) as {
        artifacts: { path: string; size: number }[];
      };
      expect(listed.artifacts).toEqual([
        { path: 'model/model.json', size: 19 },
        { path: 'report.txt', size: 9 },
      ]);
      const out = join(dir, `dl-${backend}`);
      const file = await runCli(['artifacts', 'download', runId, 'report.txt', '--out', out], env);
      expect(file.code, file.stderr).toBe(0);
      expect(await readFile(join(out, 'report.txt'), 'utf8')).toBe('all good\n');
      const folder = await runCli(['artifacts', 'download', runId, 'model', '-o', join(out, 'f')], env);
      expect(folder.code, folder.stderr).toBe(0);
      expect(await readFile(join(out, 'f', 'model', 'model.json'), 'utf8')).toBe('{"weights":[1,2,3]}');
      const everything = JSON.parse(
        (await runCli(['artifacts', 'download', runId, '-o', join(out, 'all'), '--json'], env)).stdout,
      ) as { files: unknown[]; bytes: number };
      expect(everything).toMatchObject({ bytes: 28 });
      expect(everything.files).toHaveLength(2);
      const missing = await runCli(['artifacts', 'download', runId, 'nope.txt', '-o', out], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("the run has no artifact 'nope.txt'");
    });
  }
});
