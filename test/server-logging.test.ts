import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'packages', 'cli', 'src', 'main.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startCliServer(args: string[], home: string, stdout: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', cli, 'server', '--port', '0', ...args], {
    cwd: root,
    env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' },
    stdio: ['ignore', stdout, 'pipe'],
  });
}

async function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null | 'timeout'> {
  if (child.exitCode !== null) return child.exitCode;
  return Promise.race([
    new Promise<number | null>((r) => child.once('exit', (code) => r(code))),
    sleep(timeoutMs).then(() => 'timeout' as const),
  ]);
}

/** Reads a file until `pattern` shows up (the child writes to it). */
async function waitFor(file: string, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(readFileSync(file, 'utf8'));
    if (m !== null) return m;
    if (Date.now() > deadline) throw new Error(`no ${String(pattern)} in ${file}:\n${readFileSync(file, 'utf8')}`);
    await sleep(50);
  }
}

describe('trestle server output', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trestle-server-log-'));
  });
  afterEach(async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGKILL');
      await exitOf(child, 5000);
    }
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('--json: stdout is JSON lines only, the banner first; secrets in query strings are redacted', async () => {
    const out = join(dir, 'out.log');
    const fd = openSync(out, 'w');
    child = startCliServer(['--json'], join(dir, 'home'), fd);
    closeSync(fd);
    const [, url] = await waitFor(out, /"url":"(http:\/\/[^"]+)"/);
    const res = await fetch(`${url!}/api/v1/experiments?max_results=5&access_token=s3cr3t-value&token=other-secret`);
    expect(res.status).toBeLessThan(500);
    await waitFor(out, /"url":"\/api\/v1\/experiments\?/);
    child.kill('SIGTERM');
    expect(await exitOf(child, 15_000)).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({ url, auth: false });
    expect(parsed.slice(1).every((p) => typeof p['level'] === 'number')).toBe(true);
    const text = lines.join('\n');
    expect(text).not.toContain('s3cr3t-value');
    expect(text).not.toContain('other-secret');
    expect(text).toContain('access_token=[REDACTED]&token=[REDACTED]');
  }, 90_000);

  it('--log-format pretty: the banner is the first line, then readable log lines', async () => {
    const out = join(dir, 'out.log');
    const fd = openSync(out, 'w');
    child = startCliServer(['--log-format', 'pretty'], join(dir, 'home'), fd);
    closeSync(fd);
    const [, url] = await waitFor(out, /listening on (http:\/\/\S+)/);
    await fetch(`${url!}/api/v1/experiments/0`);
    await waitFor(out, /GET \/api\/v1\/experiments\/0 → 200/);
    child.kill('SIGTERM');
    expect(await exitOf(child, 15_000)).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toBe(`Trestle server listening on ${url!}`);
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}GET \/api\/v1\/experiments\/0 → 200 [\d.]+ ms {2}reqId=\S+$/m);
    expect(text).not.toMatch(/^\{"level"/m);
  }, 90_000);

  it('keeps answering while its stdout is a pipe nobody reads, and still stops on SIGTERM', async () => {
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const writer = openSync(fifo, 'w');
      child = startCliServer(['--json'], join(dir, 'home'), writer);
      closeSync(writer);
      // Read only the banner, then never again.
      let head = '';
      const buffer = Buffer.alloc(4096);
      const deadline = Date.now() + 60_000;
      while (!head.includes('\n') && Date.now() < deadline) {
        try {
          head += buffer.toString('utf8', 0, readSync(reader, buffer));
        } catch {
          await sleep(50);
        }
      }
      const url = (JSON.parse(head.split('\n')[0]!) as { url: string }).url;
      // ~3,000 request lines (≈ 600 kB) overflow the pipe (64 kB) many times over.
      const started = Date.now();
      for (let batch = 0; batch < 30; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 100 }, () => fetch(`${url}/health?token=x`).then((r) => r.status)),
        );
        expect(answers.every((s) => s === 200)).toBe(true);
      }
      const took = Date.now() - started;
      expect(took).toBeLessThan(30_000);
      const probe = performance.now();
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(performance.now() - probe).toBeLessThan(500);
      child.kill('SIGTERM');
      expect(await exitOf(child, 15_000)).toBe(0);
    } finally {
      closeSync(reader);
    }
  }, 120_000);
});
