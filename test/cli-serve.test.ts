import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelsAvailable, writeTestPackage } from '../packages/serving/src/testing/model-package.js';
import { runCli } from './support/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let home: string;

const available = await modelsAvailable();
if (!available)
  console.warn('skipping the trestle serve runs: @trestle/models (the model loader) is not in this tree yet');

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'trestle-serve-'));
  dir = available ? await writeTestPackage() : join(home, 'model');
}, 60_000);

describe('trestle serve', () => {
  it('refuses bad usage with exit 2 and a missing model with exit 1, in one line', async () => {
    const env = { TRESTLE_HOME: home };
    const none = await runCli(['serve'], env);
    expect(none.code).toBe(2);
    const canary = await runCli(['serve', dir, '--canary', '10'], env);
    expect(canary.code).toBe(2);
    expect(canary.stderr).toMatch(/--canary and --shadow need --challenger/);
    const port = await runCli(['serve', dir, '--port', 'http'], env);
    expect(port.code).toBe(2);
    const shadow = await runCli(['serve', dir, '--challenger', dir], env);
    expect(shadow.code).toBe(2);
    expect(shadow.stderr).toMatch(/--challenger needs --canary PERCENT or --shadow/);
  });

  it.skipIf(!available)('a missing model is exit 1 with one readable line', async () => {
    const missing = await runCli(['serve', join(home, 'nope'), '--port', '0'], { TRESTLE_HOME: home });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n').at(-1)).toMatch(/no model at .*nope/);
  });

  it.skipIf(!available)(
    'serves a package over HTTP and drains on SIGTERM (in-flight requests finish, exit 0)',
    async () => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(root, 'packages/cli/src/main.ts'),
          'serve',
          dir,
          '--port',
          '0',
          '--json',
          '--max-wait',
          '200',
        ],
        {
          env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const deadline = Date.now() + 60_000;
      while (!stdout.includes('}') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      const info = JSON.parse(stdout) as { url: string; model: string; version: string; logging: string | null };
      expect(info.model).toBe('flights-model');
      expect(info.logging).toBeNull();
      const row = { distance: 1200, hour: 18, origin: 'ORD' };
      const ok = await fetch(info.url + '/predict', { method: 'POST', body: JSON.stringify(row) });
      expect(ok.status).toBe(200);
      // --max-wait 200 holds these in the batcher while SIGTERM arrives: they must still be answered.
      const inflight = Array.from({ length: 3 }, () =>
        fetch(info.url + '/predict', { method: 'POST', body: JSON.stringify(row) }).then((r) => r.status),
      );
      await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      expect(await Promise.all(inflight)).toEqual([200, 200, 200]);
      expect(await exited, stderr).toBe(0);
    },
    90_000,
  );
});
