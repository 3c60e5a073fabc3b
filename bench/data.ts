/**
 * Data versioning benchmark (`npm run bench -- data`), in a temporary workspace:
 *
 *  a. hashing one big file (default 2 GB, `BENCH_BIG_MB`) with `trestle data add`'s hasher
 *     against `sha256sum` over the same bytes, in the same run;
 *  b. hashing a folder of many small files (default 100,000 × 10 KB, `BENCH_FILES`): ours on
 *     every core against `sha256sum` on one core (xargs, batches of 1,000 files);
 *  c. `data status` on the unchanged folder once it is tracked (stat only): in process, and as
 *     the user runs it, `trestle data status --json` in a new process (start-up included, best
 *     of 3) through each launcher: the clone's (`packages/cli/bin/trestle.js`, tsx) and the
 *     installed package (`npm run pack`'s tarballs installed in a temporary folder first,
 *     compiled JavaScript, no tsx).
 *
 * `BENCH_BIG_MB=0` skips a, `BENCH_PACKED=0` the installed package; the load average is printed
 * before and after, since the machine may be shared (ratios to sha256sum in the same run are the
 * figures to compare then).
 *
 * Goals (issue 9): ≥ 1.5× sha256sum on the many-file folder, ≥ 0.9× on the big file,
 * status ≤ 1 s end to end. Prints figures; never asserts.
 */
import { execFileSync, execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataRepo } from '../packages/pipelines/src/index.js';
import { loadAverages } from './support/load.js';
import { CLONE_LAUNCHER, installedCli, runCli, type Launcher } from './support/installed-cli.js';

const BIG_MB = Number(process.env['BENCH_BIG_MB'] ?? 2048);
const FILES = Number(process.env['BENCH_FILES'] ?? 100_000);
const FILE_BYTES = 10 * 1024;

function seconds(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function secondsAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function row(name: string, value: string, goal = ''): void {
  console.log(`${name.padEnd(60)} ${value.padStart(16)}  ${goal}`);
}

/** Best of 3 `trestle data status --json` in `root`, saying so if the folder is not 'unchanged'. */
function statusInNewProcess(launcher: Launcher, root: string): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const { seconds: took, stdout } = runCli(launcher, ['data', 'status', '--json'], root);
    best = Math.min(best, took);
    const states = (JSON.parse(stdout) as { data: { state: string }[] }).data.map((d) => d.state).join(',');
    if (states !== 'unchanged') console.log(`  (trestle data status said '${states}', not 'unchanged')`);
  }
  return best;
}

async function bigFile(root: string, repo: DataRepo): Promise<void> {
  const big = join(root, 'big.bin');
  const fd = openSync(big, 'w');
  const block = randomBytes(8 * 1024 * 1024);
  for (let mb = 0; mb < BIG_MB; mb += 8) writeSync(fd, block, 0, Math.min(8, BIG_MB - mb) * 1024 * 1024);
  closeSync(fd);
  execSync(`cat ${big} > /dev/null`); // same page-cache state for both
  const refBig = seconds(() => execFileSync('sha256sum', [big]));
  const oursBig = await secondsAsync(() => repo.hashPath(big));
  row('big file: sha256sum (1 core)', `${(BIG_MB / refBig).toFixed(0)} MB/s`);
  row(
    'big file: trestle',
    `${(BIG_MB / oursBig).toFixed(0)} MB/s`,
    `ratio ${(refBig / oursBig).toFixed(2)}× (goal ≥ 0.9×)`,
  );
  rmSync(big);
}

export async function run(): Promise<void> {
  // Packed and installed before anything is timed: the compile keeps both cores busy.
  const installed = await installedCli();
  const root = mkdtempSync(join(tmpdir(), 'trestle-bench-data-'));
  try {
    console.log(
      `data versioning: ${availableParallelism()} cores; big file ${BIG_MB} MB; ${FILES.toLocaleString()} files of 10 KB; load average ${loadAverages()}\n`,
    );
    const repo = new DataRepo({ root });
    if (BIG_MB > 0) await bigFile(root, repo);
    // b. many small files
    const dir = join(root, 'files');
    for (let i = 0; i < FILES; i += 1000) {
      const sub = join(dir, String(i / 1000).padStart(3, '0'));
      mkdirSync(sub, { recursive: true });
      for (let j = i; j < Math.min(FILES, i + 1000); j++)
        writeFileSync(join(sub, `f${j}.bin`), randomBytes(FILE_BYTES));
    }
    execSync(`find ${dir} -type f -print0 | xargs -0 cat > /dev/null`);
    const refMany = seconds(() => execSync(`find ${dir} -type f -print0 | xargs -0 -n 1000 sha256sum > /dev/null`));
    const oursMany = await secondsAsync(() => repo.hashPath(dir));
    row('many files: sha256sum (1 core)', `${Math.round(FILES / refMany).toLocaleString()} files/s`);
    row(
      'many files: trestle (all cores)',
      `${Math.round(FILES / oursMany).toLocaleString()} files/s`,
      `ratio ${(refMany / oursMany).toFixed(2)}× (goal ≥ 1.5×)`,
    );

    // c. status on the unchanged, tracked folder
    await repo.add([dir], root);
    const pointer = join(root, 'files.trestle');
    const status = await secondsAsync(() => repo.status([pointer]));
    row('data status, unchanged folder, in process', `${status.toFixed(2)} s`);
    await repo.close();
    const clone = statusInNewProcess(CLONE_LAUNCHER, root);
    row('trestle data status, unchanged folder (new process)', `${clone.toFixed(2)} s`, `goal ≤ 1 s`);
    const name = 'trestle data status, unchanged folder (installed package)';
    if (installed === undefined) row(name, 'skipped', 'BENCH_PACKED=0');
    else row(name, `${statusInNewProcess(installed.launcher, root).toFixed(2)} s`, `goal ≤ 1 s`);
    console.log(`\nload average ${loadAverages()}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
    await installed?.cleanup();
  }
}
