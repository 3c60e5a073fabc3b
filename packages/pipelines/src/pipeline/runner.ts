import { availableParallelism } from 'node:os';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DataRepo, PathVersion } from '../data/data-repo.js';
import { sha256Hex } from '../data/tree.js';
import type { Stage } from './definition.js';
import { selectStages, type PipelineGraph } from './graph.js';
import {
  readLockFile,
  writeLockFile,
  type WrittenLock,
  LOCK_FILE,
  type LockFile,
  type LockedPath,
  type LockedStage,
} from './lockfile.js';
import { RepoLock } from './repo-lock.js';
import { rememberParsed } from './yaml-file.js';

/** What happened to a stage. */
export type StageState = 'unchanged' | 'restored' | 'ran' | 'failed' | 'blocked' | 'would-run';

/** The outcome of one stage. */
export interface StageResult {
  stage: string;
  state: StageState;
  /** Why it ran, was skipped or failed, in words. */
  reason: string;
  durationMs: number;
  key?: string;
  /** The stage's log (relative to the root) when it ran. */
  log?: string;
  /** Last lines of the log of a failed stage. */
  tail?: string[];
  /** Metrics read from the stage's metrics files (flattened keys). */
  metrics?: Record<string, number>;
  /** The versions of its dependencies it was keyed on (as far as they were hashed). */
  deps?: LockedPath[];
  outs?: LockedPath[];
}

/** A running stage's process, as an executor sees it. */
export interface StageProcess {
  stage: Stage;
  /** Absolute working directory. */
  cwd: string;
  env: Record<string, string>;
  /** Absolute log file. */
  log: string;
  /** The versions of the stage's dependencies it was keyed on. */
  deps: LockedPath[];
  onLine(line: string): void;
}

/** Runs a stage's command somewhere; resolves with its exit code. */
export interface Executor {
  run(proc: StageProcess): Promise<number>;
}

/** Hooks that record a pipeline run (the CLI logs them as tracked runs). */
export interface PipelineTracker {
  /** Environment for every stage (tracking URI and the like). */
  start(stages: readonly Stage[]): Promise<Record<string, string>>;
  /** Starts the stage's run; returns extra environment for its process (its run id). */
  stageStarted(stage: Stage, params: Record<string, Record<string, unknown>>): Promise<Record<string, string>>;
  stageEnded(stage: Stage, result: StageResult): Promise<void>;
  end(ok: boolean): Promise<void>;
}

/** Options of {@link runPipeline}. */
export interface RunOptions {
  graph: PipelineGraph;
  repo: DataRepo;
  /** Stage names to run (with what they depend on); all when empty. */
  targets?: readonly string[];
  /** Run only the named stages, not what they depend on (their inputs must be in place). */
  noDeps?: boolean;
  /** Stages at a time; default the number of cores. */
  jobs?: number;
  /** Run even stages whose key is unchanged. */
  force?: boolean;
  /** Only say what would run. */
  dryRun?: boolean;
  executor?: Executor;
  tracker?: PipelineTracker;
  onEvent?: (event: { type: 'start' | 'end'; stage: string; result?: StageResult }) => void;
  onLine?: (stage: string, line: string) => void;
  onWaitForLock?: (pid: number) => void;
}

/** What {@link runPipeline} did. */
export interface RunSummary {
  ok: boolean;
  results: StageResult[];
  durationMs: number;
}

const TAIL_LINES = 20;

/** Runs commands with `sh -c` as child processes of this one. */
export const localExecutor: Executor = {
  run(proc) {
    return new Promise((resolvePromise, reject) => {
      const log = createWriteStream(proc.log);
      const child = spawn('sh', ['-c', proc.stage.cmd], {
        cwd: proc.cwd,
        env: { ...process.env, ...proc.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines = (chunk: Buffer, carry: { rest: string }): void => {
        log.write(chunk);
        const text = carry.rest + chunk.toString('utf8');
        const parts = text.split('\n');
        carry.rest = parts.pop()!;
        for (const l of parts) proc.onLine(l);
      };
      const out = { rest: '' };
      const err = { rest: '' };
      child.stdout.on('data', (c: Buffer) => lines(c, out));
      child.stderr.on('data', (c: Buffer) => lines(c, err));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        for (const c of [out, err]) if (c.rest !== '') proc.onLine(c.rest);
        log.end(() => resolvePromise(code ?? (signal === null ? 1 : 128)));
      });
    });
  },
};

function stageKey(stage: Stage, deps: LockedPath[], params: Record<string, Record<string, unknown>>): string {
  return sha256Hex(
    JSON.stringify({
      cmd: stage.cmd,
      wdir: stage.wdir,
      deps: deps.map((d) => [d.path, d.sha256]),
      params,
      outs: stage.outs,
    }),
  );
}

function locked(path: string, v: PathVersion): LockedPath {
  return { path, kind: v.kind, sha256: v.sha256, size: v.size, files: v.files };
}

/** Flattens a metrics file (`{ "eval": { "auc": 0.6 } }` → `eval.auc`), keeping numbers. */
export function flattenMetrics(value: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof value === 'number' && Number.isFinite(value)) out[prefix] = value;
  else if (typeof value === 'boolean') out[prefix] = value ? 1 : 0;
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenMetrics(v, prefix === '' ? k : `${prefix}.${k}`, out);
  }
  return out;
}

function readMetrics(root: string, files: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of files) {
    try {
      flattenMetrics(JSON.parse(readFileSync(join(root, f), 'utf8')), '', out);
    } catch {
      // not JSON: nothing to log (the file is still an output)
    }
  }
  return out;
}

/** The stage cache: for each stage key seen before, the outputs it produced. */
class RunCache {
  constructor(readonly dir: string) {}
  #file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key.slice(2)}.json`);
  }
  async get(key: string): Promise<LockedPath[] | undefined> {
    try {
      return (JSON.parse(await readFile(this.#file(key), 'utf8')) as { outs: LockedPath[] }).outs;
    } catch {
      return undefined;
    }
  }
  async put(key: string, outs: LockedPath[]): Promise<void> {
    const f = this.#file(key);
    await mkdir(dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ outs }));
    await rename(tmp, f);
  }
}

/**
 * Runs a pipeline: stages in dependency order, independent ones in parallel (`jobs` at a
 * time). A stage whose key (command, dependency hashes, parameter values, output paths) is
 * the one in `trestle.lock` and whose outputs are in place is skipped; a key seen before
 * restores its outputs from the cache without running, except for a stage with a
 * `cache: false` output (its effects are not all in its outputs: it runs again) and an
 * `always_changed` stage (runs every time). A failing stage stops its dependents
 * and keeps every completed output and the lock entries of completed stages, so the next run
 * resumes from the failure. One run at a time per workspace (a second one waits).
 */
export async function runPipeline(options: RunOptions): Promise<RunSummary> {
  const { graph, repo } = options;
  const root = graph.pipeline.root;
  const started = Date.now();
  const stages = selectStages(graph, options.targets ?? [], { upstream: options.noDeps !== true });
  const selected = new Set(stages.map((s) => s.name));
  const jobs = Math.max(1, options.jobs ?? availableParallelism());
  const executor = options.executor ?? localExecutor;
  const lockPath = join(dirname(graph.pipeline.file), LOCK_FILE);
  const repoLock =
    options.dryRun === true
      ? undefined
      : await RepoLock.acquire(join(repo.home, 'pipeline.lock'), options.onWaitForLock);
  try {
    const lock: LockFile = await readLockFile(lockPath);
    const runCache = new RunCache(join(repo.home, 'runs'));
    const env = options.tracker === undefined || options.dryRun === true ? {} : await options.tracker.start(stages);
    const results = new Map<string, StageResult>();
    const willRun = new Set<string>(); // dry run: stages that would run (so their dependents would too)
    // Writes are serialised and coalesced: a write that has not started yet takes every entry
    // set before it starts, so stages finishing together cost one write, not one each (writing
    // a 100-stage lock file a hundred times was a quarter of a cold run's CPU).
    let lockWrite = Promise.resolve();
    let nextWrite: Promise<void> | undefined;
    let written: WrittenLock | undefined; // the last write, whose parsed form is remembered at the end
    const saveLock = (name: string, entry: LockedStage): Promise<void> => {
      lock.stages[name] = entry;
      nextWrite ??= lockWrite = lockWrite.then(async () => {
        nextWrite = undefined;
        written = await writeLockFile(lockPath, lock);
      });
      return nextWrite;
    };

    const runOne = async (stage: Stage): Promise<StageResult> => {
      const t0 = Date.now();
      const deps: LockedPath[] = [];
      const done = (r: Omit<StageResult, 'stage' | 'durationMs' | 'deps'>): StageResult => ({
        stage: stage.name,
        durationMs: Date.now() - t0,
        deps,
        ...r,
      });
      const params = graph.params.get(stage.name) ?? {};
      if (options.dryRun === true && [...graph.upstream.get(stage.name)!].some((u) => willRun.has(u))) {
        willRun.add(stage.name);
        return done({ state: 'would-run', reason: 'an upstream stage would run' });
      }
      for (const d of stage.deps) {
        const abs = join(root, d);
        if (!existsSync(abs)) {
          return done({ state: 'failed', reason: `its dependency '${d}' does not exist`, tail: [] });
        }
        deps.push(locked(d, await repo.hashPath(abs)));
      }
      const key = stageKey(stage, deps, params);
      const prev = lock.stages[stage.name];
      const uncached = new Set(stage.uncached);
      // DVC's rule: a stage with an output it does not cache (or that always runs) has effects
      // beyond its cached outputs, so a key seen before is no reason not to run it.
      const useRunCache = uncached.size === 0 && !stage.alwaysChanged;
      if (options.force !== true && !stage.alwaysChanged) {
        if (prev?.key === key) {
          const stale = [];
          for (const o of prev.outs) {
            const abs = join(root, o.path);
            if (!existsSync(abs) || (await repo.hashPath(abs)).sha256 !== o.sha256) stale.push(o);
          }
          if (stale.length === 0)
            return done({ state: 'unchanged', reason: 'nothing it depends on changed', key, outs: prev.outs });
          if (options.dryRun !== true && stale.every((o) => !uncached.has(o.path) && repo.cache.has(o.sha256))) {
            for (const o of stale) await repo.restore(join(root, o.path), o, { force: true });
            return done({
              state: 'restored',
              reason: `outputs changed or missing (${stale.map((o) => o.path).join(', ')}); restored from the cache`,
              key,
              outs: prev.outs,
            });
          }
        }
        const cached = useRunCache ? await runCache.get(key) : undefined;
        if (cached !== undefined && cached.every((o) => repo.cache.has(o.sha256))) {
          if (options.dryRun === true)
            return done({ state: 'restored', reason: 'seen before: would restore from the cache', key });
          for (const o of cached) await repo.restore(join(root, o.path), o, { force: true });
          await saveLock(stage.name, { cmd: stage.cmd, key, deps, params, outs: cached });
          return done({
            state: 'restored',
            reason: 'this exact run was done before; outputs restored from the cache',
            key,
            outs: cached,
          });
        }
      }
      const why =
        options.force === true
          ? 'forced'
          : stage.alwaysChanged
            ? 'always_changed: it runs every time'
            : prev === undefined
              ? 'never ran'
              : prev.cmd !== stage.cmd
                ? 'its command changed'
                : 'a dependency or parameter changed';
      if (options.dryRun === true) {
        willRun.add(stage.name);
        return done({ state: 'would-run', reason: why, key });
      }
      options.onEvent?.({ type: 'start', stage: stage.name });
      for (const o of stage.outs) {
        await rm(join(root, o), { recursive: true, force: true });
        await mkdir(dirname(join(root, o)), { recursive: true });
      }
      const logDir = join(repo.home, 'logs');
      await mkdir(logDir, { recursive: true });
      const log = join(logDir, `${stage.name.replace(/[^\w.@-]/g, '_')}.log`);
      const stageEnv = options.tracker === undefined ? {} : await options.tracker.stageStarted(stage, params);
      const tail: string[] = [];
      const code = await executor.run({
        stage,
        cwd: join(root, stage.wdir),
        env: { ...env, ...stageEnv, TRESTLE_STAGE: stage.name },
        log,
        deps,
        onLine: (line) => {
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          options.onLine?.(stage.name, line);
        },
      });
      const logRel = repo.rel(log);
      if (code !== 0)
        return done({ state: 'failed', reason: `'${stage.cmd}' exited with code ${code}`, key, log: logRel, tail });
      const missing = stage.outs.filter((o) => !existsSync(join(root, o)));
      if (missing.length > 0) {
        return done({
          state: 'failed',
          reason: `it did not write its output${missing.length > 1 ? 's' : ''} '${missing.join("', '")}'`,
          key,
          log: logRel,
          tail,
        });
      }
      const outs: LockedPath[] = [];
      for (const o of stage.outs) {
        const abs = join(root, o);
        const v = await repo.hashPath(abs);
        if (!uncached.has(o)) await repo.commit(abs, v);
        outs.push(locked(o, v));
      }
      if (useRunCache) await runCache.put(key, outs);
      await saveLock(stage.name, { cmd: stage.cmd, key, deps, params, outs });
      return done({ state: 'ran', reason: why, key, log: logRel, outs, metrics: readMetrics(root, stage.metrics) });
    };

    // A small scheduler: start every stage whose upstream stages are done, `jobs` at a time.
    const pending = new Set(stages.map((s) => s.name));
    const running = new Map<string, Promise<void>>();
    const byName = new Map(stages.map((s) => [s.name, s]));
    const finish = async (stage: Stage, result: StageResult): Promise<void> => {
      results.set(stage.name, result);
      if (result.state === 'failed') {
        const block = (n: string): void => {
          for (const d of graph.downstream.get(n) ?? []) {
            if (!pending.has(d)) continue;
            pending.delete(d);
            results.set(d, { stage: d, state: 'blocked', reason: `'${stage.name}' failed`, durationMs: 0 });
            options.onEvent?.({ type: 'end', stage: d, result: results.get(d)! });
            block(d);
          }
        };
        block(stage.name);
      }
      if (
        options.tracker !== undefined &&
        options.dryRun !== true &&
        (result.state === 'ran' || result.state === 'failed')
      ) {
        await options.tracker.stageEnded(stage, result);
      }
      options.onEvent?.({ type: 'end', stage: stage.name, result });
    };
    while (pending.size > 0 || running.size > 0) {
      for (const name of [...pending]) {
        if (running.size >= jobs) break;
        const ups = [...graph.upstream.get(name)!].filter((u) => selected.has(u));
        if (ups.some((u) => !results.has(u))) continue;
        pending.delete(name);
        const stage = byName.get(name)!;
        const p = runOne(stage)
          .catch((err: unknown): StageResult => ({
            stage: name,
            state: 'failed',
            reason: (err as Error).message,
            durationMs: 0,
            tail: [],
          }))
          .then((r) => finish(stage, r))
          .finally(() => running.delete(name));
        running.set(name, p);
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    await lockWrite;
    if (written !== undefined) rememberParsed(lockPath, written.text, written.content);
    const ordered = stages.map((s) => results.get(s.name)!).filter((r) => r !== undefined);
    const ok = ordered.every((r) => r.state !== 'failed' && r.state !== 'blocked');
    if (options.tracker !== undefined && options.dryRun !== true) await options.tracker.end(ok);
    return { ok, results: ordered, durationMs: Date.now() - started };
  } finally {
    repoLock?.release();
  }
}

/** A one-line error for a pipeline that failed, naming the stage and the command to retry. */
export function failureMessage(summary: RunSummary): string | undefined {
  const failed = summary.results.find((r) => r.state === 'failed');
  if (failed === undefined) return undefined;
  return `stage '${failed.stage}' failed: ${failed.reason}${failed.log === undefined ? '' : ` (log: ${failed.log})`}; fix it and run 'trestle run' again to resume from there`;
}
