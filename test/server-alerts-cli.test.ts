import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { receiver, seed } from './support/monitoring-seed.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `trestle server --alerts FILE`: the window job sends the alerts of the windows it computes. */
describe('trestle server --alerts', () => {
  let home: string;
  let rx: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-server-alerts-'));
    rx = await receiver();
  });
  afterAll(async () => {
    await new Promise((r) => rx.server.close(r));
    await rm(home, { recursive: true, force: true });
  });

  it('refuses a bad alerts file or interval with exit 2 and one line', async () => {
    const env = { TRESTLE_HOME: home };
    const missing = await runCli(['server', '--alerts', join(home, 'nope.json')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --alerts .*nope\.json: ENOENT/);
    await writeFile(join(home, 'bad.json'), '{"rules": [{"id": "x", "kind": "nope"}], "sinks": []}');
    const bad = await runCli(['server', '--alerts', join(home, 'bad.json')], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/rule 0 \('x'\): "kind" must be drift_share/);
    const interval = await runCli(['server', '--monitor-interval', '0'], env);
    expect(interval.code).toBe(2);
    expect(interval.stderr).toMatch(/--monitor-interval expects whole seconds from 1 to 86400, got '0'/);
  });

  it('computes the closed windows and posts a signed webhook when a rule starts firing', async () => {
    await seed(home, 0, 2);
    const secret = 'server-side-secret';
    const file = join(home, 'alerts.json');
    await writeFile(
      file,
      JSON.stringify({
        rules: [{ id: 'drift', kind: 'drift_share', above: 0.5 }],
        sinks: [{ kind: 'webhook', url: `${rx.url}/server-hook`, secret }],
      }),
    );
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'packages/cli/src/main.ts'),
        'server',
        '--port',
        '0',
        '--json',
        '--alerts',
        file,
        '--monitor-interval',
        '1',
      ],
      { env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!rx.got.some((g) => g.path === '/server-hook') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      const hook = rx.got.find((g) => g.path === '/server-hook');
      expect(hook, out).toBeDefined();
      expect(hook!.headers['x-trestle-signature']).toBe(
        `sha256=${createHmac('sha256', secret).update(hook!.body).digest('hex')}`,
      );
      expect(JSON.parse(hook!.body)).toMatchObject({ status: 'firing', rule: 'drift', model: 'flights', version: '1' });
      // Computed once: more ticks send nothing more.
      await new Promise((r) => setTimeout(r, 2500));
      expect(rx.got.filter((g) => g.path === '/server-hook')).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 90_000);
});
