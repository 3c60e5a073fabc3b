import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, lstatSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { TrestleError, type TrestleConfig } from '@trestle/core';
import type { Executor, RunSummary, StageResult } from '@trestle/pipelines/pipeline';
import { UsageError, type Command, type CommandContext } from '../framework/command.js';
import { formatDuration } from '../framework/output.js';
import { parsePositiveInt } from '../session.js';
import { workspaceConfig } from './pipeline-tracker.js';

const EXPERIMENT = 'quickstart-flights';

/** The repository root (this file is packages/cli/src/commands/quickstart.ts). */
const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../../../..');

/** The pipeline the quickstart runs: `examples/flights/` of the repository. */
export const QUICKSTART_EXAMPLE = join(REPO_ROOT, 'examples', 'flights');

const STATE: Record<StageResult['state'], string> = {
  ran: 'ran',
  unchanged: 'skipped (unchanged)',
  restored: 'restored from the cache',
  failed: 'FAILED',
  blocked: 'not run',
  'would-run': 'would run',
};

/**
 * `params.yaml` with `section.key` values replaced, comments and layout kept. The example's
 * file is two levels deep (`section:` then indented `key: value` lines), which is all this edits;
 * a key that is not there is a usage error naming the keys that are.
 */
function overrideParams(text: string, overrides: ReadonlyMap<string, string>): string {
  const lines = text.split('\n');
  const at = new Map<string, number>();
  let section: string | undefined;
  lines.forEach((line, i) => {
    const top = /^([\w-]+):\s*(#.*)?$/.exec(line);
    if (top !== null) section = top[1];
    const nested = /^\s+([\w-]+):/.exec(line);
    if (nested !== null && section !== undefined) at.set(`${section}.${nested[1]}`, i);
  });
  for (const [key, value] of overrides) {
    const i = at.get(key);
    if (i === undefined)
      throw new UsageError(
        `--set ${key}: examples/flights/params.yaml has no such key (it has ${[...at.keys()].join(', ')})`,
      );
    if (value === '' || /[#\n]/.test(value)) throw new UsageError(`--set ${key}: give a plain value, got '${value}'`);
    lines[i] = lines[i]!.replace(
      /^(\s+[\w-]+:\s*)([^#]*?)(\s*#.*)?$/,
      (_m, head: string, _old: string, comment?: string) => `${head}${value}${comment ?? ''}`,
    );
  }
  return lines.join('\n');
}

/**
 * Copies the example's files into the working folder, rewriting only those that differ (so
 * unchanged files keep their mtime and the stage cache's stat check stays cheap), and links
 * the repository's node_modules there so the stage scripts find tsx and the packages.
 */
async function syncExample(work: string, overrides: ReadonlyMap<string, string>): Promise<void> {
  await mkdir(work, { recursive: true });
  for (const entry of readdirSync(QUICKSTART_EXAMPLE, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    let text = readFileSync(join(QUICKSTART_EXAMPLE, entry.name), 'utf8');
    if (entry.name === 'params.yaml') text = overrideParams(text, overrides);
    const target = join(work, entry.name);
    if (!existsSync(target) || readFileSync(target, 'utf8') !== text) await writeFile(target, text);
  }
  const modules = join(work, 'node_modules');
  let linked = false;
  try {
    linked = lstatSync(modules).isSymbolicLink() || lstatSync(modules).isDirectory();
  } catch {
    linked = false;
  }
  if (!linked) symlinkSync(join(REPO_ROOT, 'node_modules'), modules, 'dir');
}

/**
 * Runs stage commands like the pipeline's local executor (`sh -c`, output to the log and line
 * by line to the caller), each in its own process group. On Ctrl-C or SIGTERM it passes the
 * signal to the stages and waits for them to stop (their SDK ends their runs KILLED, through
 * pipes still open: a stage whose reader died first would fail on EPIPE and end its run FAILED
 * instead), then lets this process end as it would have (the SDK ends the open runs KILLED).
 * A stage still running after {@link STAGE_STOP_MS} is killed, so none outlives the quickstart.
 */
function signalForwardingExecutor(): { executor: Executor; dispose(): void } {
  const children = new Set<ChildProcess>();
  let stopping: NodeJS.Signals | undefined;
  const signalGroups = (signal: NodeJS.Signals): void => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, signal);
      } catch {
        // already gone
      }
    }
  };
  const die = (): void => {
    dispose();
    process.kill(process.pid, stopping);
  };
  // Listening until the end: a second Ctrl-C (npm start delivers two) is passed on, not fatal.
  const onSignal = (signal: NodeJS.Signals): void => {
    signalGroups(signal);
    if (stopping !== undefined) return;
    stopping = signal;
    if (children.size === 0) return die();
    setTimeout(() => {
      process.stderr.write(`trestle: a stage did not stop within ${STAGE_STOP_MS / 1000} s; killing it\n`);
      signalGroups('SIGKILL');
      die();
    }, STAGE_STOP_MS);
  };
  const dispose = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const executor: Executor = {
    run: (proc) =>
      new Promise((done, fail) => {
        const log = createWriteStream(proc.log);
        const child = spawn('sh', ['-c', proc.stage.cmd], {
          cwd: proc.cwd,
          env: { ...process.env, ...proc.env },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        children.add(child);
        const carry = { out: '', err: '' };
        const lines = (chunk: Buffer, key: 'out' | 'err'): void => {
          log.write(chunk);
          const parts = (carry[key] + chunk.toString('utf8')).split('\n');
          carry[key] = parts.pop()!;
          for (const l of parts) proc.onLine(l);
        };
        child.stdout.on('data', (c: Buffer) => lines(c, 'out'));
        child.stderr.on('data', (c: Buffer) => lines(c, 'err'));
        child.on('error', fail);
        child.on('close', (code, signal) => {
          children.delete(child);
          // Stopping: the stage ended its run itself; end this process before the pipeline
          // records the stage (and so the pipeline run) as merely failed.
          if (stopping !== undefined) return children.size === 0 ? die() : undefined;
          for (const rest of [carry.out, carry.err]) if (rest !== '') proc.onLine(rest);
          log.end(() => done(code ?? (signal === null ? 1 : 128)));
        });
      }),
  };
  return { executor, dispose };
}

/** How long the stages get to stop after Ctrl-C before they are killed. */
const STAGE_STOP_MS = 15_000;

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

interface Outputs {
  metrics: Record<string, number> | undefined;
  gate: { passed: boolean; checks: { check: string; passed: boolean }[] } | undefined;
  registered: { name: string; version: number; source: string; aliases: string[] } | undefined;
  summary:
    | {
        read: number;
        train: { from: string; to: string; rows: number; lateRate: number };
        test: { from: string; to: string; rows: number; lateRate: number };
      }
    | undefined;
  model: { run?: { runId: string } } | undefined;
  /** The logistic regression's package (the baseline stage). */
  baseline: { run?: { runId: string } } | undefined;
}

const f4 = (v: number | undefined): string => (v === undefined ? '   -  ' : v.toFixed(4));
const pct = (v: number): string => `${(100 * v).toFixed(1)}% late`;

/** The closing text: the figures of the pipeline's outputs and what to do next. */
function report(
  summary: RunSummary,
  o: Outputs,
  work: string,
  store: string,
  pipelineRunId: string | undefined,
): string {
  const count = (s: StageResult['state']): number => summary.results.filter((r) => r.state === s).length;
  const skipped = count('unchanged');
  const m = o.metrics ?? {};
  const lines = [
    '',
    skipped === summary.results.length
      ? `Nothing to do: all ${skipped} stages skipped, nothing they depend on changed (--force reruns them).`
      : `${count('ran')} stage(s) ran, ${skipped} skipped (unchanged), ${count('restored')} restored from the cache in ${formatDuration(summary.durationMs)}.${pipelineRunId === undefined ? '' : ` Pipeline run ${pipelineRunId}.`}`,
  ];
  if (o.summary !== undefined) {
    const { train, test } = o.summary;
    lines.push(
      `Task: does a flight arrive more than 15 minutes late? Trained on ${train.rows.toLocaleString('en-US')} flights (${train.from} to ${train.to}, ${pct(train.lateRate)}),`,
      `tested on the ${test.rows.toLocaleString('en-US')} flights after them (${test.from} to ${test.to}, ${pct(test.lateRate)}):`,
    );
  }
  lines.push(
    '                 GBDT     logistic regression   always "on time"',
    `  test AUC       ${f4(m['test_auc'])}   ${f4(m['logistic_auc'])}                ${f4(m['baseline_auc'])}`,
    `  test accuracy  ${f4(m['test_accuracy'])}   ${f4(m['logistic_accuracy'])}                ${f4(m['baseline_accuracy'])}`,
    `  test log loss  ${f4(m['test_log_loss'])}   ${f4(m['logistic_log_loss'])}                ${f4(m['baseline_log_loss'])}   (always "on time": the training late rate for every flight)`,
  );
  if (o.gate !== undefined) {
    lines.push(
      `  gate           ${o.gate.passed ? 'passed' : 'FAILED'}: ${o.gate.checks.map((c) => `${c.passed ? '✓' : '✗'} ${c.check}`).join(', ')}`,
    );
  }
  if (o.registered !== undefined) {
    const r = o.registered;
    lines.push(
      `  registered     ${r.name} version ${r.version}${r.aliases.length > 0 ? ` (${r.aliases.map((a) => `@${a}`).join(', ')})` : ''} from ${r.source}`,
    );
  }
  lines.push(`  store          ${store}`, `  pipeline       ${work}`, '', 'Next:');
  const gbdtRun = o.model?.run?.runId;
  const logisticRun = o.baseline?.run?.runId;
  lines.push(
    '  npx trestle ui                                      runs, charts and the model in the browser',
    '  npx trestle runs list --experiment quickstart-flights',
    ...(gbdtRun !== undefined && logisticRun !== undefined
      ? [`  npx trestle runs compare ${gbdtRun} ${logisticRun}   the GBDT's run beside the logistic regression's`]
      : []),
    '  npx trestle models list                             the registry (flights-delay and its history)',
    '  npx trestle serve models:/flights-delay@champion    serve the champion over HTTP',
    '  edit examples/flights/params.yaml and npm start     only the stages whose inputs changed rerun',
  );
  return lines.join('\n');
}

/**
 * After the pipeline: serve the champion with a server beside it, send later flights (February
 * to June) as traffic, print what came back, then wait for Ctrl-C (or stop at once with `--exit`).
 */
async function demo(ctx: CommandContext, config: TrestleConfig, work: string, result: object): Promise<void> {
  const { startDemo, demoReport } = await import('../quickstart/demo.js');
  // Ctrl-C while the children start or run stops them (serve first) and ends the quickstart.
  // Listening (not once) until they are stopped: a terminal's Ctrl-C under `npm start` arrives
  // twice (the group's signal and tsx's relay), and a second one must not kill this process
  // halfway, leaving the server running on its own (each child is SIGKILLed after 15 s anyway).
  let interrupted: (() => void) | undefined;
  const signalled = new Promise<void>((done) => (interrupted = done));
  const onSignal = (): void => interrupted?.();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const started = startDemo({ config, work, requests: DEMO_REQUESTS, info: (l) => ctx.out.info(l) });
    const running = await Promise.race([started, signalled.then(() => undefined)]);
    if (running === undefined) {
      await (await started.catch(() => undefined))?.stop();
      return;
    }
    try {
      if (ctx.out.json) ctx.out.result({ ...result, demo: running.result }, () => '');
      else ctx.out.result(running.result, () => demoReport(running.result));
      if (ctx.values['exit'] !== true) {
        ctx.out.info('\nThe server and the model keep running. Press Ctrl-C to stop both.');
        await signalled;
        ctx.out.info('Stopping trestle serve and trestle server…');
      }
    } finally {
      await running.stop();
    }
    if (ctx.values['exit'] !== true) ctx.out.info('Stopped.');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Flights of data/traffic.csv the demo sends as traffic, one request each. */
const DEMO_REQUESTS = 300;

/**
 * `trestle quickstart`: the whole loop on real data as a pipeline. It runs
 * `examples/flights/trestle.yaml` (prepare → train and baseline → evaluate → register) in a working copy
 * under the Trestle folder (`.trestle/quickstart/`), tracked in the configured store; a second
 * run skips every stage whose inputs did not change.
 */
export const quickstart: Command = {
  name: 'quickstart',
  summary:
    'Run the flights pipeline (train a GBDT and a logistic baseline on 622,708 real US flights, evaluate, register), then serve it',
  description: [
    'Runs the pipeline of examples/flights (trestle.yaml) in a working copy under the Trestle folder',
    '(.trestle/quickstart/, or $TRESTLE_HOME/quickstart/): prepare reads the flights departing',
    "January – June 2001 from vega-datasets' flights-3m.parquet and writes January as the training",
    'table, 1–7 February as the test table and 3,000 flights of February – June as the demo traffic; train fits a histogram GBDT to predict',
    'whether a flight ARRIVES more than 15 minutes late (hour, weekday, distance, origin, destination)',
    'and logs the run with the model; baseline fits a logistic regression on the same features and',
    'rows beside it (a run to compare with: trestle runs compare); evaluate scores the GBDT beside it',
    'and the always-"on time" baseline and applies a gate; register makes the GBDT the next version',
    "of 'flights-delay' and, if the gate passed, its @champion. The pipeline is tracked as a run with",
    'a child run per stage. Stages whose inputs did not change are skipped, so running it again is',
    'quick. Edit examples/flights and rerun.',
    'Then it starts trestle server on the same store and trestle serve models:/flights-delay@champion',
    '(free ports), sends 300 flights of data/traffic.csv (February to June, in time order) as traffic,',
    'feeds the real delays back as late labels, prints predictions beside what happened, what',
    'monitoring found and the URLs to try, and keeps both running until Ctrl-C (--exit: stop at once).',
  ].join('\n'),
  options: {
    exit: { type: 'boolean', description: 'stop when the demo is done (for scripts and tests)' },
    experiment: { type: 'string', valueName: 'NAME', description: `experiment to log to (default ${EXPERIMENT})` },
    set: {
      type: 'string',
      valueName: 'KEY=VALUE',
      multiple: true,
      description: 'override a parameter of examples/flights/params.yaml for this run (e.g. train.rounds=50)',
    },
    rows: {
      type: 'string',
      valueName: 'N',
      description: 'keep at most N flights of each window, evenly spaced (a quick run; default all)',
    },
    force: { type: 'boolean', description: 'run every stage, even unchanged ones' },
  },
  positionals: { max: 0 },
  async run(ctx) {
    const started = performance.now();
    const experiment = typeof ctx.values['experiment'] === 'string' ? ctx.values['experiment'] : EXPERIMENT;
    const overrides = new Map<string, string>();
    for (const kv of (ctx.values['set'] as string[] | undefined) ?? []) {
      const at = kv.indexOf('=');
      if (at <= 0) throw new UsageError(`--set expects KEY=VALUE (e.g. train.rounds=50), got '${kv}'`);
      overrides.set(kv.slice(0, at).trim(), kv.slice(at + 1).trim());
    }
    if (ctx.values['rows'] !== undefined)
      overrides.set('prepare.max_rows', String(parsePositiveInt(ctx.values['rows'], 'rows', 0)));
    const config = workspaceConfig(ctx.config, process.cwd());
    const work = join(resolve(config.home), 'quickstart');
    await syncExample(work, overrides);
    ctx.out.info(`Running the pipeline ${join('examples', 'flights', 'trestle.yaml')} in ${work}`);

    const { DataRepo } = await import('@trestle/pipelines');
    const { buildGraph, loadPipeline, pipelineFile, runPipeline, failureMessage } =
      await import('@trestle/pipelines/pipeline');
    const { Trestle } = await import('@trestle/client');
    const { RunTracker } = await import('./pipeline-tracker.js');
    const graph = buildGraph(loadPipeline(pipelineFile(work, undefined)));
    const repo = new DataRepo({ root: work, home: join(work, '.trestle') });
    const trestle = await Trestle.connect({ config, create: true });
    const tracker = new RunTracker(() => Promise.resolve(trestle), config, work, experiment);
    const forwarding = signalForwardingExecutor();
    const executor = forwarding.executor;
    let closed = false;
    try {
      const summary = await runPipeline({
        graph,
        repo,
        jobs: availableParallelism(),
        force: ctx.values['force'] === true,
        tracker,
        executor,
        onEvent: (e) => {
          if (e.type === 'start') ctx.out.info(`▶ ${e.stage}`);
          else if (e.result !== undefined) {
            const r = e.result;
            ctx.out.info(
              `${r.state === 'failed' ? '✗' : r.state === 'blocked' ? '·' : '✓'} ${e.stage}: ${STATE[r.state]} (${r.reason}${r.state === 'ran' ? `, ${formatDuration(r.durationMs)}` : ''})`,
            );
            if (r.state === 'failed' && (r.tail?.length ?? 0) > 0)
              ctx.out.info(`  last lines of ${r.log ?? 'its output'}:\n${r.tail!.map((l) => `  | ${l}`).join('\n')}`);
          }
        },
        onLine: (stage, line) => ctx.out.info(`  [${stage}] ${line}`),
      });
      const failure = failureMessage(summary);
      if (failure !== undefined) {
        const failed = summary.results.find((r) => r.state === 'failed');
        throw new TrestleError(
          'FAILED_PRECONDITION',
          `the quickstart's stage '${failed?.stage ?? '?'}' failed: ${failed?.reason ?? failure} (log: ${join(work, failed?.log ?? '.trestle/logs')}); run the quickstart again to resume from there`,
        );
      }
      const outputs: Outputs = {
        metrics: readJson(join(work, 'metrics.json')),
        gate: readJson(join(work, 'gate.json')),
        registered: readJson(join(work, 'registered.json')),
        summary: readJson(join(work, 'data', 'summary.json')),
        model: readJson(join(work, 'model', 'trestle-model.json')),
        baseline: readJson(join(work, 'baseline', 'trestle-model.json')),
      };
      const store = config.trackingUri ?? config.db;
      const result = {
        runId: tracker.runId,
        experiment,
        workdir: work,
        stages: summary.results.map((r) => ({ stage: r.stage, state: r.state, reason: r.reason, ms: r.durationMs })),
        trainRunId: outputs.model?.run?.runId,
        baselineRunId: outputs.baseline?.run?.runId,
        metrics: outputs.metrics,
        gate: outputs.gate,
        registered: outputs.registered,
        rows:
          outputs.summary === undefined
            ? undefined
            : { read: outputs.summary.read, train: outputs.summary.train.rows, test: outputs.summary.test.rows },
        store,
        seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      };
      const text = (): string => report(summary, outputs, work, store, tracker.runId);
      if (!ctx.out.json) ctx.out.result(result, text);
      forwarding.dispose();
      await repo.close();
      await trestle.close();
      closed = true;
      if (outputs.registered?.aliases.includes('champion') !== true) {
        ctx.out.info('No @champion (the gate did not pass): nothing to serve.');
        if (ctx.out.json) ctx.out.result(result, text);
        return;
      }
      await demo(ctx, config, work, result);
    } finally {
      if (!closed) {
        forwarding.dispose();
        await repo.close();
        await trestle.close();
      }
    }
  },
};
