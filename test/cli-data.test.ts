import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

/** `trestle data …` end to end, in process, in a fresh workspace with a folder remote. */
describe('trestle data', () => {
  let ws: string;
  let remote: string;
  const cwd = process.cwd();
  const env = {};
  const cli = async (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    ws = await mkdtemp(join(tmpdir(), 'trestle-cli-data-'));
    remote = await mkdtemp(join(tmpdir(), 'trestle-cli-remote-'));
    mkdirSync(join(ws, '.trestle'));
    mkdirSync(join(ws, 'data/images/sub'), { recursive: true });
    writeFileSync(join(ws, 'data/weather.csv'), 'date,temp,rain\n2024-01-01,3.5,true\n2024-01-02,-1,false\n');
    for (let i = 0; i < 20; i++) writeFileSync(join(ws, `data/images/sub/img${i}.bin`), `image ${i}`);
    process.chdir(ws);
  });

  afterAll(async () => {
    process.chdir(cwd);
    await rm(ws, { recursive: true, force: true });
    await rm(remote, { recursive: true, force: true });
  });

  it('add tracks a CSV file and a folder: pointers, .gitignore, dataset versions with the CSV schema', async () => {
    const r = await cli('data', 'add', 'data/weather.csv', 'data/images', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { added: { target: string; kind: string; files: number }[] };
    expect(out.added.map((a) => [a.target, a.kind, a.files])).toEqual([
      ['data/weather.csv', 'file', 1],
      ['data/images', 'dir', 20],
    ]);
    expect(existsSync(join(ws, 'data/weather.csv.trestle'))).toBe(true);
    expect(readFileSync(join(ws, 'data/.gitignore'), 'utf8')).toBe('/weather.csv\n/images\n');
    const v = await cli('data', 'versions', 'data/weather.csv', '--json');
    const [version] = (JSON.parse(v.stdout) as { versions: { schema: string; digest: string }[] }).versions;
    expect(JSON.parse(version!.schema)).toEqual({
      format: 'csv',
      columns: [
        { name: 'date', type: 'string' },
        { name: 'temp', type: 'double' },
        { name: 'rain', type: 'boolean' },
      ],
    });
  });

  it('status names each changed file; a usage error without a remote; push, then pull into an empty cache', async () => {
    writeFileSync(join(ws, 'data/images/sub/img3.bin'), 'edited');
    const changed = await cli('data', 'status');
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('data/images/: modified');
    expect(changed.stdout).toMatch(/modified:\s+sub\/img3\.bin/);
    expect(changed.stdout).toContain('data/weather.csv: unchanged');
    const restored = await cli('data', 'checkout', 'data/images', '--force');
    expect(restored.code, restored.stderr).toBe(0);
    expect(readFileSync(join(ws, 'data/images/sub/img3.bin'), 'utf8')).toBe('image 3');

    const noRemote = await cli('data', 'push');
    expect(noRemote.code).toBe(2);
    expect(noRemote.stderr).toContain('TRESTLE_REMOTE');

    const pushed = await cli('data', 'push', '--remote', remote, '--json');
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ transferred: 22, skipped: 0 });
    const again = await cli('data', 'push', '--remote', remote, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ transferred: 0, skipped: 22 });

    await rm(join(ws, '.trestle/cache'), { recursive: true });
    await rm(join(ws, 'data/images'), { recursive: true });
    await rm(join(ws, 'data/weather.csv'));
    const missing = await cli('data', 'status', '--json');
    expect((JSON.parse(missing.stdout) as { data: { state: string; cached: boolean }[] }).data).toMatchObject([
      { state: 'missing', cached: false },
      { state: 'missing', cached: false },
    ]);
    const pulled = await cli('data', 'pull', '--remote', remote, '--json');
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(JSON.parse(pulled.stdout)).toMatchObject({ transferred: 22 });
    expect(readFileSync(join(ws, 'data/images/sub/img7.bin'), 'utf8')).toBe('image 7');
    expect(readFileSync(join(ws, 'data/weather.csv'), 'utf8')).toContain('2024-01-02');
  });

  it('gc --dry-run lists an old version, gc removes it', async () => {
    writeFileSync(join(ws, 'data/weather.csv'), 'date,temp\n');
    expect((await cli('data', 'add', 'data/weather.csv')).code).toBe(0);
    const dry = await cli('data', 'gc', '--dry-run', '--json');
    expect((JSON.parse(dry.stdout) as { removed: string[] }).removed).toHaveLength(1);
    const real = await cli('data', 'gc', '--json');
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, kept: 22 });
    expect((JSON.parse((await cli('data', 'gc', '--json')).stdout) as { removed: string[] }).removed).toEqual([]);
  });

  it('a path with nothing there is one readable line and exit 1', async () => {
    const r = await cli('data', 'add', 'nope.csv');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nope.csv');
  });
});
