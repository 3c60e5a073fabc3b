import type { RegistryEvent, RegistryStore, TrestleConfig } from '@trestle/core';

/** Options of `Trestle.watchRegistry`. */
export interface WatchOptions {
  /** Start after this event id (a saved cursor); default: from now. */
  after?: number;
  /** Only events of this model. */
  model?: string;
  /** Only these types, e.g. `['alias.set', 'alias.deleted']`. */
  types?: readonly string[];
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** How often to look for changes when polling (the embedded store), in ms (default 250). */
  intervalMs?: number;
}

const aborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A registry that can push its events (the REST client reads the server-sent event stream
 * `GET /api/v1/events`); others are polled.
 */
export interface EventStreaming {
  /** Events after `options.after` (default: from now) as they happen, until `options.signal` aborts. */
  streamEvents(options: WatchOptions): AsyncIterable<RegistryEvent>;
}

function streams(registry: RegistryStore): registry is RegistryStore & EventStreaming {
  return typeof (registry as Partial<EventStreaming>).streamEvents === 'function';
}

/**
 * Registry events as an async iterable. Over HTTP it reads the server's event stream
 * (re-opened with `Last-Event-ID` after a drop); the embedded store is polled every
 * `intervalMs`. Either way the events come from the metadata store's change table, so every
 * writer's changes arrive whichever replica made them, and the cursor never skips.
 *
 * @example for await (const e of watchEvents(registry, config, { signal })) console.log(e.type);
 */
export function watchEvents(
  registry: RegistryStore,
  _config: TrestleConfig,
  options: WatchOptions = {},
): AsyncIterable<RegistryEvent> {
  return streams(registry) ? registry.streamEvents(options) : pollEvents(registry, options);
}

/**
 * Registry events by polling `listEvents` every `intervalMs` (default 250). Transient read
 * failures are retried; the cursor never skips.
 *
 * @example for await (const e of pollEvents(store.registry, { signal })) console.log(e.type);
 */
export async function* pollEvents(registry: RegistryStore, options: WatchOptions = {}): AsyncGenerator<RegistryEvent> {
  const { signal, model, types } = options;
  const interval = options.intervalMs ?? 250;
  let cursor = options.after ?? (await registry.lastEventId());
  const wanted = types === undefined || types.length === 0 ? undefined : new Set(types);
  while (!aborted(signal)) {
    let events: RegistryEvent[] = [];
    try {
      events = await registry.listEvents({ after: cursor, limit: 500 });
    } catch {
      await sleep(Math.max(interval, 1000), signal);
      continue;
    }
    for (const e of events) {
      cursor = e.id;
      if ((model === undefined || e.model === model) && (wanted === undefined || wanted.has(e.type))) yield e;
      if (aborted(signal)) return;
    }
    if (events.length < 500) await sleep(interval, signal);
  }
}
