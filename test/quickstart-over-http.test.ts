import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { startServer, type RunningServer } from '../packages/server/src/index.js';
import { runCli } from './support/cli.js';

/** `TRESTLE_TRACKING_URI` sends the quickstart's run through a real server instead of the embedded store. */
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

  it('logs params, loss history, metrics, inputs and the model to the server', async () => {
    const env = { TRESTLE_HOME: clientHome, TRESTLE_TRACKING_URI: server.url };
    const r = await runCli(['quickstart', '--exit', '--json', '--max-iterations', '20'], env);
    expect(r.code, r.stderr).toBe(0);
    const { runId } = JSON.parse(r.stdout) as { runId: string };

    // What the server has, read over its own REST API v1:
    const run = (await (await fetch(`${server.url}/api/v1/runs/${runId}`)).json()) as {
      info: { status: string; experimentId: string };
      data: { params: { key: string }[]; metrics: { key: string; value: number }[] };
      inputs: { datasetInputs: unknown[] };
    };
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.params.map((p) => p.key)).toContain('l2');
    expect(run.data.metrics.find((m) => m.key === 'test_auc')?.value).toBeGreaterThan(0.55);
    expect(run.inputs.datasetInputs).toHaveLength(2);
    const history = (await (await fetch(`${server.url}/api/v1/runs/${runId}/metrics/train_loss/history`)).json()) as {
      items: unknown[];
    };
    expect(history.items.length).toBeGreaterThanOrEqual(10);
    const model = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts/model/model.json`);
    expect(model.status).toBe(200);
    expect(((await model.json()) as { format: string }).format).toBe('trestle.logistic-regression');

    // …and nothing went to the client's embedded store: there is none.
    const local = await runCli(['runs', 'list', '--json'], { TRESTLE_HOME: clientHome });
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('there is no metadata store at');

    // The CLI reads through the server too.
    const shown = await runCli(['runs', 'show', runId.slice(0, 8)], env);
    expect(shown.stdout).toContain('FINISHED');
  }, 120_000);
});
