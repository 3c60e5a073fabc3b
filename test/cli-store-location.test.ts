import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

/**
 * The CLI finds the embedded store the way git finds .git, and never guesses: reading never
 * creates a store, and a path or scheme that names nothing usable is an error, not a new file.
 */
describe('the CLI finds its store and never guesses', () => {
  let project: string;
  beforeEach(async () => {
    project = await mkdtemp(join(tmpdir(), 'trestle-find-'));
  });
  afterEach(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it('a read command in a folder without a store fails with one line and creates nothing', async () => {
    for (const args of [
      ['runs', 'list'],
      ['experiments', 'list', '--json'],
      ['tokens', 'list'],
      ['db', 'status'],
    ]) {
      const r = await runCli(args, {}, { cwd: project });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/there is no metadata store at '.*trestle\.db' yet/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readdirSync(project)).toEqual([]);
  });

  it('finds the project store from a subfolder (and TRESTLE_HOME overrides the search)', async () => {
    const created = await runCli(['experiments', 'create', 'flights'], {}, { cwd: project });
    expect(created.code, created.stderr).toBe(0);
    expect(statSync(join(project, '.trestle', 'trestle.db')).isFile()).toBe(true);
    const deep = join(project, 'packages', 'models', 'src');
    mkdirSync(deep, { recursive: true });
    const listed = await runCli(['experiments', 'list', '--json'], {}, { cwd: deep });
    expect(listed.code, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as { experiments: { name: string }[] }).experiments.map((e) => e.name);
    expect(names).toContain('flights');
    expect(existsSync(join(deep, '.trestle'))).toBe(false);

    const elsewhere = join(project, 'other-home');
    const viaEnv = await runCli(['experiments', 'list'], { TRESTLE_HOME: elsewhere }, { cwd: deep });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toContain(join(elsewhere, 'trestle.db'));
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('--db in a folder that does not exist is an error, even for a command that writes', async () => {
    const r = await runCli(['experiments', 'create', 'x', '--db', '/no/such/dir/x.db'], {}, { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the folder '/no/such/dir' does not exist");
    expect(existsSync('/no/such/dir')).toBe(false);
  });

  it('an unknown scheme is an error, not a SQLite file named after it', async () => {
    const r = await runCli(['experiments', 'create', 'x', '--db', 'mysql://u@db/trestle'], {}, { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unsupported metadata store URI scheme 'mysql:'");
    expect(readdirSync(project)).toEqual([]);
  });

  it('an empty file is refused, never initialised', async () => {
    const file = join(project, 'empty.db');
    writeFileSync(file, '');
    const r = await runCli(['experiments', 'create', 'x', '--db', file], {}, { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is an empty file (0 bytes)');
    expect(statSync(file).size).toBe(0);
  });
});
