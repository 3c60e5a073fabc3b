import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type TrestleConfig } from '@trestle/core';
import { openStores } from '@trestle/store';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildServer, type BuildServerOptions } from '../app.js';
import type { ServerStores } from '../route-types.js';

/** A server on a fresh SQLite file and artifact folder in a temporary directory. */
export interface ServerFixture {
  app: FastifyInstance;
  stores: ServerStores;
  config: TrestleConfig;
  /** The artifact store's root folder. */
  artifactDir: string;
  /** Creates an experiment through the API and returns its id. */
  experiment(name?: string): Promise<string>;
  /** Creates a run through the API (in a new experiment unless one is given) and returns it. */
  run(experimentId?: string): Promise<{ runId: string; experimentId: string }>;
  /** Closes the app and the stores and removes the temporary directory. */
  close(): Promise<void>;
}

let counter = 0;

/**
 * Opens real stores in a temporary directory and builds the app on them, for tests.
 *
 * @example
 * const fx = await serverFixture();
 * const res = await fx.app.inject({ url: '/api/v1/experiments' });
 * await fx.close();
 */
export async function serverFixture(options: Omit<BuildServerOptions, 'stores'> = {}): Promise<ServerFixture> {
  const home = await mkdtemp(join(tmpdir(), 'trestle-server-'));
  const config = loadConfig({ home }, {});
  const stores = await openStores(config);
  const app = await buildServer({ ...options, stores, config });
  const ok = (res: LightMyRequestResponse, status: number): LightMyRequestResponse => {
    if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
    return res;
  };
  const experiment = async (name = `exp-${++counter}`): Promise<string> => {
    const res = ok(await app.inject({ method: 'POST', url: '/api/v1/experiments', payload: { name } }), 201);
    return res.json<{ experimentId: string }>().experimentId;
  };
  return {
    app,
    stores,
    config,
    artifactDir: join(home, 'artifacts'),
    experiment,
    async run(experimentId) {
      const exp = experimentId ?? (await experiment());
      const res = ok(await app.inject({ method: 'POST', url: '/api/v1/runs', payload: { experimentId: exp } }), 201);
      return { runId: res.json<{ info: { runId: string } }>().info.runId, experimentId: exp };
    },
    async close() {
      await app.close();
      await stores.metadata.close();
      await stores.artifacts.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
