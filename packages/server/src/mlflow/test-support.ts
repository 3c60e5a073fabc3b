/**
 * Test support for the MLflow dialect: a bare Fastify app that registers only
 * {@link mlflowPlugin}, on real stores (a temporary SQLite file and artifact folder).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import type { ArtifactStore, MetadataStore } from '@trestle/core';
import { loadConfig } from '@trestle/core';
import { openStores } from '@trestle/store';
import { mlflowPlugin } from './index.js';

/** A JSON answer of the dialect. */
export interface JsonReply {
  status: number;
  // Tests read arbitrary MLflow JSON; `any` keeps assertions short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  headers: Record<string, string | string[] | number | undefined>;
}

/** An app serving only the MLflow dialect, with helpers to call it. */
export interface MlflowTestApp {
  app: FastifyInstance;
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  /** The temporary TRESTLE_HOME. */
  home: string;
  /** `POST /api/2.0/mlflow<path>` with a JSON body (an object, or a raw string sent as `application/json`). */
  post(path: string, body?: unknown, options?: { root?: string; headers?: Record<string, string> }): Promise<JsonReply>;
  /** `GET /api/2.0/mlflow<path>?<query>`; array values become repeated keys. */
  get(
    path: string,
    query?: Record<string, string | number | (string | number)[]>,
    options?: { root?: string },
  ): Promise<JsonReply>;
  /** Any request, answered as JSON when it is JSON. */
  inject(options: InjectOptions): Promise<JsonReply>;
  /** Every file under the artifact root, relative and `/`-separated. */
  artifactFiles(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * One MLflow call over real HTTP to a listening server at `base`: GET fields become query
 * parameters (arrays repeated), other methods send them as a JSON body.
 *
 * @example const { status, json } = await mlflowHttp(base, 'POST', '/registered-models/create', { name: 'm' });
 */
export async function mlflowHttp(
  base: string,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  fields: Record<string, unknown> = {},
): Promise<Pick<JsonReply, 'status' | 'json'>> {
  let url = `${base}/api/2.0/mlflow${path}`;
  const init: RequestInit = { method };
  if (method === 'GET') {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) params.append(k, String(x));
    url += `?${params.toString()}`;
  } else {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(fields);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as unknown) };
}

/**
 * A JSON list of a reply, typed for the test (absent lists, which MLflow leaves out, are `[]`).
 *
 * @example listOf<{ name: string }>(res.json.experiments).map((e) => e.name)
 */
export function listOf<T>(value: unknown): T[] {
  return (value ?? []) as T[];
}

function queryString(query: Record<string, string | number | (string | number)[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

async function walk(dir: string, root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files = await Promise.all(
    entries.map(async (e) =>
      e.isDirectory() ? walk(join(dir, e.name), root) : [relative(root, join(dir, e.name)).split('\\').join('/')],
    ),
  );
  return files.flat().sort();
}

/**
 * Starts the app on fresh stores. Call `close()` in `afterEach`/`afterAll`.
 *
 * @example
 * const t = await startMlflowTestApp();
 * const { json } = await t.post('/experiments/create', { name: 'flights' });
 */
export async function startMlflowTestApp(): Promise<MlflowTestApp> {
  const home = await mkdtemp(join(tmpdir(), 'trestle-mlflow-'));
  const config = loadConfig({ home }, {});
  const { metadata, artifacts } = await openStores(config);
  const app = Fastify();
  await app.register(mlflowPlugin, { metadata, artifacts });
  await app.ready();

  const inject = async (options: InjectOptions): Promise<JsonReply> => {
    const res = await app.inject(options);
    let json: unknown;
    try {
      json = res.json();
    } catch {
      json = res.body;
    }
    return { status: res.statusCode, json, headers: res.headers };
  };

  return {
    app,
    metadata,
    artifacts,
    home,
    inject,
    post: (path, body, options = {}) =>
      inject({
        method: 'POST',
        url: `${options.root ?? '/api/2.0'}/mlflow${path}`,
        ...(typeof body === 'string'
          ? { payload: body, headers: { 'content-type': 'application/json', ...options.headers } }
          : { payload: body ?? {}, headers: { ...options.headers } }),
      }),
    get: (path, query = {}, options = {}) =>
      inject({ method: 'GET', url: `${options.root ?? '/api/2.0'}/mlflow${path}${queryString(query)}` }),
    artifactFiles: () =>
      walk(config.artifacts, config.artifacts).then((files) => files.filter((f) => !f.startsWith('.trestle-meta/'))),
    close: async () => {
      await app.close();
      await metadata.close();
      await artifacts.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
