/**
 * The `trestle` command in a new process, started the two ways a user starts it: from a clone
 * (`packages/cli/bin/trestle.js`, which registers tsx and runs the TypeScript sources) and from
 * the installed package (`npm run pack`'s tarballs installed in an empty folder, compiled
 * JavaScript, no tsx). Benchmarks time both, since issue 9's goals are "as the user runs it" and
 * the clone's launcher pays a few hundred milliseconds of start-up that an install does not.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installPacked, packWorkspace } from '../../scripts/pack.js';

/** A way to start the CLI: a script run by this Node (the one better-sqlite3's binding is built for). */
export interface Launcher {
  /** Short name for the rows, e.g. `clone launcher, tsx`. */
  name: string;
  /** Absolute path of the script `node` runs. */
  script: string;
}

/** The clone's launcher: `node packages/cli/bin/trestle.js`, tsx start-up included. */
export const CLONE_LAUNCHER: Launcher = {
  name: 'clone launcher, tsx',
  script: join(dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/trestle.js'),
};

/** The installed package's launcher and a cleanup that removes the install (~500 MB). */
export interface InstalledCli {
  launcher: Launcher;
  cleanup: () => Promise<void>;
}

/**
 * Packs the workspace and installs the tarballs into a temporary folder (as
 * `test/packaging.test.ts` does); `undefined`, with a line saying so, when `BENCH_PACKED=0`.
 * Run it before timing anything: the compile and install keep both cores busy for a minute.
 *
 * @example
 * const installed = await installedCli();
 * try { … runCli(installed.launcher, ['--version'], dir) … } finally { await installed?.cleanup(); }
 */
export async function installedCli(): Promise<InstalledCli | undefined> {
  if (process.env['BENCH_PACKED'] === '0') {
    console.log('installed package: skipped (BENCH_PACKED=0)');
    return undefined;
  }
  const work = mkdtempSync(join(tmpdir(), 'trestle-bench-packed-'));
  try {
    const t = performance.now();
    const { tarballs } = await packWorkspace({ out: join(work, 'pack') });
    const script = await installPacked(tarballs, join(work, 'app'));
    console.log(`installed package: packed and installed in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    return {
      launcher: { name: 'installed package', script },
      cleanup: () => rm(work, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The parent's environment without Trestle's or MLflow's settings: the command finds its
 * workspace and embedded store from its folder, as a user's does, and never logs to a
 * `TRESTLE_HOME` or server the benchmark happened to be started with.
 */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('TRESTLE_') && !key.startsWith('MLFLOW_')),
  );
}

/**
 * Runs `trestle ARGS` in `cwd` in a new process and returns its wall-clock seconds (start-up
 * included) and standard output; throws with the output when it exits non-zero.
 *
 * @example runCli(CLONE_LAUNCHER, ['data', 'status', '--json'], root).seconds // 0.61
 */
export function runCli(launcher: Launcher, args: readonly string[], cwd: string): { seconds: number; stdout: string } {
  const t = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [launcher.script, ...args], {
    cwd,
    env: userEnv(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (child.error !== undefined) throw child.error;
  if (child.status !== 0) {
    throw new Error(
      `trestle ${args.join(' ')} (${launcher.name}) exited with ${String(child.status ?? child.signal)}:\n${child.stdout}${child.stderr}`,
    );
  }
  return { seconds, stdout: child.stdout };
}
