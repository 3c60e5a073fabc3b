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
  /** How often to look for changes, in ms (default 250). */
  intervalMs?: number;
}

const aborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
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
 * Registry events as an async iterable, read from the registry's audit trail (the metadata
 * store's change table, directly or through the server), so every writer's changes arrive
 * whichever replica made them. Transient read failures are retried; the cursor never skips.
 *
 * @example for await (const e of watchEvents(registry, config, { signal })) console.log(e.type);
 */
export async function* watchEvents(
  registry: RegistryStore,
  _config: TrestleConfig,
  options: WatchOptions = {},
): AsyncGenerator<RegistryEvent> {
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
