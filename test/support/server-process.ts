/**
 * A real Trestle server in a child process, for multi-process tests and benchmarks.
 *
 * {@link spawnServer} starts `trestle server --port 0 --json` (the CLI under `node --import tsx`)
 * when the CLI registers the `server` command, and otherwise this file itself as a script, which
 * does what that command does: `startServer({ config: loadConfig({}, process.env), host, port })`,
 * JSON logs at `info` on stdout, graceful shutdown on SIGTERM. Either way the child prints its
 * URL as JSON (`"url": "http://127.0.0.1:PORT"`) on stdout (a temporary file here), and is
 * configured by the environment (`TRESTLE_DB`, `TRESTLE_ARTIFACTS`, …) like any `trestle` process.
 *
 * @example
 * const server = await spawnServer({ env: { TRESTLE_DB: db.uri, TRESTLE_ARTIFACTS: dir } });
 * await fetch(`${server.url}/api/2.0/mlflow/experiments/search?max_results=10`);
 * const { code, loggedErrors } = await server.stop(); // SIGTERM, then waits for a graceful exit (0)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const thisScript = fileURLToPath(import.meta.url);
const cliMain = join(repoRoot, 'packages', 'cli', 'src', 'main.ts');

/** How the child is started: the real CLI, or this file as a script calling `startServer`. */
type ServerEntry = 'cli' | 'script';

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions {
  /** Added to the parent's environment (`TRESTLE_DB`, `TRESTLE_ARTIFACTS`, …); `TRESTLE_TRACKING_URI` is always removed. */
  env?: Record<string, string>;
  /** `cli` when the CLI has a `server` command, else `script` (default); `quiet` forces `script`. */
  entry?: ServerEntry;
  /** No request logs (the script's `--quiet`): for measuring what logging costs. Default false, as `trestle server`. */
  quiet?: boolean;
  /** Extra `node` flags, e.g. `['--cpu-prof', '--cpu-prof-dir=/tmp/prof']`. */
  nodeArgs?: string[];
  /** How long to wait for the URL; default 60 s. */
  startTimeoutMs?: number;
}

/** How a child ended. */
export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when it had to be killed (SIGKILL) because it did not exit in time after SIGTERM. */
  killed: boolean;
  /** Log lines at level error or fatal (pino 50, 60) in the child's whole output: unexpected failures. */
  loggedErrors: string[];
}

/** A running server child. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly entry: ServerEntry;
  readonly child: ChildProcess;
  /** The last 256 kB of the child's stdout and stderr (kept in a temporary file until {@link stop}), for diagnostics. */
  output(): string;
  /**
   * Sends SIGTERM and waits for the exit (SIGKILL after `timeoutMs`, default 15 s), then scans
   * the output for logged errors and deletes it (the tail stays in {@link output}). Safe to call twice.
   */
  stop(timeoutMs?: number): Promise<ServerExit>;
}

const TAIL_BYTES = 256 * 1024;
const URL_PATTERN = /"url":\s*"(https?:\/\/[^"]+)"/;

let cliHasServer: Promise<boolean> | undefined;

/** Whether `trestle server` exists in the CLI's registry (it is loaded lazily, so this is cheap). */
function cliHasServerCommand(): Promise<boolean> {
  cliHasServer ??= import('../../packages/cli/src/registry.js').then(({ registry }) =>
    registry.some((e) => e.name === 'server'),
  );
  return cliHasServer;
}

/** The last `bytes` of a file ('' when it is gone). */
function fileTail(path: string, bytes = TAIL_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const ERROR_LINE = /"level":\s*[56]0\b/;

/** Lines of the file that log an error (pino level 50 or 60), read in chunks. */
function errorLines(path: string): string[] {
  const out: string[] = [];
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return out;
  }
  try {
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    let carry = '';
    for (let position = 0; ;) {
      const n = readSync(fd, chunk, 0, chunk.length, position);
      if (n === 0) break;
      position += n;
      const lines = (carry + chunk.toString('utf8', 0, n)).split('\n');
      carry = lines.pop()!;
      for (const line of lines) if (ERROR_LINE.test(line)) out.push(line);
    }
    if (ERROR_LINE.test(carry)) out.push(carry);
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * Starts a server child on a free loopback port and resolves once it prints its URL. Rejects
 * (with the child's output) when it exits first or takes longer than `startTimeoutMs`.
 *
 * The child's stdout and stderr go to a temporary file, not a pipe: pino writes request logs
 * synchronously, and when a pipe's buffer is full (the reader busy for a moment) it sleeps
 * 100 ms before retrying, freezing the whole server; a file never does that.
 */
export async function spawnServer(options: SpawnServerOptions = {}): Promise<ServerProcess> {
  const quiet = options.quiet ?? false;
  const entry: ServerEntry = quiet ? 'script' : (options.entry ?? ((await cliHasServerCommand()) ? 'cli' : 'script'));
  const args =
    entry === 'cli'
      ? [cliMain, 'server', '--host', '127.0.0.1', '--port', '0', '--json']
      : [thisScript, '--port', '0', ...(quiet ? ['--quiet'] : [])];
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env['TRESTLE_TRACKING_URI'];
  const logDir = mkdtempSync(join(tmpdir(), 'trestle-server-out-'));
  const logFile = join(logDir, 'output.log');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let finalOutput: string | undefined;
  const output = (): string => finalOutput ?? fileTail(logFile);
  const cleanUp = (): string[] => {
    finalOutput ??= fileTail(logFile);
    const errors = errorLines(logFile);
    rmSync(logDir, { recursive: true, force: true });
    return errors;
  };

  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const deadline = Date.now() + startTimeoutMs;
      let gone: string | undefined;
      void exited.then(({ code, signal }) => {
        gone = `code ${code}, signal ${signal}`;
      });
      child.once('error', reject);
      const poll = (): void => {
        const m = URL_PATTERN.exec(fileTail(logFile, 64 * 1024));
        if (m !== null) resolve(m[1]!);
        else if (gone !== undefined)
          reject(new Error(`server child exited (${gone}) before printing its URL; output:\n${output()}`));
        else if (Date.now() > deadline) {
          child.kill('SIGKILL');
          reject(
            new Error(`server child ${child.pid} printed no URL within ${startTimeoutMs} ms; output:\n${output()}`),
          );
        } else setTimeout(poll, 20);
      };
      poll();
    });
  } catch (err) {
    await exited;
    cleanUp();
    throw err;
  }

  let stopping: Promise<ServerExit> | undefined;
  return {
    url,
    pid: child.pid!,
    entry,
    child,
    output,
    stop(timeoutMs = 15_000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        const first = await Promise.race([exited, timedOut]);
        clearTimeout(timer);
        let ended: { code: number | null; signal: NodeJS.Signals | null; killed: boolean };
        if (first !== 'timeout') {
          ended = { ...first, killed: false };
        } else {
          child.kill('SIGKILL');
          ended = { ...(await exited), killed: true };
        }
        return { ...ended, loggedErrors: cleanUp() };
      })();
      return stopping;
    },
  };
}

/** The child: what `trestle server` does, configured by the environment. */
async function main(argv: string[]): Promise<void> {
  const portAt = argv.indexOf('--port');
  const port = portAt >= 0 ? Number(argv[portAt + 1]) : 0;
  const quiet = argv.includes('--quiet');
  const { loadConfig } = await import('@trestle/core');
  const { startServer } = await import('@trestle/server');
  const running = await startServer({ config: loadConfig({}, process.env), host: '127.0.0.1', port, logger: !quiet });
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
  await running.closed;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
