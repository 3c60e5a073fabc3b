import type { Readable } from 'node:stream';
import {
  TrestleError,
  isTrestleError,
  type ChangeContext,
  type CreateModelVersionInput,
  type CreateRegisteredModelInput,
  type DatasetLineage,
  type ListEventsOptions,
  type ModelLineage,
  type ModelStage,
  type ModelVersion,
  type Page,
  type RegisteredModel,
  type RegistryEvent,
  type RegistrySearchOptions,
  type RegistryStore,
  type UpdateModelVersionInput,
} from '@trestle/core';
import {
  ACTOR_HEADER,
  API_V1_PREFIX as API,
  REASON_HEADER,
  type WireCreateModelVersion,
  type WireCreateRegisteredModel,
  type WireDatasetLineage,
  type WireModelLineage,
  type WireModelVersion,
  type WireModelVersionPage,
  type WireRegisteredModel,
  type WireRegisteredModelPage,
  type WireRegistryEventList,
  type WireUpdateModelVersion,
} from '@trestle/core/rest';
import { pathSegment, type HttpClient, type HttpRequest } from './http.js';
import { parseSse } from './sse.js';
import { pollEvents, sleep, type EventStreaming, type WatchOptions } from '../watch-events.js';

/** Errors a reconnect cannot fix: the stream stops with them. */
const PERMANENT = new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED', 'INVALID_ARGUMENT', 'NOT_FOUND']);

const modelPath = (name: string): string => `${API}/registered-models/${pathSegment(name, 'model name')}`;
const versionPath = (name: string, version: number): string => `${modelPath(name)}/versions/${version}`;
const aliasPath = (name: string, alias: string): string => `${modelPath(name)}/aliases/${pathSegment(alias, 'alias')}`;

function page<T>(wire: { items: T[]; nextPageToken?: string }): Page<T> {
  return typeof wire.nextPageToken === 'string' && wire.nextPageToken !== ''
    ? { items: wire.items, nextPageToken: wire.nextPageToken }
    : { items: wire.items };
}

function headersOf(ctx: ChangeContext | undefined): Record<string, string> | undefined {
  if (ctx === undefined) return undefined;
  const out: Record<string, string> = {};
  if (ctx.actor !== undefined) out[ACTOR_HEADER] = encodeURIComponent(ctx.actor);
  if (ctx.reason !== undefined) out[REASON_HEADER] = encodeURIComponent(ctx.reason);
  return out;
}

function searchQuery(options: RegistrySearchOptions): Record<string, string | number | string[] | undefined> {
  return {
    filter: options.filter,
    orderBy: options.orderBy,
    maxResults: options.maxResults,
    pageToken: options.pageToken,
  };
}

/**
 * The {@link RegistryStore} port over the REST API v1: the SDK's registry methods work the same
 * against a server as against the embedded store. The actor and reason of a change travel in
 * the `X-Trestle-Actor` and `X-Trestle-Reason` headers (a server with access control records
 * the token's name instead of the actor).
 *
 * @example
 * const registry = new RestRegistry(new HttpClient({ trackingUri: 'http://localhost:5000' }));
 * const v = await registry.getModelVersionByAlias('fraud', 'champion');
 */
export class RestRegistry implements RegistryStore, EventStreaming {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  #json<T>(request: HttpRequest, ctx?: ChangeContext): Promise<T> {
    return this.#http.json<T>({ ...request, headers: { ...request.headers, ...headersOf(ctx) } });
  }

  #empty(request: HttpRequest, ctx?: ChangeContext): Promise<void> {
    return this.#http.empty({ ...request, headers: { ...request.headers, ...headersOf(ctx) } });
  }

  async createRegisteredModel(input: CreateRegisteredModelInput, ctx?: ChangeContext): Promise<RegisteredModel> {
    const { name, description, tags } = input;
    return this.#json<WireRegisteredModel>(
      {
        method: 'POST',
        path: `${API}/registered-models`,
        json: { name, description, tags } satisfies { [K in keyof WireCreateRegisteredModel]: unknown },
      },
      ctx,
    );
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.#json<WireRegisteredModel>({ method: 'GET', path: modelPath(name) });
  }

  async searchRegisteredModels(options: RegistrySearchOptions = {}): Promise<Page<RegisteredModel>> {
    return page(
      await this.#json<WireRegisteredModelPage>({
        method: 'GET',
        path: `${API}/registered-models`,
        query: searchQuery(options),
      }),
    );
  }

  async renameRegisteredModel(name: string, newName: string, ctx?: ChangeContext): Promise<RegisteredModel> {
    return this.#json<WireRegisteredModel>(
      { method: 'PATCH', path: modelPath(name), json: { name: newName }, idempotent: true },
      ctx,
    );
  }

  async updateRegisteredModel(
    name: string,
    input: { description?: string },
    ctx?: ChangeContext,
  ): Promise<RegisteredModel> {
    return this.#json<WireRegisteredModel>(
      { method: 'PATCH', path: modelPath(name), json: { description: input.description }, idempotent: true },
      ctx,
    );
  }

  async deleteRegisteredModel(name: string, ctx?: ChangeContext): Promise<void> {
    return this.#empty({ method: 'DELETE', path: modelPath(name) }, ctx);
  }

  async setRegisteredModelTag(name: string, key: string, value: string, ctx?: ChangeContext): Promise<void> {
    return this.#empty(
      { method: 'PUT', path: `${modelPath(name)}/tags/${pathSegment(key, 'tag key')}`, json: { value } },
      ctx,
    );
  }

  async deleteRegisteredModelTag(name: string, key: string, ctx?: ChangeContext): Promise<void> {
    return this.#empty({ method: 'DELETE', path: `${modelPath(name)}/tags/${pathSegment(key, 'tag key')}` }, ctx);
  }

  async createModelVersion(input: CreateModelVersionInput, ctx?: ChangeContext): Promise<ModelVersion> {
    const { name, source, runId, runLink, modelId, description, tags, status, statusMessage, createModel, aliases } =
      input;
    // A POST: the transport adds an Idempotency-Key, so a retry never registers twice.
    return this.#json<WireModelVersion>(
      {
        method: 'POST',
        path: `${modelPath(name)}/versions`,
        json: {
          source,
          runId,
          runLink,
          modelId,
          description,
          tags,
          status,
          statusMessage,
          createModel,
          aliases,
        } satisfies { [K in keyof WireCreateModelVersion]: unknown },
      },
      ctx,
    );
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return this.#json<WireModelVersion>({ method: 'GET', path: versionPath(name, checkVersion(version)) });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.#json<WireModelVersion>({ method: 'GET', path: aliasPath(name, alias) });
  }

  async getLatestVersions(name: string, stages?: readonly ModelStage[]): Promise<ModelVersion[]> {
    const all: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const found = await this.searchModelVersions({
        filter: `name = '${name.replaceAll("'", "\\'")}'`,
        maxResults: 1000,
        ...(pageToken === undefined ? {} : { pageToken }),
      });
      all.push(...found.items);
      pageToken = found.nextPageToken;
    } while (pageToken !== undefined);
    if (all.length === 0) await this.getRegisteredModel(name);
    const wanted = stages === undefined || stages.length === 0 ? undefined : new Set<string>(stages);
    const latest = new Map<string, ModelVersion>();
    for (const v of all.sort((a, b) => b.version - a.version)) {
      if ((wanted === undefined || wanted.has(v.stage)) && !latest.has(v.stage)) latest.set(v.stage, v);
    }
    return [...latest.values()].sort((a, b) => a.version - b.version);
  }

  async searchModelVersions(options: RegistrySearchOptions = {}): Promise<Page<ModelVersion>> {
    return page(
      await this.#json<WireModelVersionPage>({
        method: 'GET',
        path: `${API}/model-versions`,
        query: searchQuery(options),
      }),
    );
  }

  async updateModelVersion(
    name: string,
    version: number,
    input: UpdateModelVersionInput,
    ctx?: ChangeContext,
  ): Promise<ModelVersion> {
    const { description, status, statusMessage, stage } = input;
    return this.#json<WireModelVersion>(
      {
        method: 'PATCH',
        path: versionPath(name, checkVersion(version)),
        json: { description, status, statusMessage, stage } satisfies { [K in keyof WireUpdateModelVersion]: unknown },
        idempotent: true,
      },
      ctx,
    );
  }

  async transitionStage(
    name: string,
    version: number,
    stage: ModelStage,
    archiveExisting: boolean,
    ctx?: ChangeContext,
  ): Promise<ModelVersion> {
    if (archiveExisting && (stage === 'Staging' || stage === 'Production')) {
      const others = await this.searchModelVersions({
        filter: `name = '${name.replaceAll("'", "\\'")}' AND current_stage = '${stage}'`,
      });
      for (const other of others.items) {
        if (other.version !== version) await this.updateModelVersion(name, other.version, { stage: 'Archived' }, ctx);
      }
    }
    return this.updateModelVersion(name, version, { stage }, ctx);
  }

  async deleteModelVersion(name: string, version: number, ctx?: ChangeContext): Promise<void> {
    return this.#empty({ method: 'DELETE', path: versionPath(name, checkVersion(version)) }, ctx);
  }

  async setModelVersionTag(
    name: string,
    version: number,
    key: string,
    value: string,
    ctx?: ChangeContext,
  ): Promise<void> {
    return this.#empty(
      {
        method: 'PUT',
        path: `${versionPath(name, checkVersion(version))}/tags/${pathSegment(key, 'tag key')}`,
        json: { value },
      },
      ctx,
    );
  }

  async deleteModelVersionTag(name: string, version: number, key: string, ctx?: ChangeContext): Promise<void> {
    return this.#empty(
      { method: 'DELETE', path: `${versionPath(name, checkVersion(version))}/tags/${pathSegment(key, 'tag key')}` },
      ctx,
    );
  }

  async setAlias(name: string, alias: string, version: number, ctx?: ChangeContext): Promise<void> {
    await this.#json<WireModelVersion>(
      {
        method: 'PUT',
        path: aliasPath(name, alias),
        json: { version: checkVersion(version), ...(ctx?.reason === undefined ? {} : { reason: ctx.reason }) },
      },
      ctx,
    );
  }

  async deleteAlias(name: string, alias: string, ctx?: ChangeContext): Promise<void> {
    return this.#empty({ method: 'DELETE', path: aliasPath(name, alias) }, ctx);
  }

  async rollbackAlias(name: string, alias: string, ctx?: ChangeContext): Promise<ModelVersion> {
    return this.#json<WireModelVersion>(
      {
        method: 'POST',
        path: `${aliasPath(name, alias)}/rollback`,
        json: ctx?.reason === undefined ? {} : { reason: ctx.reason },
      },
      ctx,
    );
  }

  async getVersionLineage(name: string, version: number): Promise<ModelLineage> {
    return this.#json<WireModelLineage>({ method: 'GET', path: `${versionPath(name, checkVersion(version))}/lineage` });
  }

  async getDatasetLineage(digest: string): Promise<DatasetLineage> {
    return this.#json<WireDatasetLineage>({
      method: 'GET',
      path: `${API}/datasets/${pathSegment(digest, 'dataset digest')}/lineage`,
    });
  }

  async listEvents(options: ListEventsOptions = {}): Promise<RegistryEvent[]> {
    const wire = await this.#json<WireRegistryEventList>({
      method: 'GET',
      path: options.model === undefined ? `${API}/registry/events` : `${modelPath(options.model)}/history`,
      query: {
        after: options.after,
        types: options.types,
        limit: options.limit,
        order: options.order ?? 'asc',
      },
    });
    return wire.items;
  }

  async lastEventId(): Promise<number> {
    const [last] = await this.listEvents({ order: 'desc', limit: 1 });
    return last?.id ?? 0;
  }

  /**
   * Registry events from the server-sent event stream `GET /api/v1/events`, after
   * `options.after` (default: the newest event now). A dropped connection (or a server restart)
   * is re-opened with `Last-Event-ID`, after the server's `retry:` delay and backing off while it
   * stays down, so no event is lost or repeated. A server that answers without a stream is polled.
   * Ends when `options.signal` aborts; stops with the error on 401, 403, 400 or 404.
   *
   * @example for await (const e of registry.streamEvents({ model: 'fraud', signal })) console.log(e.type, e.alias);
   */
  async *streamEvents(options: WatchOptions = {}): AsyncGenerator<RegistryEvent> {
    const { signal, model, types } = options;
    let cursor = options.after ?? (await this.lastEventId());
    let retryMs = 1000;
    let failures = 0;
    // A function, not the property: TypeScript would keep the loop condition's narrowing.
    const aborted = (): boolean => signal?.aborted === true;
    while (!aborted()) {
      let body: Readable | undefined;
      const stop = (): void => void body?.destroy();
      try {
        const opened = await this.#http.stream({
          method: 'GET',
          path: `${API}/events`,
          query: { model, types },
          headers: { accept: 'text/event-stream', 'last-event-id': String(cursor) },
        });
        body = opened.body;
        if (!/^text\/event-stream/i.test(opened.headers.get('content-type') ?? '')) {
          body.destroy();
          yield* pollEvents(this, { ...options, after: cursor });
          return;
        }
        signal?.addEventListener('abort', stop, { once: true });
        failures = 0;
        for await (const message of parseSse(body)) {
          if (message.retry !== undefined) retryMs = message.retry;
          if (message.id === undefined || !/^\d+$/.test(message.id) || message.data === '') continue;
          cursor = Number(message.id);
          let event: RegistryEvent;
          try {
            event = JSON.parse(message.data) as RegistryEvent;
          } catch {
            continue;
          }
          yield event;
          if (aborted()) return;
        }
      } catch (err) {
        if (aborted()) return;
        if (isTrestleError(err) && PERMANENT.has(err.code)) throw err;
        failures++;
      } finally {
        signal?.removeEventListener('abort', stop);
        body?.destroy();
      }
      // The stream ended (a server restart) or failed: reconnect, backing off while it stays down.
      await sleep(Math.min(30_000, retryMs * 2 ** Math.min(failures, 5)), signal);
    }
  }
}

function checkVersion(version: number): number {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `model version must be a positive integer such as 3, got ${JSON.stringify(version)}`,
    );
  }
  return version;
}
