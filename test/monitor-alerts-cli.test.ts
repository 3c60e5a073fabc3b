import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { startServer } from '../packages/server/src/index.js';
import { runCli } from './support/cli.js';
import { receiver, seed } from './support/monitoring-seed.js';

const SECRET = 'receiver-shared-secret';

describe('trestle monitor run --alerts', () => {
  let home: string;
  let rx: Awaited<ReturnType<typeof receiver>>;
  let rules: string;
  let secretFile: string;
  const cli = (...args: string[]) => runCli(args, { TRESTLE_HOME: home });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-monitor-alerts-'));
    rx = await receiver();
    rules = join(home, 'alerts.json');
    await writeFile(
      rules,
      JSON.stringify({
        rules: [{ id: 'distance-drift', kind: 'drift_share', above: 0.5, model: 'flights' }],
        sinks: [{ kind: 'log' }],
      }),
    );
    secretFile = join(home, 'secret');
    await writeFile(secretFile, `${SECRET}\n`);
    await seed(home, 0, 1);
  });

  afterAll(async () => {
    await new Promise((r) => rx.server.close(r));
    await rm(home, { recursive: true, force: true });
  });

  it('sends a firing alert once to a signed webhook and to Slack, then nothing while it keeps firing', async () => {
    const args = [
      'monitor',
      'run',
      'flights',
      '--alerts',
      rules,
      '--webhook',
      `${rx.url}/hook`,
      '--webhook-secret-file',
      secretFile,
      '--slack',
      `${rx.url}/slack`,
      '--json',
    ];
    // One window like the reference: nothing fires.
    const calm = await cli(...args);
    expect(calm.code, calm.stderr).toBe(0);
    expect(JSON.parse(calm.stdout)).toMatchObject({ computed: 1, alerts: [] });
    expect(rx.got).toEqual([]);

    await seed(home, 1, 1);
    const drift = await cli(...args);
    expect(drift.code, drift.stderr).toBe(0);
    const out = JSON.parse(drift.stdout) as {
      computed: number;
      alerts: { status: string; rule: string; value: number }[];
    };
    expect(out.computed).toBe(1);
    expect(out.alerts).toMatchObject([{ status: 'firing', rule: 'distance-drift', value: 1 }]);
    expect(JSON.parse(drift.stdout)).toMatchObject({ alertWarnings: [] });

    const hook = rx.got.find((g) => g.path === '/hook')!;
    const expected = `sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`;
    expect(hook.headers['x-trestle-signature']).toBe(expected);
    expect(JSON.parse(hook.body)).toMatchObject({
      status: 'firing',
      rule: 'distance-drift',
      model: 'flights',
      version: '1',
    });
    const slack = rx.got.find((g) => g.path === '/slack')!;
    expect(slack.headers['x-trestle-signature']).toBeUndefined();
    expect((JSON.parse(slack.body) as { text: string }).text).toMatch(/FIRING distance-drift/);
    expect(rx.got).toHaveLength(2);

    // Still drifting: de-duplicated (the state is in the store).
    await seed(home, 2, 1);
    const again = await cli(...args);
    expect(JSON.parse(again.stdout)).toMatchObject({ computed: 1, alerts: [] });
    expect(rx.got).toHaveLength(2);
  });

  it('prints the alert in text mode, and says when a sink cannot be reached', async () => {
    const down = await receiver();
    await new Promise((r) => down.server.close(r));
    await writeFile(
      join(home, 'other.json'),
      JSON.stringify({ rules: [{ id: 'any-drift', kind: 'drift_share', above: 0.1 }], sinks: [{ kind: 'log' }] }),
    );
    await seed(home, 3, 1);
    const r = await cli('monitor', 'run', 'flights', '--alerts', join(home, 'other.json'), '--webhook', down.url);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/alert FIRING any-drift: flights version 1 \(@champion\)/);
    expect(r.stderr).toMatch(/monitor: FIRING any-drift/);
    expect(r.stderr).toMatch(/monitor: alert not delivered: fetch failed \(webhook\)/);
  });

  it('against a server: the same alerts, de-duplicated by a state file in the Trestle home', async () => {
    const remote = await mkdtemp(join(tmpdir(), 'trestle-monitor-alerts-remote-'));
    await seed(remote, 0, 2);
    const server = await startServer({
      config: loadConfig({ home: remote }, {}),
      port: 0,
      logger: false,
      handleSignals: false,
      monitoring: false,
    });
    const before = rx.got.length;
    try {
      const env = { TRESTLE_HOME: join(remote, 'cli'), TRESTLE_TRACKING_URI: server.url };
      const args = ['monitor', 'run', 'flights', '--alerts', rules, '--webhook', `${rx.url}/remote`, '--json'];
      const first = await runCli(args, env);
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ computed: 2, alerts: [{ status: 'firing' }] });
      expect(rx.got.slice(before).map((g) => g.path)).toEqual(['/remote']);
      expect(rx.got.at(-1)!.headers['x-trestle-signature']).toBeUndefined();
      await seed(remote, 2, 1);
      const second = await runCli(args, env);
      expect(JSON.parse(second.stdout)).toMatchObject({ computed: 1, alerts: [] });
      expect(rx.got.length).toBe(before + 1);
    } finally {
      await server.close();
      await rm(remote, { recursive: true, force: true });
    }
  });

  it('refuses bad alert options with exit 2 and one line saying what to fix', async () => {
    const noRules = await cli('monitor', 'run', 'flights', '--webhook', rx.url);
    expect(noRules.code).toBe(2);
    expect(noRules.stderr).toMatch(/--webhook, --slack and --webhook-secret-file need --alerts FILE/);
    const missing = await cli('monitor', 'run', 'flights', '--alerts', join(home, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --alerts .*nope\.json: ENOENT/);
    const bad = join(home, 'bad.json');
    await writeFile(bad, JSON.stringify({ rules: [{ id: 'x', kind: 'drift_share' }], sinks: [] }));
    const invalid = await cli('monitor', 'run', 'flights', '--alerts', bad);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr.trim().split('\n')).toHaveLength(1);
    expect(invalid.stderr).toMatch(/rule 0 \('x'\): drift_share needs "above"/);
    const badUrl = await cli('monitor', 'run', 'flights', '--alerts', rules, '--slack', 'not a url');
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/sink 1: "url" must be an http\(s\) URL/);
  });
});
