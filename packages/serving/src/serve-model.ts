/**
 * `serveModel`: what `trestle serve MODEL_URI` runs. Loads the model (and a challenger) with
 * `@trestle/models`' `loadModel`, follows `models:/name@alias` URIs through the registry
 * (hot-swap), ships inference logs and window summaries to the control plane when one is
 * configured, and serves until `close()`.
 */
import { join } from 'node:path';
import type { TrestleConfig } from '@trestle/core';
import type { BatchingOptions } from './batcher.js';
import { AliasFollower } from './hot-swap.js';
import { HttpControlPlane } from './logging/control-plane.js';
import { InferenceLogger } from './logging/inference-logger.js';
import { modelPredictor } from './model-predictor.js';
import { importModels, type ModelsModule } from './models-module.js';
import type { Predictor } from './predictor.js';
import type { Role } from './runtime.js';
import { startServing, type RunningServing } from './serve.js';
import type { TrafficMode } from './traffic.js';

export interface ServeModelOptions {
  readonly uri: string;
  readonly config: TrestleConfig;
  readonly host?: string;
  readonly port?: number;
  readonly flavor?: 'builtin' | 'onnx';
  readonly batching?: Partial<BatchingOptions>;
  /** A second model URI (usually `models:/name@challenger`) for a canary or shadow split. */
  readonly challenger?: string;
  readonly traffic?: TrafficMode;
  /** Control plane URL for inference logs; default the configured tracking server. `false` turns logging off. */
  readonly controlPlane?: string | false;
  /** Spool folder; default `<home>/spool/<model>`. */
  readonly spoolDir?: string;
  /** Appended to the spool folder's name: each worker of `--workers N` needs a folder of its own. */
  readonly spoolSuffix?: string;
  readonly spoolMaxBytes?: number;
  readonly windowMs?: number;
  /** Alias poll period (ms), the fallback of the event stream. Default 10,000. */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
  /**
   * The model loader; default `@trestle/models`, imported on use. A bundled runtime (a container
   * image's single JS file) passes it in so the bundler sees the import.
   */
  readonly models?: ModelsModule;
}

export interface ServedModel {
  readonly running: RunningServing;
  /** Whether inference logs are shipped, and where. */
  readonly logging: string | undefined;
  /** Stops following aliases, drains, ships or spools the logs. */
  close(): Promise<void>;
}

interface AliasRef {
  name: string;
  alias: string;
}

function aliasOf(uri: string): AliasRef | undefined {
  const m = /^models:\/([^/]+)@([^/@]+)$/.exec(uri);
  return m === null ? undefined : { name: decodeURIComponent(m[1]!), alias: m[2]! };
}

/** The client SDK as used here: a model source plus the registry methods that follow an alias. */
interface Client {
  getModelVersionByAlias(name: string, alias: string): Promise<{ version: number | string }>;
  watchRegistry(options: { model?: string; types?: readonly string[]; signal?: AbortSignal }): AsyncIterable<unknown>;
  close(): Promise<void>;
}

export async function serveModel(o: ServeModelOptions): Promise<ServedModel> {
  const models = o.models ?? (await importModels());
  const needsStore = (u: string | undefined): boolean => u !== undefined && /^(models|runs):\//.test(u);
  let client: Client | undefined;
  if (needsStore(o.uri) || needsStore(o.challenger)) {
    const { Trestle } = await import('@trestle/client');
    client = await Trestle.connect({ config: o.config });
  }
  const source: unknown = client;
  const load = async (uri: string): Promise<Predictor> => {
    const model = await models.loadModel(uri, {
      ...(source === undefined ? {} : { source }),
      ...(o.flavor === undefined ? {} : { flavor: o.flavor }),
    });
    // A runs:/ package is downloaded to a temporary folder: name it after its artifact path.
    const runsPath = /^runs:\/[^/]+\/(.+)$/.exec(uri)?.[1];
    const name = runsPath
      ?.split('/')
      .filter((x) => x !== '')
      .at(-1);
    return modelPredictor(model, name === undefined ? {} : { name });
  };
  const followers: AliasFollower[] = [];
  let running: RunningServing | undefined;
  try {
    const champion = await load(o.uri);
    const challenger = o.challenger === undefined ? undefined : await load(o.challenger);
    const championAlias = aliasOf(o.uri);
    const challengerAlias = o.challenger === undefined ? undefined : aliasOf(o.challenger);
    const cpUrl = o.controlPlane === false ? undefined : (o.controlPlane ?? o.config.trackingUri);
    let logger: InferenceLogger | undefined;
    running = await startServing({
      champion,
      ...(championAlias === undefined ? {} : { alias: championAlias.alias }),
      ...(challenger === undefined ? {} : { challenger }),
      ...(challengerAlias === undefined ? {} : { challengerAlias: challengerAlias.alias }),
      ...(o.traffic === undefined ? {} : { traffic: o.traffic }),
      ...(o.host === undefined ? {} : { host: o.host }),
      ...(o.port === undefined ? {} : { port: o.port }),
      ...(o.batching === undefined ? {} : { batching: o.batching }),
      ...(o.log === undefined ? {} : { logError: o.log }),
      ...(cpUrl === undefined
        ? {}
        : {
            sink: (metrics) =>
              (logger = new InferenceLogger({
                controlPlane: new HttpControlPlane(cpUrl, o.config.trackingToken),
                spoolDir:
                  (o.spoolDir ?? join(o.config.home, 'spool', champion.name.replace(/[^\w.-]+/g, '_'))) +
                  (o.spoolSuffix ?? ''),
                ...(o.spoolMaxBytes === undefined ? {} : { spoolMaxBytes: o.spoolMaxBytes }),
                ...(o.windowMs === undefined ? {} : { windowMs: o.windowMs }),
                runtimes: () => running?.router.all().map((r) => r.runtime) ?? [],
                metrics,
                ...(o.log === undefined ? {} : { log: o.log }),
              })),
          }),
    });
    const r = running;
    const follow = (role: Role, ref: AliasRef | undefined): void => {
      if (ref === undefined || client === undefined) return;
      const c = client;
      const f = new AliasFollower({
        running: r,
        role,
        alias: ref.alias,
        resolveVersion: async () => String((await c.getModelVersionByAlias(ref.name, ref.alias)).version),
        load: (v) => load(`models:/${encodeURIComponent(ref.name)}/${v}`),
        events: (signal) => c.watchRegistry({ model: ref.name, types: ['alias.set', 'alias.deleted'], signal }),
        ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
        retire: async (old) => {
          await logger?.retire(old);
        },
        ...(o.log === undefined ? {} : { log: o.log }),
      });
      f.start();
      followers.push(f);
    };
    follow('champion', championAlias);
    follow('challenger', challengerAlias);
    let closing: Promise<void> | undefined;
    return {
      running: r,
      logging: cpUrl,
      close: () =>
        (closing ??= (async () => {
          await Promise.all(followers.map((f) => f.stop()));
          await r.close();
          await client?.close();
        })()),
    };
  } catch (err) {
    await Promise.all(followers.map((f) => f.stop()));
    await running?.close();
    await client?.close();
    throw err;
  }
}
