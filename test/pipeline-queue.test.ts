import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The queue executor on the real Redis: `trestle run` with TRESTLE_QUEUE sends stages to two
 * `trestle worker` processes (each in its own workspace, as on two machines, sharing only the
 * queue and a folder remote). The worker that takes the slow stage is killed with SIGKILL
 * mid-stage: BullMQ hands the stage to the other worker, and the pipeline finishes with the
 * same outputs as a local run.
 */
const REDIS = process.env['TRESTLE_TEST_REDIS'] ?? 'redis://127.0.0.1:6379/7';
const repoRoot = join(import.meta.dirname, '..');
const main = join(repoRoot, 'packages/cli/src/main.ts');
const tsx = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/esm/index.mjs')).href;

async function redisUnavailable(): Promise<string | undefined> {
  const { Redis } = await import('ioredis');
  const client = new Redis(REDIS, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    await client.flushdb();
    return undefined;
  } catch (err) {
    return `Redis at ${REDIS} is not reachable (${(err as Error).message})`;
  } finally {
    client.disconnect();
  }
}

const unavailable = await redisUnavailable();
const skip = unavailable !== undefined && process.env['CI'] !== 'true';
if (skip) console.warn(`skipping the queue executor test: ${unavailable}`);

const PIPELINE = `stages:
  slow:
    cmd: sleep 4 && cat in.txt in.txt > doubled.txt
    deps: [in.txt]
    outs: [doubled.txt]
  count:
    cmd: wc -l < doubled.txt > count.txt
    deps: [doubled.txt]
    outs: [count.txt]
`;

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function trestle(args: string[], cwd: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', tsx, main, ...args], {
    cwd,
    env: { ...process.env, ...env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(skip)('queue executor on Redis', () => {
  let base: string;
  const procs: Proc[] = [];

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'trestle-queue-'));
    const project = join(base, 'project');
    mkdirSync(join(project, '.trestle'), { recursive: true });
    writeFileSync(join(project, 'trestle.yaml'), PIPELINE);
    writeFileSync(join(project, 'in.txt'), 'one\ntwo\nthree\n');
    // Three checkouts of the same project: the coordinator, two workers, and a local reference.
    for (const name of ['worker1', 'worker2', 'local']) cpSync(project, join(base, name), { recursive: true });
    mkdirSync(join(base, 'remote'));
  });

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await rm(base, { recursive: true, force: true });
  });

  it('a stage whose worker is killed mid-stage is retried on the other worker, with the same outputs as a local run', async () => {
    const env = { TRESTLE_QUEUE: REDIS, TRESTLE_REMOTE: join(base, 'remote'), TRESTLE_WORKER_LOCK_MS: '2000' };
    const w1 = trestle(['worker'], join(base, 'worker1'), env);
    procs.push(w1);
    await until('worker 1 to be ready', () => w1.output().includes('Worker ready'));
    const coordinator = trestle(['run', '--no-track'], join(base, 'project'), env);
    procs.push(coordinator);
    await until('worker 1 to take the slow stage', () => w1.output().includes('taking stage slow'));
    w1.child.kill('SIGKILL');
    await w1.exited;
    const w2 = trestle(['worker'], join(base, 'worker2'), env);
    procs.push(w2);
    const code = await coordinator.exited;
    expect(code, coordinator.output()).toBe(0);
    expect(w2.output()).toContain('taking stage slow');
    expect(w2.output()).toContain('stage count done');
    expect(coordinator.output()).toMatch(/2 ran/);

    const local = trestle(['run', '--local', '--no-track'], join(base, 'local'), {});
    expect(await local.exited, local.output()).toBe(0);
    for (const f of ['doubled.txt', 'count.txt']) {
      expect(readFileSync(join(base, 'project', f), 'utf8')).toBe(readFileSync(join(base, 'local', f), 'utf8'));
    }
    expect(readFileSync(join(base, 'project', 'count.txt'), 'utf8').trim()).toBe('6');
    const lock = (dir: string): string => readFileSync(join(base, dir, 'trestle.lock'), 'utf8');
    expect(lock('project')).toBe(lock('local'));
    w2.child.kill('SIGTERM');
    await w2.exited;
  }, 180_000);
});
