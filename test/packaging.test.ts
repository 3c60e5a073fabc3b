/**
 * Trestle installs outside the clone: `npm run pack` compiles every package to JavaScript with
 * declarations and packs it; the tarballs install in an empty folder, where the CLI, the SDK
 * (run by plain `node`, no tsx), the server with its web UI, and the SDK's types all work.
 *
 * The install (`installPacked` in scripts/pack.ts) runs with `--ignore-scripts` and takes
 * better-sqlite3's compiled binding from this checkout (same version, same Node): compiling it
 * again would add a minute and test better-sqlite3's build, not our packaging. Dependencies come
 * from npm's cache (`npm ci` filled it).
 */
import { spawn, execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, packWorkspace } from '../scripts/pack.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'trestle-pack-'));
const app = join(work, 'app');
const trestle = join(app, 'node_modules', '.bin', 'trestle');

let tarballs: string[] = [];

beforeAll(async () => {
  ({ tarballs } = await packWorkspace({ out: join(work, 'pack') }));
  cpSync(join(ROOT, 'test', 'fixtures', 'packaging'), app, { recursive: true });
  await installPacked(tarballs, app);
}, 600_000);

// The install is ~500 MB of files: removing them takes a while on a busy machine.
afterAll(() => rm(work, { recursive: true, force: true }), 300_000);

describe('the packed tarballs, installed in an empty folder', () => {
  it('give a trestle command that reports its version and help', async () => {
    const version = await run(trestle, ['--version'], { cwd: app });
    expect(version.stdout.trim()).toBe('trestle 0.1.0');
    const help = await run(trestle, ['--help'], { cwd: app });
    expect(help.stdout).toMatch(/Commands:/);
    expect(help.stdout).toMatch(/\bruns\b/);
  }, 120_000);

  it('let a plain-node script log a run through the SDK that the CLI then lists', async () => {
    const script = await run(process.execPath, ['log-run.mjs'], { cwd: app });
    const runId = script.stdout.trim();
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    const listed = await run(trestle, ['runs', 'list', '--json'], { cwd: app });
    const { runs } = JSON.parse(listed.stdout) as {
      runs: { info: { runId: string; status: string }; data: { metrics: { key: string; value: number }[] } }[];
    };
    const logged = runs.find((r) => r.info.runId === runId);
    expect(logged?.info.status).toBe('FINISHED');
    expect(logged?.data.metrics).toContainEqual(expect.objectContaining({ key: 'loss', value: 0.1 }));
  }, 120_000);

  it('serve the REST API and the built web UI from trestle server', async () => {
    const server = spawn(trestle, ['server', '--port', '0'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((found, fail) => {
        let out = '';
        server.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match?.[1] !== undefined) found(match[1]);
        });
        server.on('exit', (code) => fail(new Error(`the server exited (${String(code)}) before listening: ${out}`)));
      });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<div id="root">/);
      const search = await fetch(`${url}/api/2.0/mlflow/experiments/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ max_results: 10 }),
      });
      const body = (await search.json()) as { experiments: { name: string }[] };
      expect(body.experiments.map((e) => e.name)).toContain('packed');
    } finally {
      server.kill('SIGTERM');
    }
  }, 120_000);

  it('let the SDK install alone, without the store and its drivers, and say what the embedded store needs', async () => {
    const sdk = join(work, 'sdk-only');
    cpSync(join(ROOT, 'test', 'fixtures', 'packaging'), sdk, { recursive: true });
    const pick = (name: string): string => {
      const file = tarballs.find((t) => t.includes(`trestle-${name}-`));
      if (file === undefined) throw new Error(`no tarball for @trestle/${name}`);
      return file;
    };
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', pick('core'), pick('client')], {
      cwd: sdk,
    });
    for (const heavy of ['@trestle/store', 'better-sqlite3', 'pg', 'kysely']) {
      expect(existsSync(join(sdk, 'node_modules', heavy)), heavy).toBe(false);
    }
    const env = { ...process.env, TRESTLE_TRACKING_URI: '', TRESTLE_HOME: join(sdk, 'home') };
    await expect(run(process.execPath, ['log-run.mjs'], { cwd: sdk, env })).rejects.toMatchObject({
      stderr: expect.stringMatching(/the embedded store needs the @trestle\/store package: install it/),
    });
  }, 300_000);

  it('ship type declarations that a strict TypeScript project compiles against', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2023',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['typed.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app })).resolves.toBeDefined();
    // The same file with a type error fails: the declarations are really checked.
    writeFileSync(
      join(app, 'typed.ts'),
      `${readFileSync(join(app, 'typed.ts'), 'utf8')}\nawait run.logMetric('loss', 'high', 0);\n`,
    );
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app })).rejects.toMatchObject({
      stdout: expect.stringMatching(/TS2345/),
    });
  }, 300_000);
});
