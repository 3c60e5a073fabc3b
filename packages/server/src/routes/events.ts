import type { RegistryEvent, RegistryStore } from '@trestle/core';
import { TrestleError } from '@trestle/core';
import { EventStreamQuery, RegistryEventList, errorResponses } from '@trestle/core/rest';
import type { RoutePlugin } from '../route-types.js';

/** How often one server looks for new events while someone listens (an alias move shows within this). */
const EVENT_POLL_MS = 200;
/** A comment line keeps idle connections (and proxies) open. */
const HEARTBEAT_MS = 15_000;
const BATCH = 500;

/**
 * One poller per server for all its listeners: while anyone listens it asks the metadata store
 * for the newest event id every {@link EVENT_POLL_MS}, and wakes the listeners when it grew.
 * The store is the only source, so every replica on the same database sees every change.
 */
class EventHub {
  #lastId = 0;
  #waiters = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #listeners = 0;
  #polling = false;

  constructor(
    private readonly registry: RegistryStore,
    private readonly pollMs: number,
  ) {}

  attach(): void {
    if (this.#listeners++ === 0) this.#timer = setInterval(() => void this.#poll(), this.pollMs);
  }

  detach(): void {
    if (--this.#listeners === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Resolves when an event after `cursor` may exist, or after `ms`. */
  wait(cursor: number, ms: number): Promise<void> {
    if (this.#lastId > cursor) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  /** Wakes every waiter (on close). */
  wakeAll(): void {
    for (const w of [...this.#waiters]) w();
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const last = await this.registry.lastEventId();
      if (last > this.#lastId) {
        this.#lastId = last;
        this.wakeAll();
      }
    } catch {
      // The store is briefly unreachable: listeners keep waiting; the next poll tries again.
    } finally {
      this.#polling = false;
    }
  }
}

function lastEventIdHeader(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) {
    throw new TrestleError('INVALID_ARGUMENT', `Last-Event-ID must be an event id (an integer), got '${text}'`);
  }
  return Number(text);
}

function frame(event: RegistryEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * `GET /api/v1/events`: registry changes as server-sent events (`id`, `event` = the type,
 * `data` = the event as JSON). A reader that reconnects with `Last-Event-ID` (or `?after=`)
 * gets every event after that id; a new reader starts from now. Fed from the metadata store's
 * `registry_events` table, so every replica serves every change.
 */
export const eventRoutes: RoutePlugin = (app, { stores }, done) => {
  const registry = stores.metadata.registry;
  const hub = new EventHub(registry, EVENT_POLL_MS);
  let closing = false;
  app.addHook('preClose', (next) => {
    closing = true;
    hub.wakeAll();
    next();
  });

  app.get(
    '/events',
    {
      schema: {
        tags: ['registry'],
        summary: 'Registry changes as server-sent events (resumable with Last-Event-ID)',
        description:
          'With Accept: text/event-stream, a stream; each event has id, event (its type, e.g. alias.set) and data (the event as JSON). ' +
          'Without it, one poll: the events after the cursor as JSON. ' +
          'An alias move reaches listeners within about a second, on every replica.',
        querystring: EventStreamQuery,
        response: { 200: RegistryEventList, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { model, types } = request.query;
      let cursor = request.query.after ?? lastEventIdHeader(request.headers['last-event-id']);
      cursor ??= await registry.lastEventId();
      const wanted = types === undefined || types.length === 0 ? undefined : new Set<string>(types);
      const keep = (e: RegistryEvent): boolean =>
        (model === undefined || e.model === model) && (wanted === undefined || wanted.has(e.type));

      // Without `Accept: text/event-stream` (EventSource always sends it) one poll: the events
      // after the cursor as JSON, for clients that cannot hold a stream open.
      if (!/text\/event-stream/i.test(request.headers.accept ?? '')) {
        const events = await registry.listEvents({ after: cursor, limit: BATCH });
        return reply.send({ items: events.filter(keep) });
      }

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      res.write(`retry: 1000\n: trestle events after ${cursor}\n\n`);
      let open = true;
      request.raw.on('close', () => {
        open = false;
        hub.wakeAll();
      });
      hub.attach();
      try {
        while (open && !closing) {
          let events: RegistryEvent[];
          try {
            events = await registry.listEvents({ after: cursor, limit: BATCH });
          } catch (err) {
            request.log.warn({ err }, 'event stream: reading events failed; retrying');
            await hub.wait(Number.MAX_SAFE_INTEGER, 1000);
            continue;
          }
          for (const event of events) {
            cursor = event.id;
            if (keep(event)) res.write(frame(event));
          }
          if (events.length === BATCH) continue;
          const started = Date.now();
          await hub.wait(cursor, HEARTBEAT_MS);
          if (open && Date.now() - started >= HEARTBEAT_MS) res.write(': ping\n\n');
        }
      } finally {
        hub.detach();
        res.end();
      }
    },
  );

  done();
};
