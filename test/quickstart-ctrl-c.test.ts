import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { openStores } from '../packages/store/src/index.js';

const root = join(import.meta.dirname, '..');

describe('Ctrl-C during the quickstart', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('ends the run KILLED, with the loss logged so far, and the process dies of SIGINT', async () => {
    const home = await mkdtemp(join(tmpdir(), 'trestle-ctrl-c-'));
    dirs.push(home);
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', 'quickstart', '--exit'], {
      cwd: root,
      env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' },
    });
    let stderr = '';
    let runId: string | undefined;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
      const m = /Training \(run ([0-9a-f]{32})/.exec(stderr);
      if (m !== null && runId === undefined) {
        runId = m[1];
        child.kill('SIGINT');
      }
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    expect(runId, stderr).toBeDefined();
    expect(signal, stderr).toBe('SIGINT');
    expect(code).toBeNull();
    expect(stderr).toContain(`run ${runId!} ended KILLED`);
    const { metadata, artifacts } = await openStores(loadConfig({ home }, {}));
    try {
      const run = await metadata.getRun(runId!);
      expect(run.info.status).toBe('KILLED');
      expect(run.info.endTime).not.toBeNull();
      // Every iteration's loss that was logged before the signal was handled is there.
      const loss = await metadata.getMetricHistory(runId!, 'train_loss', { maxResults: 1000 });
      expect(loss.items.length).toBeGreaterThan(5);
    } finally {
      await metadata.close();
      await artifacts.close();
    }
  }, 120_000);
});
