import { describe, expect, it } from 'vitest';
import { registry } from '../packages/cli/src/registry.js';
import { runCli } from './support/cli.js';

const env = { TRESTLE_HOME: '/nonexistent/never-opened' };

describe('trestle CLI usage', () => {
  it('prints the version', async () => {
    const r = await runCli(['--version'], env);
    expect(r).toMatchObject({ code: 0, stdout: 'trestle 0.0.0-test\n' });
  });

  it('lists commands with --help and exits 0', async () => {
    const r = await runCli(['--help'], env);
    expect(r.code).toBe(0);
    for (const e of registry) expect(r.stdout).toContain(e.name);
  });

  it('has --help on every command of every group, with exit code 0', async () => {
    for (const entry of registry) {
      const loaded = await entry.load();
      const paths = 'commands' in loaded ? loaded.commands.map((c) => [entry.name, c.name]) : [[entry.name]];
      for (const path of paths) {
        const r = await runCli([...path, '--help'], env);
        expect(r.code, path.join(' ')).toBe(0);
        expect(r.stdout, path.join(' ')).toContain(`Usage: trestle ${path.join(' ')}`);
        expect(r.stdout, path.join(' ')).toContain('--json');
      }
    }
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['runs', 'frobnicate'], /unknown command 'runs frobnicate'/],
    [
      ['runs', 'list', '--bogus'],
      /^trestle runs list: unknown option --bogus \(a value starting with '-' goes after '--'\)\. See/,
    ],
    [['runs', 'list', '--experiment'], /^trestle runs list: option --experiment needs a value\. See/],
    [['runs', 'list', '--json=yes'], /^trestle runs list: option --json takes no value\. See/],
    [['runs', 'show'], /expected RUN_ID, got 0 argument/],
    [['runs', 'show', 'not-hex!'], /is not a run id/],
    [['runs', 'list', '--max-results', 'ten'], /--max-results expects a positive integer, got 'ten'/],
    [['experiments', 'create', '--tag', 'novalue', 'x'], /--tag expects KEY=VALUE/],
  ])('%j is a usage error: exit 2 and one readable line', async (args, message) => {
    // A store exists, so that only the usage can be at fault (reads never create one).
    const home = { TRESTLE_HOME: `/tmp/trestle-usage-${process.pid}` };
    expect((await runCli(['db', 'upgrade'], home)).code).toBe(0);
    const r = await runCli(args, home);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
