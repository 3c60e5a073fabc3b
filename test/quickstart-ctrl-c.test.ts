import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { openStores } from '../packages/store/src/index.js';
import { QUICKSTART_SLICE } from './support/quickstart.js';

const root = join(import.meta.dirname, '..');

describe('Ctrl-C during the quickstart', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('ends the stage run and the pipeline run KILLED, stops the stage, and the process dies of SIGINT', async () => {
    const home = await mkdtemp(join(tmpdir(), 'trestle-ctrl-c-'));
    dirs.push(home);
    // Its own process group, signalled as a whole: what a terminal does on Ctrl-C.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'packages/cli/src/main.ts', 'quickstart', '--exit', ...QUICKSTART_SLICE, '--rows', '20000'],
      { cwd: root, env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' }, detached: true },
    );
    let stderr = '';
    let runId: string | undefined;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
      const m = /Training GBDT \(run ([0-9a-f]{32})/.exec(stderr);
      if (m !== null && runId === undefined) {
        runId = m[1];
        process.kill(-child.pid!, 'SIGINT');
      }
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    expect(runId, stderr).toBeDefined();
    expect(signal, stderr).toBe('SIGINT');
    expect(code).toBeNull();
    const { metadata, artifacts } = await openStores(loadConfig({ home }, {}));
    try {
      // The stage process may still be finishing its training step: wait for it to stop.
      let run = await metadata.getRun(runId!);
      for (let i = 0; i < 100 && existsSync(join(home, 'quickstart', 'model')); i++) await sleep(100);
      run = await metadata.getRun(runId!);
      expect(run.info.status).toBe('KILLED');
      expect(run.info.endTime).not.toBeNull();
      const parentId = run.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value;
      expect((await metadata.getRun(parentId!)).info.status).toBe('KILLED');
      // The stage stopped: it wrote no model, so the next run trains again.
      await sleep(3000);
      expect(existsSync(join(home, 'quickstart', 'model', 'trestle-model.json'))).toBe(false);
      expect((await metadata.getRun(runId!)).info.status).toBe('KILLED');
    } finally {
      await metadata.close();
      await artifacts.close();
    }
  }, 300_000);

  it('Ctrl-C while the demo serves (twice, as npm start under a terminal gets it) stops the server and the model server', async () => {
    const home = await mkdtemp(join(tmpdir(), 'trestle-ctrl-c-demo-'));
    dirs.push(home);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'packages/cli/src/main.ts', 'quickstart', ...QUICKSTART_SLICE],
      {
        cwd: root,
        env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' },
        detached: true,
      },
    );
    let stderr = '';
    let stdout = '';
    let signalled = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
      if (!signalled && stderr.includes('Press Ctrl-C to stop both')) {
        signalled = true;
        process.kill(-child.pid!, 'SIGINT');
        setTimeout(() => process.kill(-child.pid!, 'SIGINT'), 20);
      }
    });
    const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    expect(signalled, stderr).toBe(true);
    expect(stderr).toContain('Stopped.');
    expect(code, stderr).toBe(0);
    // Both children are gone: their ports refuse connections.
    const urls = [/server\s+(http:\/\/127\.0\.0\.1:\d+)/, /predict\s+curl -s (http:\/\/127\.0\.0\.1:\d+)/].map(
      (re) => re.exec(stdout)?.[1],
    );
    for (const url of urls) {
      expect(url, stdout).toBeDefined();
      await expect(fetch(`${url!}/health`)).rejects.toThrow();
    }
  }, 300_000);
});
