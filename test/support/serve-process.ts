/**
 * `trestle serve` in a child process (the real CLI under `node --import tsx`), for tests that
 * need the command as users run it: it prints its JSON result (`url`, `model`, `version`…) on
 * stdout once it listens, and drains and exits 0 on SIGTERM.
 *
 * @example
 * const serve = await spawnServe(['models:/flights@champion', '--no-logging'], { TRESTLE_TRACKING_URI: url });
 * await fetch(serve.info.url + '/predict', { method: 'POST', body: '{"distance": 1200}' });
 * expect(await serve.stop()).toBe(0);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface ServeInfo {
  url: string;
  model: string;
  version: string;
  logging: string | null;
  workers: number;
}

export interface ServeProcess {
  readonly info: ServeInfo;
  readonly child: ChildProcess;
  /** Everything the child wrote on stderr so far (its `serve:` log lines). */
  stderr(): string;
  /** SIGTERM, then the exit code (drained). */
  stop(): Promise<number | null>;
}

/** Starts `trestle serve ARGS --port 0 --json`; `env` is added to this process's environment. */
export async function spawnServe(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'packages/cli/src/main.ts'), 'serve', ...args, '--port', '0', '--json'],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + timeoutMs;
  while (!stdout.includes('}') && Date.now() < deadline && child.exitCode === null)
    await new Promise((r) => setTimeout(r, 50));
  if (!stdout.includes('}')) {
    child.kill('SIGKILL');
    throw new Error(`trestle serve did not start: ${stderr}`);
  }
  const info = JSON.parse(stdout.slice(0, stdout.indexOf('}') + 1)) as ServeInfo;
  return {
    info,
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
