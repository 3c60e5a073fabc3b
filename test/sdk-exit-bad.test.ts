import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type MetadataStore } from '../packages/core/src/index.js';
import { startServer, type RunningServer } from '../packages/server/src/index.js';
import { openStores, type Stores } from '../packages/store/src/index.js';

const root = join(import.meta.dirname, '..');
const POINTS = 2500;

/**
 * Scripts that end badly still end their runs, with every buffered point written, as MLflow's
 * fluent API does: an uncaught error or `process.exit(1)` → FAILED, SIGINT/SIGTERM → KILLED (and
 * the process still dies of the signal), `process.exit(0)` → FINISHED. Each case is a real child
 * process, against the embedded store and against a real server over HTTP.
 */
const SCRIPT = `import { Trestle } from ${JSON.stringify(join(root, 'packages/client/src/index.ts'))};
const mode = process.argv[2];
const trestle = await Trestle.connect();
const run = await trestle.startRun({ experiment: 'exit-bad', name: mode });
// Not awaited and never flushed: 2 full batches may be in flight, the rest is only buffered.
for (let step = 0; step < ${POINTS}; step++) void run.logMetric('loss', 1 / (step + 1), step);
process.stdout.write(run.id + '\\n');
if (mode === 'throw') throw new Error('boom from the training script');
if (mode === 'reject') setTimeout(() => void Promise.reject(new Error('rejected in a timer')), 10);
if (mode === 'exit1') process.exit(1);
if (mode === 'exit0') process.exit(0);
if (mode === 'throw-in-timer') setTimeout(() => { throw new Error('thrown in a timer'); }, 10);
if (mode === 'signal') setInterval(() => undefined, 1000); // waits to be killed
`;

interface Ended {
  runId: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runScript(script: string, mode: string, env: Record<string, string>, signal?: NodeJS.Signals): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, mode], {
      cwd: root,
      env: { ...process.env, TRESTLE_TRACKING_URI: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString('utf8');
      if (signal !== undefined && !sent && stdout.includes('\n')) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ runId: stdout.split('\n')[0]!.trim(), code, signal: sig, stderr }));
  });
}

async function expectRun(store: MetadataStore, ended: Ended, status: string): Promise<void> {
  expect(ended.runId, ended.stderr).toMatch(/^[0-9a-f]{32}$/);
  const run = await store.getRun(ended.runId);
  expect(run.info.status, ended.stderr).toBe(status);
  expect(run.info.endTime).not.toBeNull();
  const history = await store.getMetricHistory(ended.runId, 'loss', { maxResults: 10_000 });
  expect(history.items).toHaveLength(POINTS);
  expect(history.items.at(-1)).toMatchObject({ step: POINTS - 1, value: 1 / POINTS });
}

const CASES: { mode: string; signal?: NodeJS.Signals; status: string; code: number | null }[] = [
  { mode: 'throw', status: 'FAILED', code: 1 },
  { mode: 'throw-in-timer', status: 'FAILED', code: 1 },
  { mode: 'reject', status: 'FAILED', code: 1 },
  { mode: 'exit1', status: 'FAILED', code: 1 },
  { mode: 'exit0', status: 'FINISHED', code: 0 },
  { mode: 'signal', signal: 'SIGINT', status: 'KILLED', code: null },
  { mode: 'signal', signal: 'SIGTERM', status: 'KILLED', code: null },
];

describe('runs of scripts that end badly', () => {
  let dir: string;
  let script: string;
  let embedded: Stores;
  let serverStores: Stores;
  let server: RunningServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trestle-exit-bad-'));
    script = join(dir, 'train.mts');
    await writeFile(script, SCRIPT);
    embedded = await openStores(loadConfig({ home: join(dir, 'embedded') }, {}));
    const serverConfig = loadConfig({ home: join(dir, 'server') }, {});
    serverStores = await openStores(serverConfig);
    server = await startServer({
      config: serverConfig,
      stores: serverStores,
      port: 0,
      logger: false,
      handleSignals: false,
    });
  });

  afterAll(async () => {
    await server?.close();
    for (const s of [embedded, serverStores]) {
      await s?.metadata.close();
      await s?.artifacts.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  for (const backend of ['embedded', 'http'] as const) {
    for (const c of CASES) {
      const how = c.signal ?? c.mode;
      it(`${backend}: ${how} → ${c.status}, every buffered point written`, async () => {
        const env =
          backend === 'embedded' ? { TRESTLE_HOME: join(dir, 'embedded') } : { TRESTLE_TRACKING_URI: server.url };
        const ended = await runScript(script, c.mode, env, c.signal);
        expect(ended.signal, ended.stderr).toBe(c.signal ?? null);
        expect(ended.code, ended.stderr).toBe(c.code);
        if (c.mode.startsWith('throw') || c.mode === 'reject')
          expect(ended.stderr).toMatch(/Error: (boom|rejected|thrown)/);
        await expectRun((backend === 'embedded' ? embedded : serverStores).metadata, ended, c.status);
      }, 60_000);
    }
  }
});
