/**
 * Runs a context's bundled entrypoint with `node` in its folder, as the image would, and waits
 * for its first JSON line on stdout (for tests; not exported from the package index).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { workspaceRoot } from '../build/lockfile.js';

export interface RunningEntrypoint {
  /** The first stdout line, parsed. */
  readonly banner: Record<string, unknown>;
  readonly child: ChildProcess;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `node FILE` in `dir` with only `env` (plus PATH), and waits up to `timeoutMs` for its banner. */
export async function runEntrypoint(
  dir: string,
  file: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<RunningEntrypoint> {
  const child = spawn(process.execPath, [file], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + timeoutMs;
  while (!stdout.includes('\n') && child.exitCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!stdout.includes('\n')) {
    child.kill('SIGKILL');
    throw new Error(`${file} did not start (exit ${child.exitCode}): ${stderr.trim()}`);
  }
  return {
    banner: JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as Record<string, unknown>,
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `node FILE` in `dir` to its end and returns its exit code and stderr. */
export async function runToEnd(
  dir: string,
  file: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [file], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, stderr };
}

/**
 * What `npm ci` does in a Dockerfile's build stage, offline: every package of the context's
 * lockfile, copied from the workspace's node_modules (the same versions, already built for this
 * machine). Nothing else is there, so a bundle runs only if the lockfile covers its imports.
 */
export async function installLocked(dir: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  const paths = Object.keys(lock.packages).filter((p) => p !== '');
  const root = workspaceRoot();
  for (const p of paths) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await cp(join(root, p), join(dir, p), { recursive: true, dereference: true });
  }
  return paths;
}
