/**
 * Pipeline engine benchmark (`npm run bench -- pipeline`): 100 stages of no-op commands
 * (10 chains of 10, each stage writing one small output), in a temporary workspace:
 *
 *  - in process (`runPipeline`, no tracking, no CLI start-up): cold, the first run, every stage
 *    runs, reported beyond the commands themselves (the same 100 commands run by a plain loop of
 *    `sh -c`, `jobs` at a time); fully cached, the second run, every stage skipped;
 *  - as the user runs it: `trestle run --quiet` in a new process (start-up and tracking into the
 *    workspace's embedded store included), cold (after removing `out/`, `trestle.lock` and
 *    `.trestle`, so every stage runs and the store is created) beyond the same commands, and
 *    fully cached (best of 3), through each launcher: the clone's (`packages/cli/bin/trestle.js`,
 *    tsx) and the installed package (`npm run pack`'s tarballs installed in a temporary folder
 *    first, compiled JavaScript, no tsx; `BENCH_PACKED=0` skips it).
 *
 * Goals (issue 9): cold ≤ 3 s beyond the commands, cached ≤ 0.5 s. Prints figures; never asserts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataRepo } from '../packages/pipelines/src/index.js';
import { buildGraph, loadPipeline, runPipeline } from '../packages/pipelines/src/pipeline/index.js';
import { loadAverages } from './support/load.js';
import { CLONE_LAUNCHER, installedCli, runCli, type Launcher } from './support/installed-cli.js';

const CHAINS = 10;
const LENGTH = 10;
const STAGES = CHAINS * LENGTH;

function sh(cmd: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    spawn('sh', ['-c', cmd], { cwd, stdio: 'ignore' })
      .on('close', () => resolve())
      .on('error', reject);
  });
}

function row(name: string, took: number, note: string): void {
  console.log(`${name.padEnd(52)} ${took.toFixed(2).padStart(7)} s   ${note}`);
}

/** Writes the 100-stage `trestle.yaml` into `root` and returns the stages' commands in order. */
function writePipeline(root: string): string[] {
  let yaml = 'stages:\n';
  const cmds: string[] = [];
  for (let c = 0; c < CHAINS; c++) {
    for (let i = 0; i < LENGTH; i++) {
      const cmd = `mkdir -p out && echo ${c}-${i} > out/c${c}s${i}.txt`;
      cmds.push(cmd);
      yaml += `  c${c}s${i}:\n    cmd: ${cmd}\n${i > 0 ? `    deps: [out/c${c}s${i - 1}.txt]\n` : ''}    outs: [out/c${c}s${i}.txt]\n`;
    }
  }
  writeFileSync(join(root, 'trestle.yaml'), yaml);
  return cmds;
}

/** Forgets every earlier run in `root`: outputs, the lock file and `.trestle` (cache and store). */
function reset(root: string): void {
  for (const path of ['out', 'trestle.lock', '.trestle']) rmSync(join(root, path), { recursive: true, force: true });
}

/** One `trestle run --quiet` in `root`; says so when it did not run (or skip) every stage. */
function trestleRun(launcher: Launcher, root: string, expect: 'ran' | 'skipped'): number {
  const { seconds, stdout } = runCli(launcher, ['run', '--quiet'], root);
  const counts = /(\d+) ran, (\d+) skipped/.exec(stdout);
  const done = expect === 'ran' ? counts?.[1] : counts?.[2];
  if (done !== String(STAGES))
    console.log(`  (trestle run did not say ${STAGES} ${expect}: ${stdout.trim().split('\n').pop() ?? ''})`);
  return seconds;
}

/** The CLI rows of one launcher: cold beyond the bare commands, and fully cached (best of 3). */
function cliRows(launcher: Launcher, root: string, bare: number): void {
  reset(root);
  const cold = trestleRun(launcher, root, 'ran');
  let cached = Infinity;
  for (let i = 0; i < 3; i++) cached = Math.min(cached, trestleRun(launcher, root, 'skipped'));
  row(`cold trestle run (${launcher.name})`, cold, `overhead ${(cold - bare).toFixed(2)} s (goal ≤ 3 s)`);
  row(`fully cached trestle run (${launcher.name})`, cached, '(goal ≤ 0.5 s)');
}

export async function run(): Promise<void> {
  // Packed and installed before anything is timed: the compile keeps both cores busy.
  const installed = await installedCli();
  const root = mkdtempSync(join(tmpdir(), 'trestle-bench-pipeline-'));
  const jobs = availableParallelism();
  try {
    const cmds = writePipeline(root);
    // The commands alone, `jobs` at a time, in the same order.
    const t0 = performance.now();
    for (let i = 0; i < cmds.length; i += jobs) await Promise.all(cmds.slice(i, i + jobs).map((c) => sh(c, root)));
    const bare = (performance.now() - t0) / 1000;
    rmSync(join(root, 'out'), { recursive: true, force: true });

    const once = async (): Promise<number> => {
      const repo = new DataRepo({ root });
      const t = performance.now();
      const s = await runPipeline({ graph: buildGraph(loadPipeline(join(root, 'trestle.yaml'))), repo, jobs });
      const took = (performance.now() - t) / 1000;
      await repo.close();
      if (!s.ok) throw new Error('the benchmark pipeline failed');
      return took;
    };
    const cold = await once();
    const cached = await once();
    console.log(
      `pipeline: ${STAGES} stages (${CHAINS} chains of ${LENGTH}), ${jobs} jobs; load average ${loadAverages()}\n`,
    );
    console.log(`${'the 100 commands alone'.padEnd(52)} ${bare.toFixed(2).padStart(7)} s`);
    row('cold run, in process', cold, `overhead ${(cold - bare).toFixed(2)} s (goal ≤ 3 s)`);
    row('fully cached run, in process', cached, '(goal ≤ 0.5 s)');
    cliRows(CLONE_LAUNCHER, root, bare);
    if (installed === undefined)
      console.log(`${'trestle run (installed package)'.padEnd(52)} skipped (BENCH_PACKED=0)`);
    else cliRows(installed.launcher, root, bare);
    console.log(`\nload average ${loadAverages()}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
    await installed?.cleanup();
  }
}
