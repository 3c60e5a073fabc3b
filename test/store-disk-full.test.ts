import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, rmdirSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { startServer } from '@trestle/server';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * A real full disk: the store lives on a 2 MB tmpfs that a filler file then fills. Mounting
 * needs root (CI runs as root); elsewhere the test is skipped and says why.
 */
const mountPoint = mkdtempSync(join(tmpdir(), 'trestle-fulldisk-'));
let mountError: string | undefined;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
} catch (err) {
  mountError = String((err as { stderr?: Buffer }).stderr ?? err).trim();
  console.warn(`skipping the full-disk tests: cannot mount a small tmpfs here (${mountError})`);
}

/** Fills the file system with one file; returns its path. */
function fill(dir: string): string {
  const file = join(dir, 'filler.bin');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full.
  } finally {
    closeSync(fd);
  }
  return file;
}

describe.skipIf(mountError !== undefined)('the metadata store on a full disk', () => {
  afterAll(() => {
    try {
      execFileSync('umount', [mountPoint]);
      rmdirSync(mountPoint);
    } catch {
      // Already gone.
    }
  });

  it('answers 507 STORAGE_FULL with a message, /ready says it cannot write, and recovers once space is freed', async () => {
    const home = join(mountPoint, 'home');
    const server = await startServer({
      config: loadConfig({ home }, {}),
      port: 0,
      logger: false,
      handleSignals: false,
    });
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${server.url}/api/v1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    try {
      const run = (await (await post('/runs', { experimentId: '0' })).json()) as { info: { runId: string } };
      const batch = (step: number) => ({
        metrics: Array.from({ length: 1000 }, (_, i) => ({
          key: `m${i % 20}`,
          value: Math.random(),
          timestamp: Date.now(),
          step: step * 1000 + i,
        })),
      });
      const filler = fill(mountPoint);
      let res: Response | undefined;
      for (let step = 0; step < 200; step++) {
        res = await post(`/runs/${run.info.runId}/batch`, batch(step));
        if (res.status !== 204) break;
      }
      expect(res?.status).toBe(507);
      const { error } = (await res!.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('STORAGE_FULL');
      expect(error.message).toContain(`the metadata store '${join(home, 'trestle.db')}' cannot write`);
      expect(error.message).toContain('free space on its disk');

      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { message: string }).message).toContain('cannot write');

      rmSync(filler);
      expect((await post(`/runs/${run.info.runId}/batch`, batch(999))).status).toBe(204);
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    } finally {
      await server.close();
    }
  }, 60_000);
});
