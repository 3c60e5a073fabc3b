/**
 * Exact drift on every core: `DriftPool` splits the columns of a large table between worker
 * threads and the calling thread, each running `driftFromColumns` on its share (numeric columns
 * cost a sort each; they are spread by size, categorical ones stay here), and merges the
 * features in column order. Numeric and dictionary-coded columns travel in SharedArrayBuffers
 * (one copy, no serialization). Small tables, and a pool whose threads could not start, are
 * computed on the calling thread: the answer is the same either way.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TrestleError } from '@trestle/core';
import { isDictionaryColumn, type Column } from '../profile/columns.js';
import { driftFromColumns, type RawDriftOptions } from './from-raw.js';
import { summarize, type DatasetDrift, type FeatureDrift } from './result.js';
import type { PoolJob } from './pool-worker.js';

/** Below this many rows in the reference plus the current table, threads cost more than they save. */
const MIN_ROWS_TO_SHARE = 200_000;

/** Options of {@link DriftPool}. */
export interface DriftPoolOptions {
  /** Threads in all, the calling one included; default the number of cores. */
  threads?: number;
}

type Answer = { id: number; features: FeatureDrift[] } | { id: number; error: unknown } | { ready: true };

interface Helper {
  worker: Worker;
  ready: Promise<boolean>;
  pending: Map<number, { resolve: (f: FeatureDrift[]) => void; reject: (e: Error) => void }>;
}

// A CommonJS bootstrap (eval): from TypeScript sources it registers tsx's loader in the thread
// before importing the worker module, which an eval'd worker would not get otherwise.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();
`;

function toShared(column: Column): Column {
  if (column instanceof Float64Array) {
    const shared = new Float64Array(new SharedArrayBuffer(column.byteLength));
    shared.set(column);
    return shared;
  }
  if (isDictionaryColumn(column)) {
    const codes = new Int32Array(new SharedArrayBuffer(column.codes.byteLength));
    codes.set(column.codes);
    return { codes, dictionary: column.dictionary };
  }
  return column;
}

/**
 * A pool of threads for `driftFromColumns` on large tables. Threads start on first use (or
 * {@link DriftPool.start}) and stop on {@link DriftPool.close}; they do not keep the process alive.
 *
 * @example
 * const pool = new DriftPool();
 * const drift = await pool.driftFromColumns(reference, current);
 * await pool.close();
 */
export class DriftPool {
  readonly threads: number;
  #helpers: Helper[] | undefined;
  #nextId = 0;

  constructor(options: DriftPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  }

  /** Starts the helper threads and waits until they are ready; resolves to how many are. */
  async start(): Promise<number> {
    this.#helpers ??= Array.from({ length: this.threads - 1 }, () => this.#spawn());
    const ready = await Promise.all(this.#helpers.map((h) => h.ready));
    return ready.filter(Boolean).length;
  }

  #spawn(): Helper {
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './pool-worker.ts' : './pool-worker.js', import.meta.url).href;
    let tsx: string | undefined;
    if (fromSource) {
      try {
        tsx = import.meta.resolve('tsx/esm/api');
      } catch {
        tsx = undefined;
      }
    }
    const pending: Helper['pending'] = new Map();
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry, tsx } });
    worker.unref();
    const ready = new Promise<boolean>((resolve) => {
      worker.on('message', (m: Answer) => {
        if ('ready' in m) {
          resolve(true);
          return;
        }
        const p = pending.get(m.id);
        if (p === undefined) return;
        pending.delete(m.id);
        if ('error' in m) p.reject(TrestleError.fromJSON(m.error));
        else p.resolve(m.features);
      });
      const fail = (err: Error): void => {
        resolve(false);
        for (const p of pending.values()) p.reject(err);
        pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', () => fail(new TrestleError('UNAVAILABLE', 'a drift worker thread stopped')));
    });
    return { worker, ready, pending };
  }

  /**
   * `driftFromColumns(reference, current, options)` with the columns spread over the threads
   * when the tables are large; the same result as the single-threaded call.
   */
  async driftFromColumns(
    reference: Readonly<Record<string, Column>>,
    current: Readonly<Record<string, Column>>,
    options: RawDriftOptions = {},
  ): Promise<DatasetDrift> {
    const names = Object.keys(reference);
    const length = (c: Column | undefined): number =>
      c === undefined ? 0 : isDictionaryColumn(c) ? c.codes.length : c.length;
    const rows = names.reduce((s, n) => s + length(reference[n]) + length(current[n]), 0);
    // A column missing from the current table: the single-threaded call says which.
    const complete = names.every((n) => current[n] !== undefined);
    const helpers = complete && rows >= MIN_ROWS_TO_SHARE && this.threads > 1 ? await this.#ready() : [];
    if (helpers.length === 0) return driftFromColumns(reference, current, options);

    // Numeric typed columns (a sort each) are spread by size, largest first, over the parts with
    // the least work so far; the rest (counting only) stays on this thread.
    const parts: string[][] = Array.from({ length: helpers.length + 1 }, () => []);
    const load = new Array<number>(parts.length).fill(0);
    const movable = (n: string): boolean => {
      const r = reference[n];
      const c = current[n];
      return (
        r !== undefined &&
        c !== undefined &&
        ArrayBuffer.isView(r) &&
        ArrayBuffer.isView(c) &&
        options.kinds?.[n] !== 'categorical'
      );
    };
    for (const n of names.filter((x) => !movable(x))) {
      parts[0]!.push(n);
      load[0]! += (length(reference[n]) + length(current[n])) / 10;
    }
    const numeric = names.filter(movable).sort((a, b) => length(reference[b]) - length(reference[a]));
    for (const n of numeric) {
      const k = load.indexOf(Math.min(...load));
      parts[k]!.push(n);
      load[k]! += length(reference[n]) + length(current[n]);
    }
    const pick = (table: Readonly<Record<string, Column>>, subset: string[], share: boolean): Record<string, Column> =>
      Object.fromEntries(
        subset.filter((n) => table[n] !== undefined).map((n) => [n, share ? toShared(table[n]!) : table[n]!]),
      );
    const sent = helpers.map((h, i) => {
      const subset = parts[i + 1]!;
      if (subset.length === 0) return Promise.resolve<FeatureDrift[]>([]);
      const job: PoolJob = {
        id: this.#nextId++,
        reference: pick(reference, subset, true),
        current: pick(current, subset, true),
        options,
      };
      return new Promise<FeatureDrift[]>((resolve, reject) => {
        h.pending.set(job.id, { resolve, reject });
        h.worker.postMessage(job);
      });
    });
    let own: FeatureDrift[];
    try {
      own = driftFromColumns(pick(reference, parts[0]!, false), current, options).features;
    } catch (err) {
      await Promise.allSettled(sent);
      throw err;
    }
    const byName = new Map<string, FeatureDrift>();
    for (const f of [...own, ...(await Promise.all(sent)).flat()]) byName.set(f.name, f);
    return summarize(
      names.map((n) => byName.get(n)!),
      [],
      options.driftShare ?? 0.5,
    );
  }

  async #ready(): Promise<Helper[]> {
    await this.start();
    const ok = await Promise.all(this.#helpers!.map((h) => h.ready));
    return this.#helpers!.filter((_, i) => ok[i]);
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    const helpers = this.#helpers ?? [];
    this.#helpers = undefined;
    await Promise.all(helpers.map((h) => h.worker.terminate()));
  }
}
