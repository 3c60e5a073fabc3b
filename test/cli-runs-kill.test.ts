import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { startServer, type RunningServer } from '../packages/server/src/index.js';
import { openStores, type Stores } from '../packages/store/src/index.js';
import { runCli } from './support/cli.js';

const root = join(import.meta.dirname, '..');

/** A script that starts a run and is then killed with SIGKILL: nothing of it can end the run. */
async function runKilledHard(dir: string, env: Record<string, string>): Promise<string> {
  const script = join(dir, 'hang.mts');
  await writeFile(
    script,
    `import { Trestle } from ${JSON.stringify(join(root, 'packages/client/src/index.ts'))};
const trestle = await Trestle.connect();
const run = await trestle.startRun({ experiment: 'kill-9' });
process.stdout.write(run.id + '\\n');
setInterval(() => undefined, 1000);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, TRESTLE_TRACKING_URI: '', ...env },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const runId = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.on('close', () => reject(new Error(`the script ended before starting its run: ${err}`)));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  return runId;
}

describe('trestle runs kill', () => {
  let dir: string;
  let serverStores: Stores;
  let server: RunningServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trestle-runs-kill-'));
    const config = loadConfig({ home: join(dir, 'server') }, {});
    serverStores = await openStores(config);
    server = await startServer({ config, stores: serverStores, port: 0, logger: false, handleSignals: false });
  });

  afterAll(async () => {
    await server?.close();
    await serverStores?.metadata.close();
    await serverStores?.artifacts.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const backend of ['embedded', 'http'] as const) {
    it(`${backend}: marks the run of a process killed with SIGKILL as KILLED; an ended run stays as it is`, async () => {
      const env: Record<string, string> =
        backend === 'embedded' ? { TRESTLE_HOME: join(dir, 'embedded') } : { TRESTLE_TRACKING_URI: server.url };
      const runId = await runKilledHard(dir, env);
      const shown = await runCli(['runs', 'show', runId, '--json'], env);
      expect((JSON.parse(shown.stdout) as { run: { info: { status: string } } }).run.info.status).toBe('RUNNING');

      // The same run twice (full id and prefix) is killed once.
      const r = await runCli(['runs', 'kill', runId, runId.slice(0, 8), '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ killed: [runId], unchanged: [] });
      const after = await runCli(['runs', 'show', runId, '--json'], env);
      const info = (JSON.parse(after.stdout) as { run: { info: { status: string; endTime: number | null } } }).run.info;
      expect(info.status).toBe('KILLED');
      expect(info.endTime).not.toBeNull();

      const again = await runCli(['runs', 'kill', runId], env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`Run ${runId} had already ended (KILLED); left as it is`);
    }, 60_000);
  }

  it('an unknown run is exit 1 with one line; no run is a usage error', async () => {
    const env = { TRESTLE_HOME: join(dir, 'embedded') };
    const missing = await runCli(['runs', 'kill', 'ffffffffffffffffffffffffffffffff'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect((await runCli(['runs', 'kill'], env)).code).toBe(2);
  });
});
