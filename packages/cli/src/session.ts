import type { Trestle } from '@trestle/client';
import { TrestleError, isTrestleError, type Experiment, type MetadataStore, type TrackingBackend } from '@trestle/core';
import { UsageError, type CommandContext } from './framework/command.js';

/** How a command uses the store: `create` only for commands that record something (default: read). */
export interface StoreUse {
  /** Create the embedded store if there is none yet; default false, so that looking never creates one. */
  create?: boolean;
}

/** Connects with the command's configuration, runs `fn`, and always closes the connection. */
export async function withTrestle<T>(
  ctx: CommandContext,
  fn: (trestle: Trestle) => Promise<T>,
  use: StoreUse = {},
): Promise<T> {
  // Loaded here, not at the top: commands that import this file for its helpers (data, run)
  // should not load the client and what it pulls in.
  const { Trestle } = await import('@trestle/client');
  // A person waits at a terminal: an unreachable server is said within about a second, not after 20 s of retries.
  const trestle = await Trestle.connect({
    config: ctx.config,
    create: use.create ?? false,
    retry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 500 },
  });
  try {
    return await fn(trestle);
  } finally {
    await trestle.close();
  }
}

/**
 * Opens the configured metadata store itself (never a server), runs `fn`, and closes it: for
 * an admin's local operations such as `trestle db` and `trestle tokens`. `migrate: false`
 * leaves the schema as it is (for `db upgrade|status`).
 */
export async function withMetadataStore<T>(
  ctx: CommandContext,
  fn: (store: MetadataStore) => Promise<T>,
  options: { migrate?: boolean } & StoreUse = {},
): Promise<T> {
  const { openMetadataStore, prepareHome } = await import('@trestle/store');
  const create = options.create ?? false;
  if (create) prepareHome(ctx.config);
  const store = await openMetadataStore(ctx.config.db, {
    artifactRoot: ctx.config.artifacts,
    migrate: options.migrate ?? true,
    create,
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Finds an experiment by id (digits) or by name. */
export async function resolveExperiment(backend: TrackingBackend, idOrName: string): Promise<Experiment> {
  if (/^\d+$/.test(idOrName)) {
    try {
      return await backend.getExperiment(idOrName);
    } catch (err) {
      if (!isTrestleError(err, 'NOT_FOUND')) throw err;
    }
  }
  try {
    return await backend.getExperimentByName(idOrName);
  } catch (err) {
    if (isTrestleError(err, 'NOT_FOUND')) {
      throw new TrestleError(
        'NOT_FOUND',
        `no experiment with id or name '${idOrName}' (see 'trestle experiments list')`,
      );
    }
    throw err;
  }
}

/** All experiment ids, active and deleted (for searches across everything). */
export async function allExperimentIds(
  backend: TrackingBackend,
  viewType: 'ACTIVE_ONLY' | 'ALL' = 'ALL',
): Promise<string[]> {
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await backend.searchExperiments({
      viewType,
      maxResults: 1000,
      ...(pageToken === undefined ? {} : { pageToken }),
    });
    ids.push(...page.items.map((e) => e.experimentId));
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  return ids;
}

/** Resolves a full run id or a unique prefix of one (at least 4 characters), like git does. */
export async function resolveRunId(backend: TrackingBackend, idOrPrefix: string): Promise<string> {
  if (!/^[0-9a-f]{4,32}$/i.test(idOrPrefix)) {
    throw new UsageError(`'${idOrPrefix}' is not a run id (32 hex characters, or a unique prefix of at least 4)`);
  }
  const id = idOrPrefix.toLowerCase();
  if (id.length === 32) return id;
  const page = await backend.searchRuns({
    experimentIds: await allExperimentIds(backend),
    filter: `attributes.run_id LIKE '${id}%'`,
    viewType: 'ALL',
    maxResults: 2,
  });
  const [first, second] = page.items;
  if (first === undefined)
    throw new TrestleError('NOT_FOUND', `no run id starts with '${id}' (see 'trestle runs list')`);
  if (second !== undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `run id prefix '${id}' is ambiguous (${first.info.runId}, ${second.info.runId}, …); give more characters`,
    );
  }
  return first.info.runId;
}

/** Parses `--tag key=value` flags. */
export function parseKeyValues(values: string[] | undefined, flag: string): { key: string; value: string }[] {
  return (values ?? []).map((kv) => {
    const at = kv.indexOf('=');
    if (at <= 0) throw new UsageError(`--${flag} expects KEY=VALUE, got '${kv}'`);
    return { key: kv.slice(0, at), value: kv.slice(at + 1) };
  });
}

/** Parses a positive integer flag. */
export function parsePositiveInt(
  value: string | boolean | string[] | undefined,
  flag: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`--${flag} expects a positive integer, got '${String(value)}'`);
  }
  return n;
}
