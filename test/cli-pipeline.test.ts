import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { openStores } from '../packages/store/src/index.js';
import { runCli } from './support/cli.js';

const repoRoot = join(import.meta.dirname, '..');
const tsx = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/esm/index.mjs')).href;

/** `trestle run` and `trestle dag` end to end, in a fresh workspace with the embedded store. */
describe('trestle run', () => {
  let ws: string;
  const cwd = process.cwd();
  const cli = async (...args: string[]) => runCli(args, {});

  beforeAll(async () => {
    ws = await mkdtemp(join(tmpdir(), 'trestle-cli-pipeline-'));
    mkdirSync(join(ws, '.trestle'));
    mkdirSync(join(ws, 'data'));
    writeFileSync(join(ws, 'data/raw.csv'), 'x,y\n1,2\n3,4\n5,6\n');
    writeFileSync(join(ws, 'params.yaml'), 'train:\n  lr: 0.5\n  epochs: 3\n');
    // A training script that logs with the Trestle SDK: it must land in its stage's run.
    writeFileSync(
      join(ws, 'train.mts'),
      `import { writeFileSync } from 'node:fs';
import { Trestle } from ${JSON.stringify(join(repoRoot, 'packages/client/src/index.ts'))};
const trestle = await Trestle.connect();
const run = await trestle.startRun();
for (let step = 0; step < 3; step++) await run.logMetric('loss', 1 / (step + 1), step);
await run.flush();
writeFileSync('model.txt', 'model for ' + process.env.TRESTLE_STAGE);
writeFileSync('metrics.json', JSON.stringify({ auc: 0.62, rows: 3 }));
await trestle.close();
`,
    );
    writeFileSync(
      join(ws, 'dvc.yaml'),
      `stages:
  prepare:
    cmd: tail -n +2 data/raw.csv > prepared.csv
    deps:
      - data/raw.csv
    outs:
      - prepared.csv
  train:
    cmd: node --import ${tsx} train.mts
    deps:
      - prepared.csv
      - train.mts
    params:
      - train.lr
    outs:
      - model.txt
    metrics:
      - metrics.json:
          cache: false
`,
    );
    process.chdir(ws);
  });

  afterAll(async () => {
    process.chdir(cwd);
    await rm(ws, { recursive: true, force: true });
  });

  it('runs a dvc.yaml with -f, tracks a pipeline run with a child run per stage, and the SDK logs into its stage run', async () => {
    const r = await cli('run', '-f', 'dvc.yaml', '--json', '-q');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; runId: string; results: { stage: string; state: string }[] };
    expect(out.results.map((s) => [s.stage, s.state])).toEqual([
      ['prepare', 'ran'],
      ['train', 'ran'],
    ]);
    const { metadata, artifacts } = await openStores(loadConfig({}, { TRESTLE_HOME: join(ws, '.trestle') }));
    try {
      const parent = await metadata.getRun(out.runId);
      expect(parent.info.status).toBe('FINISHED');
      const children = (
        await metadata.searchRuns({
          experimentIds: [parent.info.experimentId],
          filter: `tags.mlflow.parentRunId = '${out.runId}'`,
          maxResults: 10,
        })
      ).items;
      const train = children.find((c) => c.info.runName === 'train')!;
      expect(train.info.status).toBe('FINISHED');
      expect(train.data.params).toContainEqual({ key: 'train.lr', value: '0.5' });
      const metrics = Object.fromEntries(train.data.metrics.map((m) => [m.key, m.value]));
      expect(metrics).toMatchObject({ loss: 1 / 3, auc: 0.62, rows: 3 });
      expect(train.inputs.datasetInputs.map((d) => d.dataset.name).sort()).toEqual(['prepared.csv', 'train.mts']);
      const files = await artifacts.list(`${train.info.experimentId}/${train.info.runId}/artifacts`);
      expect(files.map((f) => f.path.split('/').pop()).sort()).toEqual(['metrics.json', 'model.txt']);
    } finally {
      await metadata.close();
      await artifacts.close();
    }
    const again = await cli('run', '-f', 'dvc.yaml');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 ran, 2 skipped \(unchanged\)/);
    // A run in which nothing runs records nothing, so it never opens the store (which is most
    // of its start-up): even an unusable one. A stage that runs needs it, and says so.
    const broken = { TRESTLE_HOME: join(ws, '.trestle'), TRESTLE_DB: join(ws, 'no-such-folder', 'trestle.db') };
    const skipped = await runCli(['run', '-f', 'dvc.yaml'], broken);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toMatch(/0 ran, 2 skipped \(unchanged\)/);
    const forced = await runCli(['run', '-f', 'dvc.yaml', '--force', 'prepare', '--no-deps'], broken);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/cannot use the SQLite metadata store .*no-such-folder/);
  });

  it('dag prints the graph; a failing stage exits 1 naming the stage, its log tail and how to retry', async () => {
    const d = await cli('dag', '-f', 'dvc.yaml', '--json');
    expect(JSON.parse(d.stdout)).toMatchObject({
      stages: [
        { name: 'prepare', after: [] },
        { name: 'train', after: ['prepare'] },
      ],
    });
    writeFileSync(join(ws, 'trestle.yaml'), 'stages:\n  broken:\n    cmd: echo "disk on fire" >&2; exit 4\n');
    const r = await cli('run', '--no-track');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\| disk on fire/);
    expect(r.stderr).toMatch(
      /stage 'broken' failed: 'echo "disk on fire" >&2; exit 4' exited with code 4 \(log: \.trestle\/logs\/broken\.log\).*retry: trestle run broken/,
    );
    writeFileSync(join(ws, 'trestle.yaml'), 'stages:\n  a:\n    cmd: echo\n    deps: [missing.csv]\n');
    const invalid = await cli('run');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(
      /trestle.yaml: stage 'a' depends on 'missing.csv', which no stage produces and which does not exist/,
    );
  });

  it("a stage stopped by SIGINT keeps the KILLED its own process's SDK gave its run: the pipeline does not overwrite it with FAILED", async () => {
    // What Ctrl-C does to a stage: its SDK ends the run KILLED and the process dies of the signal.
    writeFileSync(
      join(ws, 'stopped.mts'),
      `import { Trestle } from ${JSON.stringify(join(repoRoot, 'packages/client/src/index.ts'))};
const trestle = await Trestle.connect();
await trestle.startRun();
setTimeout(() => undefined, 30_000);
process.kill(process.pid, 'SIGINT');
`,
    );
    writeFileSync(join(ws, 'trestle.yaml'), `stages:\n  stopped:\n    cmd: node --import ${tsx} stopped.mts\n`);
    const r = await cli('run', '--json', '-q');
    expect(r.code, r.stderr).toBe(1);
    // The summary, then the error as JSON.
    const [summary, error] = r.stdout.trim().split('\n{"error"');
    expect(error).toContain("stage 'stopped' failed");
    const out = JSON.parse(summary!) as { runId: string; results: { stage: string; state: string }[] };
    expect(out.results.map((s) => [s.stage, s.state])).toEqual([['stopped', 'failed']]);
    const { metadata, artifacts } = await openStores(loadConfig({}, { TRESTLE_HOME: join(ws, '.trestle') }));
    try {
      const parent = await metadata.getRun(out.runId);
      expect(parent.info.status).toBe('FAILED');
      const [stage] = (
        await metadata.searchRuns({
          experimentIds: [parent.info.experimentId],
          filter: `tags.mlflow.parentRunId = '${out.runId}'`,
          maxResults: 10,
        })
      ).items;
      expect(stage?.info.runName).toBe('stopped');
      expect(stage?.info.status).toBe('KILLED');
      expect(stage?.info.endTime).not.toBeNull();
    } finally {
      await metadata.close();
      await artifacts.close();
    }
  });
});
