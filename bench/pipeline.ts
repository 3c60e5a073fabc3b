/**
 * Pipeline engine benchmark (`npm run bench -- pipeline`): 100 stages of no-op commands
 * (10 chains of 10, each stage writing one small output), in a temporary workspace:
 *
 *  - cold: the first run, every stage runs; reported beyond the commands themselves (the
 *    same 100 commands run by a plain loop of `sh -c`, `jobs` at a time);
 *  - fully cached: the second run, every stage skipped.
 *
 * Goals (issue 9): cold ≤ 3 s beyond the commands, cached ≤ 0.5 s. Prints figures; never asserts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataRepo } from '../packages/pipelines/src/index.js';
import { buildGraph, loadPipeline, runPipeline } from '../packages/pipelines/src/pipeline/index.js';

const CHAINS = 10;
const LENGTH = 10;

function sh(cmd: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    spawn('sh', ['-c', cmd], { cwd, stdio: 'ignore' })
      .on('close', () => resolve())
      .on('error', reject);
  });
}

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'trestle-bench-pipeline-'));
  const jobs = availableParallelism();
  try {
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
    console.log(`pipeline: ${CHAINS * LENGTH} stages (${CHAINS} chains of ${LENGTH}), ${jobs} jobs\n`);
    console.log(`${'the 100 commands alone'.padEnd(40)} ${bare.toFixed(2).padStart(7)} s`);
    console.log(
      `${'cold run'.padEnd(40)} ${cold.toFixed(2).padStart(7)} s   overhead ${(cold - bare).toFixed(2)} s (goal ≤ 3 s)`,
    );
    console.log(`${'fully cached run'.padEnd(40)} ${cached.toFixed(2).padStart(7)} s   (goal ≤ 0.5 s)`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
