/**
 * Hot-swap: follows the alias a role is served from. When the alias moves (an event from the
 * registry's stream, or the periodic poll that backs it up), the new version is loaded and
 * warmed in the background, then swapped in with one assignment; requests already routed to
 * the old version finish on it, and the old version is closed once it has drained. A version
 * that fails to load or warm is not swapped in: the old one keeps answering.
 */
import { warmupBatch } from './model-predictor.js';
import type { Predictor } from './predictor.js';
import type { ModelRuntime, Role } from './runtime.js';
import type { RunningServing } from './serve.js';

export interface AliasFollowerOptions {
  readonly running: RunningServing;
  readonly role: Role;
  /** The alias followed (for logs and window summaries). */
  readonly alias: string;
  /** The version the alias points at now. */
  readonly resolveVersion: () => Promise<string>;
  /** Loads a version as a predictor. */
  readonly load: (version: string) => Promise<Predictor>;
  /** Registry events (any event triggers a check); ends when `signal` aborts. Optional. */
  readonly events?: (signal: AbortSignal) => AsyncIterable<unknown>;
  /** Poll period (ms): the fallback when events are missing or lost. Default 10,000. */
  readonly pollMs?: number;
  /** Called with the old runtime before it is closed (ships its last window). */
  readonly retire?: (old: ModelRuntime) => Promise<void>;
  readonly log?: (line: string) => void;
}

export class AliasFollower {
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private again = false;
  private failedVersion: string | undefined;

  constructor(private readonly o: AliasFollowerOptions) {}

  /** Starts following (events and polling). */
  start(): void {
    const poll = this.o.pollMs ?? 10_000;
    this.timer = setInterval(() => void this.check(), poll);
    this.timer.unref();
    const events = this.o.events;
    if (events !== undefined) void this.listen(events);
  }

  private async listen(events: (signal: AbortSignal) => AsyncIterable<unknown>): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        for await (const _ of events(this.abort.signal)) void this.check();
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.o.log?.(
          `registry events: ${(err as Error).message}; polling every ${this.o.pollMs ?? 10_000} ms meanwhile`,
        );
      }
      await new Promise((r) => setTimeout(r, 2000).unref());
    }
  }

  /** Looks up the alias and swaps when it moved. Concurrent calls coalesce. */
  check(): Promise<void> {
    if (this.checking !== undefined) {
      this.again = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.again = false;
        await this.checkOnce();
      } while (this.again && !this.abort.signal.aborted);
    })().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private current(): ModelRuntime | undefined {
    const r = this.o.running.router;
    return this.o.role === 'champion' ? r.champion : r.challenger;
  }

  private async checkOnce(): Promise<void> {
    let version: string;
    try {
      version = await this.o.resolveVersion();
    } catch (err) {
      this.o.log?.(
        `cannot resolve @${this.o.alias}: ${(err as Error).message}; keeping version ${this.current()?.version ?? '?'}`,
      );
      return;
    }
    if (version === this.current()?.version || version === this.failedVersion) return;
    const metrics = this.o.running.metrics;
    let predictor: Predictor;
    try {
      predictor = await this.o.load(version);
      const warm = warmupBatch(predictor);
      await predictor.predict(warm.columns, warm.rows);
    } catch (err) {
      this.failedVersion = version;
      metrics.swaps.labels('failed').inc();
      this.o.log?.(
        `version ${version} (@${this.o.alias}) failed to load or warm up: ${(err as Error).message}; still serving ${this.current()?.version ?? '?'}`,
      );
      return;
    }
    if (this.abort.signal.aborted) {
      await predictor.close?.();
      return;
    }
    const runtime = this.o.running.runtime(predictor, this.o.alias);
    const old = this.o.running.router.swap(this.o.role, runtime);
    this.o.running.refreshModelInfo();
    metrics.swaps.labels('ok').inc();
    this.failedVersion = undefined;
    this.o.log?.(`@${this.o.alias} moved: now serving version ${version} (was ${old?.version ?? 'none'})`);
    if (old !== undefined) {
      await this.o.retire?.(old).catch(() => {});
      await old.close();
    }
  }

  /** Stops following; a swap in progress completes. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.timer);
    await this.checking;
  }
}
