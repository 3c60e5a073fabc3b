import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { startServer, type RunningServer } from '../packages/server/src/index.js';
import { runCli } from './support/cli.js';
import { QUICKSTART_SLICE } from './support/quickstart.js';

/** `TRESTLE_TRACKING_URI` sends the quickstart pipeline's runs and registration through a real server instead of the embedded store. */
describe('quickstart through trestle server', () => {
  let serverHome: string;
  let clientHome: string;
  let server: RunningServer;

  beforeAll(async () => {
    serverHome = await mkdtemp(join(tmpdir(), 'trestle-srv-'));
    clientHome = await mkdtemp(join(tmpdir(), 'trestle-cli-'));
    server = await startServer({
      config: loadConfig({ home: serverHome }, {}),
      port: 0,
      logger: false,
      handleSignals: false,
    });
  });

  afterAll(async () => {
    await server.close();
    await rm(serverHome, { recursive: true, force: true });
    await rm(clientHome, { recursive: true, force: true });
  });

  it('logs the pipeline, its stage runs, the model and the registration to the server', async () => {
    const env = { TRESTLE_HOME: clientHome, TRESTLE_TRACKING_URI: server.url };
    const r = await runCli(['quickstart', '--exit', '--json', ...QUICKSTART_SLICE], env);
    expect(r.code, r.stderr).toBe(0);
    const { runId, trainRunId } = JSON.parse(r.stdout) as { runId: string; trainRunId: string };

    // What the server has, read over its own REST API v1:
    const run = (await (await fetch(`${server.url}/api/v1/runs/${trainRunId}`)).json()) as {
      info: { status: string; experimentId: string };
      data: {
        params: { key: string }[];
        metrics: { key: string; value: number }[];
        tags: { key: string; value: string }[];
      };
      inputs: { datasetInputs: { dataset: { name: string } }[] };
    };
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.params.map((p) => p.key)).toContain('learning_rate');
    expect(run.data.metrics.find((m) => m.key === 'valid_auc')?.value).toBeGreaterThan(0.5);
    expect(run.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value).toBe(runId);
    expect(run.inputs.datasetInputs.map((d) => d.dataset.name)).toContain('flights-train');
    const history = (await (
      await fetch(`${server.url}/api/v1/runs/${trainRunId}/metrics/train_loss/history`)
    ).json()) as {
      items: unknown[];
    };
    expect(history.items.length).toBeGreaterThanOrEqual(10);
    const model = await fetch(`${server.url}/api/v1/runs/${trainRunId}/artifacts/model/model.json`);
    expect(model.status).toBe(200);
    expect(((await model.json()) as { format: string }).format).toBe('trestle.gbdt');
    // The register stage registered it on the server, with the champion alias.
    const champion = await fetch(`${server.url}/api/v1/registered-models/flights-delay/aliases/champion`);
    expect(champion.status).toBe(200);
    expect(await champion.json()).toMatchObject({ version: 1, runId: trainRunId, source: `runs:/${trainRunId}/model` });

    // …and nothing went to the client's embedded store: there is none.
    const local = await runCli(['runs', 'list', '--json'], { TRESTLE_HOME: clientHome });
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('there is no metadata store at');

    // The CLI reads through the server too.
    const shown = await runCli(['runs', 'show', trainRunId.slice(0, 8)], env);
    expect(shown.stdout).toContain('FINISHED');
  }, 300_000);
});
