/**
 * The model registry in the metadata database (migration `0004-registry`): registered models,
 * versions, tags, aliases, and `registry_events`, the audit trail that also feeds the event
 * stream. Every write runs in one transaction with its event, so the trail never misses a
 * change and a change never happens without its record.
 */
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import {
  MODEL_STAGES,
  MODEL_VERSION_STATUSES,
  SYSTEM_TAGS,
  TrestleError,
  decodePageToken,
  encodePageToken,
  isTrestleError,
  parseFilter,
  parseOrderBy,
  validateTag,
} from '@trestle/core';
import type {
  ChangeContext,
  CreateModelVersionInput,
  CreateRegisteredModelInput,
  DatasetLineage,
  ListEventsOptions,
  ModelLineage,
  ModelStage,
  ModelVersion,
  ModelVersionStatus,
  Page,
  RegisteredModel,
  RegistryEvent,
  RegistryEventType,
  RegistrySearchOptions,
  RegistryStore,
  Tag,
  UpdateModelVersionInput,
} from '@trestle/core';
import type { SqlDialect } from './dialects.js';
import { compileRegistryFilter, compileRegistryOrder } from './registry-search.js';
import type { MetadataDatabase, ModelVersionsTable, RegisteredModelsTable, RegistryEventsTable } from './schema.js';

type Db = Kysely<MetadataDatabase>;

/** What {@link SqlRegistryStore} is built from (by `SqlMetadataStore`). */
export interface SqlRegistryStoreOptions {
  /** The database for reads, asked for on every call so that a closed store refuses use. */
  db: () => Db;
  /** Runs `fn` in the owning store's write transaction (retried on lost races). */
  write: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  dialect: SqlDialect;
  now?: () => number;
}

type ModelRow = Selectable<RegisteredModelsTable>;
type VersionRow = Selectable<ModelVersionsTable>;

const MAX_NAME = 500;
const MAX_ALIAS = 255;
const MAX_DESCRIPTION = 5000;
const MAX_SOURCE = 2000;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const ALIAS = /^[\w-]+$/;

/** Checks a registered model name: 1 to 500 characters, no control characters, no `/` (URIs split on it). */
function validateModelName(name: unknown, what = 'model name'): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new TrestleError('INVALID_ARGUMENT', `${what} must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (name.length > MAX_NAME || CONTROL.test(name) || name.includes('/')) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${what} ${JSON.stringify(name.slice(0, 80))} is not allowed: use at most ${MAX_NAME} characters, no '/' and no control characters`,
      { name },
    );
  }
  return name;
}

/** Checks an alias: letters, digits, `_` and `-`; `latest` and `v<digits>` are reserved (as in MLflow). */
function validateAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !ALIAS.test(alias) || alias.length > MAX_ALIAS) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `invalid alias ${JSON.stringify(alias)}: aliases are 1 to ${MAX_ALIAS} letters, digits, underscores and dashes, such as 'champion'`,
      { alias },
    );
  }
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `alias '${alias}' is reserved ('latest' and 'v<number>' name versions in model URIs); choose another name such as 'champion'`,
      { alias },
    );
  }
  return alias;
}

/** Checks a version number: a positive integer (strings of digits are accepted). */
function parseVersion(version: unknown): number {
  const n = typeof version === 'string' && /^\d{1,15}$/.test(version) ? Number(version) : version;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `model version must be a positive integer such as 3, got ${JSON.stringify(version)}`,
      { version },
    );
  }
  return n;
}

function checkText(what: string, value: unknown, limit: number): string {
  if (typeof value !== 'string') throw new TrestleError('INVALID_ARGUMENT', `${what} must be a string`);
  if (value.length > limit) {
    throw new TrestleError('INVALID_ARGUMENT', `${what} is ${value.length} characters long; the limit is ${limit}`);
  }
  return value;
}

function checkStatus(status: unknown): ModelVersionStatus {
  if (!(MODEL_VERSION_STATUSES as readonly unknown[]).includes(status)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `model version status must be one of ${MODEL_VERSION_STATUSES.join(', ')}, got ${JSON.stringify(status)}`,
    );
  }
  return status as ModelVersionStatus;
}

/** Accepts MLflow's stage names in any case (`production` → `Production`). */
function parseStage(stage: unknown): ModelStage {
  const found = MODEL_STAGES.find((s) => typeof stage === 'string' && s.toLowerCase() === stage.toLowerCase());
  if (found === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `Invalid Model Version stage: ${String(stage)}. Value must be one of ${MODEL_STAGES.join(', ')}.`,
      { stage },
    );
  }
  return found;
}

function tagMap(tags: readonly Tag[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tags ?? []) {
    const v = validateTag(t);
    out.set(v.key, v.value);
  }
  return out;
}

function modelNotFound(name: string): TrestleError {
  return new TrestleError('NOT_FOUND', `registered model '${name}' does not exist; see 'trestle models list'`, {
    name,
  });
}

function versionNotFound(name: string, version: number): TrestleError {
  return new TrestleError(
    'NOT_FOUND',
    `version ${version} of registered model '${name}' does not exist; see 'trestle models show ${name}'`,
    { name, version },
  );
}

function nameTaken(name: string): TrestleError {
  return new TrestleError('ALREADY_EXISTS', `registered model '${name}' already exists; choose another name`, {
    name,
  });
}

interface EventInput {
  type: RegistryEventType;
  modelId: number | null;
  model: string;
  version?: number | undefined;
  alias?: string | undefined;
  oldVersion?: number | undefined;
  newVersion?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

function toEvent(row: Selectable<RegistryEventsTable>): RegistryEvent {
  return {
    id: Number(row.event_id),
    type: row.type as RegistryEventType,
    time: Number(row.time),
    actor: row.actor,
    model: row.model,
    ...(row.version === null ? {} : { version: Number(row.version) }),
    ...(row.alias === null ? {} : { alias: row.alias }),
    ...(row.old_version === null ? {} : { oldVersion: Number(row.old_version) }),
    ...(row.new_version === null ? {} : { newVersion: Number(row.new_version) }),
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.details === null ? {} : { details: JSON.parse(row.details) as Record<string, unknown> }),
  };
}

/**
 * A {@link RegistryStore} over the metadata database. Built by `SqlMetadataStore` as its
 * `registry`; writes share that store's transactions.
 *
 * @example
 * const v = await store.registry.createModelVersion({ name: 'fraud', source: 'runs:/4f2a…/model', runId: '4f2a…', createModel: true });
 * await store.registry.setAlias('fraud', 'champion', v.version, { actor: 'alice', reason: 'first' });
 */
export class SqlRegistryStore implements RegistryStore {
  readonly #db: () => Db;
  readonly #write: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  readonly #dialect: SqlDialect;
  readonly #now: () => number;

  constructor(options: SqlRegistryStoreOptions) {
    this.#db = options.db;
    this.#write = options.write;
    this.#dialect = options.dialect;
    this.#now = options.now ?? Date.now;
  }

  // ------------------------------------------------------------ helpers

  async #event(db: Db, ctx: ChangeContext | undefined, e: EventInput): Promise<void> {
    if (this.#dialect.serializeAppends !== undefined) await this.#dialect.serializeAppends.execute(db);
    await db
      .insertInto('registry_events')
      .values({
        type: e.type,
        time: this.#now(),
        actor: ctx?.actor ?? '',
        model_id: e.modelId,
        model: e.model,
        version: e.version ?? null,
        alias: e.alias ?? null,
        old_version: e.oldVersion ?? null,
        new_version: e.newVersion ?? null,
        reason: ctx?.reason ?? null,
        details: e.details === undefined ? null : JSON.stringify(e.details),
      })
      .execute();
  }

  async #modelRow(db: Db, name: string): Promise<ModelRow> {
    const row = await db
      .selectFrom('registered_models')
      .selectAll()
      .where('name', '=', validateModelName(name))
      .executeTakeFirst();
    if (row === undefined) throw modelNotFound(name);
    return row;
  }

  async #versionRow(db: Db, model: ModelRow, version: number): Promise<VersionRow> {
    const row = await db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', model.model_id)
      .where('version', '=', version)
      .executeTakeFirst();
    if (row === undefined) throw versionNotFound(model.name, version);
    return row;
  }

  async #touchModel(db: Db, modelId: number): Promise<void> {
    await db
      .updateTable('registered_models')
      .set({ last_updated_time: this.#now() })
      .where('model_id', '=', modelId)
      .execute();
  }

  async #hydrateModels(db: Db, rows: readonly ModelRow[]): Promise<RegisteredModel[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.model_id);
    const [tags, aliases] = await Promise.all([
      db.selectFrom('registered_model_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      db.selectFrom('model_aliases').selectAll().where('model_id', 'in', ids).orderBy('alias').execute(),
    ]);
    return rows.map((r) => ({
      name: r.name,
      description: r.description,
      creationTime: Number(r.creation_time),
      lastUpdatedTime: Number(r.last_updated_time),
      userId: r.user_id,
      tags: tags.filter((t) => t.model_id === r.model_id).map((t) => ({ key: t.key, value: t.value })),
      aliases: aliases
        .filter((a) => a.model_id === r.model_id)
        .map((a) => ({ alias: a.alias, version: Number(a.version) })),
      latestVersion: Number(r.last_version),
    }));
  }

  async #hydrateVersions(db: Db, rows: readonly (VersionRow & { name: string })[]): Promise<ModelVersion[]> {
    if (rows.length === 0) return [];
    const ids = [...new Set(rows.map((r) => r.model_id))];
    const [tags, aliases] = await Promise.all([
      db.selectFrom('model_version_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      db.selectFrom('model_aliases').selectAll().where('model_id', 'in', ids).orderBy('alias').execute(),
    ]);
    return rows.map((r) => {
      const version = Number(r.version);
      return {
        name: r.name,
        version,
        creationTime: Number(r.creation_time),
        lastUpdatedTime: Number(r.last_updated_time),
        description: r.description,
        userId: r.user_id,
        source: r.source,
        ...(r.run_id === null ? {} : { runId: r.run_id }),
        ...(r.run_link === null ? {} : { runLink: r.run_link }),
        ...(r.logged_model_id === null ? {} : { modelId: r.logged_model_id }),
        status: r.status as ModelVersionStatus,
        ...(r.status_message === null ? {} : { statusMessage: r.status_message }),
        stage: r.stage as ModelStage,
        tags: tags
          .filter((t) => t.model_id === r.model_id && Number(t.version) === version)
          .map((t) => ({ key: t.key, value: t.value })),
        aliases: aliases.filter((a) => a.model_id === r.model_id && Number(a.version) === version).map((a) => a.alias),
      };
    });
  }

  async #getModel(db: Db, name: string): Promise<RegisteredModel> {
    const [model] = await this.#hydrateModels(db, [await this.#modelRow(db, name)]);
    return model!;
  }

  async #getVersion(db: Db, model: ModelRow, version: number): Promise<ModelVersion> {
    const row = await this.#versionRow(db, model, version);
    const [v] = await this.#hydrateVersions(db, [{ ...row, name: model.name }]);
    return v!;
  }

  // ------------------------------------------------------------ registered models

  async createRegisteredModel(input: CreateRegisteredModelInput, ctx?: ChangeContext): Promise<RegisteredModel> {
    const name = validateModelName(input.name);
    const description = checkText('description', input.description ?? '', MAX_DESCRIPTION);
    const tags = tagMap(input.tags);
    try {
      return await this.#write(async (db) => {
        await this.#insertModel(db, name, description, tags, ctx);
        return this.#getModel(db, name);
      });
    } catch (err) {
      if (this.#dialect.isUniqueViolation(err)) throw nameTaken(name);
      throw err;
    }
  }

  async #insertModel(
    db: Db,
    name: string,
    description: string,
    tags: Map<string, string>,
    ctx: ChangeContext | undefined,
  ): Promise<ModelRow> {
    const taken = await db
      .selectFrom('registered_models')
      .select('model_id')
      .where('name', '=', name)
      .executeTakeFirst();
    if (taken !== undefined) throw nameTaken(name);
    const now = this.#now();
    const row = await db
      .insertInto('registered_models')
      .values({
        name,
        description,
        user_id: ctx?.actor ?? '',
        creation_time: now,
        last_updated_time: now,
        last_version: 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (tags.size > 0) {
      await db
        .insertInto('registered_model_tags')
        .values([...tags].map(([key, value]) => ({ model_id: row.model_id, key, value })))
        .execute();
    }
    await this.#event(db, ctx, { type: 'model.created', modelId: row.model_id, model: name });
    return row;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.#getModel(this.#db(), name);
  }

  async searchRegisteredModels(options: RegistrySearchOptions = {}): Promise<Page<RegisteredModel>> {
    const db = this.#db();
    const where = compileRegistryFilter(
      parseFilter(options.filter, 'registered_models'),
      'registered_models',
      this.#dialect,
    );
    const order = compileRegistryOrder(parseOrderBy(options.orderBy, 'registered_models'), 'registered_models');
    const limit = pageSize(options.maxResults, 100);
    const { offset } = decodePageToken(options.pageToken);
    const { rows } = await sql<ModelRow>`
      SELECT m.* FROM registered_models m WHERE ${where}
      ORDER BY ${sql.join(order)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(db);
    const items = await this.#hydrateModels(db, rows.slice(0, limit));
    return rows.length > limit ? { items, nextPageToken: encodePageToken({ offset: offset + limit }) } : { items };
  }

  async renameRegisteredModel(name: string, newName: string, ctx?: ChangeContext): Promise<RegisteredModel> {
    const target = validateModelName(newName, 'new model name');
    try {
      return await this.#write(async (db) => {
        const row = await this.#modelRow(db, name);
        if (row.name === target) return this.#getModel(db, target);
        const taken = await db
          .selectFrom('registered_models')
          .select('model_id')
          .where('name', '=', target)
          .executeTakeFirst();
        if (taken !== undefined) throw nameTaken(target);
        await db
          .updateTable('registered_models')
          .set({ name: target, last_updated_time: this.#now() })
          .where('model_id', '=', row.model_id)
          .execute();
        await this.#event(db, ctx, {
          type: 'model.renamed',
          modelId: row.model_id,
          model: target,
          details: { oldName: row.name, newName: target },
        });
        return this.#getModel(db, target);
      });
    } catch (err) {
      if (this.#dialect.isUniqueViolation(err)) throw nameTaken(target);
      throw err;
    }
  }

  async updateRegisteredModel(
    name: string,
    input: { description?: string },
    ctx?: ChangeContext,
  ): Promise<RegisteredModel> {
    return this.#write(async (db) => {
      const row = await this.#modelRow(db, name);
      if (input.description !== undefined) {
        const description = checkText('description', input.description, MAX_DESCRIPTION);
        await db
          .updateTable('registered_models')
          .set({ description, last_updated_time: this.#now() })
          .where('model_id', '=', row.model_id)
          .execute();
        await this.#event(db, ctx, {
          type: 'model.updated',
          modelId: row.model_id,
          model: row.name,
          details: { field: 'description', old: row.description, new: description },
        });
      }
      return this.#getModel(db, row.name);
    });
  }

  async deleteRegisteredModel(name: string, ctx?: ChangeContext): Promise<void> {
    await this.#write(async (db) => {
      const row = await this.#modelRow(db, name);
      const id = row.model_id;
      await db.deleteFrom('model_aliases').where('model_id', '=', id).execute();
      await db.deleteFrom('model_version_tags').where('model_id', '=', id).execute();
      await db.deleteFrom('model_versions').where('model_id', '=', id).execute();
      await db.deleteFrom('registered_model_tags').where('model_id', '=', id).execute();
      await db.deleteFrom('registered_models').where('model_id', '=', id).execute();
      await this.#event(db, ctx, { type: 'model.deleted', modelId: id, model: row.name });
    });
  }

  async setRegisteredModelTag(name: string, key: string, value: string, ctx?: ChangeContext): Promise<void> {
    const tag = validateTag({ key, value });
    await this.#write(async (db) => {
      const row = await this.#modelRow(db, name);
      await db
        .insertInto('registered_model_tags')
        .values({ model_id: row.model_id, key: tag.key, value: tag.value })
        .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: tag.value }))
        .execute();
      await this.#touchModel(db, row.model_id);
      await this.#event(db, ctx, {
        type: 'model.updated',
        modelId: row.model_id,
        model: row.name,
        details: { field: 'tag', key: tag.key, new: tag.value },
      });
    });
  }

  async deleteRegisteredModelTag(name: string, key: string, ctx?: ChangeContext): Promise<void> {
    await this.#write(async (db) => {
      const row = await this.#modelRow(db, name);
      const deleted = await db
        .deleteFrom('registered_model_tags')
        .where('model_id', '=', row.model_id)
        .where('key', '=', key)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) {
        throw new TrestleError('NOT_FOUND', `registered model '${row.name}' has no tag '${key}'`, { name, key });
      }
      await this.#touchModel(db, row.model_id);
      await this.#event(db, ctx, {
        type: 'model.updated',
        modelId: row.model_id,
        model: row.name,
        details: { field: 'tag', key, deleted: true },
      });
    });
  }

  // ------------------------------------------------------------ versions

  async createModelVersion(input: CreateModelVersionInput, ctx?: ChangeContext): Promise<ModelVersion> {
    const name = validateModelName(input.name);
    const source = checkText('source', input.source, MAX_SOURCE);
    if (source === '') throw new TrestleError('INVALID_ARGUMENT', 'source must name where the model package is');
    const description = checkText('description', input.description ?? '', MAX_DESCRIPTION);
    const status = checkStatus(input.status ?? 'READY');
    const tags = tagMap(input.tags);
    const aliases = (input.aliases ?? []).map(validateAlias);
    if (aliases.length > 0 && status !== 'READY') {
      throw new TrestleError('FAILED_PRECONDITION', `aliases can only point at READY versions; this one is ${status}`);
    }
    try {
      return await this.#write(async (db) => {
        let model = await db.selectFrom('registered_models').selectAll().where('name', '=', name).executeTakeFirst();
        if (model === undefined) {
          if (input.createModel !== true) throw modelNotFound(name);
          model = await this.#insertModel(db, name, '', new Map(), ctx);
        }
        if (input.runId !== undefined && input.runId !== '') {
          const run = await db.selectFrom('runs').select('run_id').where('run_id', '=', input.runId).executeTakeFirst();
          if (run === undefined) {
            throw new TrestleError(
              'NOT_FOUND',
              `run '${input.runId}' does not exist; register a model from a run that is tracked here`,
              { runId: input.runId },
            );
          }
        }
        const now = this.#now();
        const bumped = await db
          .updateTable('registered_models')
          .set((eb) => ({ last_version: eb('last_version', '+', 1), last_updated_time: now }))
          .where('model_id', '=', model.model_id)
          .returning('last_version')
          .executeTakeFirstOrThrow();
        const version = Number(bumped.last_version);
        await db
          .insertInto('model_versions')
          .values({
            model_id: model.model_id,
            version,
            creation_time: now,
            last_updated_time: now,
            description,
            user_id: ctx?.actor ?? '',
            source,
            run_id: input.runId === undefined || input.runId === '' ? null : input.runId,
            run_link: input.runLink ?? null,
            logged_model_id: input.modelId ?? null,
            status,
            status_message: input.statusMessage ?? null,
            stage: 'None',
          })
          .execute();
        if (tags.size > 0) {
          await db
            .insertInto('model_version_tags')
            .values([...tags].map(([key, value]) => ({ model_id: model.model_id, version, key, value })))
            .execute();
        }
        await this.#event(db, ctx, {
          type: 'version.created',
          modelId: model.model_id,
          model: model.name,
          version,
          newVersion: version,
          details: { source, status, ...(input.runId ? { runId: input.runId } : {}) },
        });
        for (const alias of aliases) await this.#moveAlias(db, model, alias, version, ctx);
        return this.#getVersion(db, model, version);
      });
    } catch (err) {
      if (this.#dialect.isUniqueViolation(err)) {
        throw new TrestleError('UNAVAILABLE', `another writer registered '${name}' at the same moment; retry`, {
          name,
        });
      }
      throw err;
    }
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    const db = this.#db();
    return this.#getVersion(db, await this.#modelRow(db, name), parseVersion(version));
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const db = this.#db();
    const model = await this.#modelRow(db, name);
    const row = await db
      .selectFrom('model_aliases')
      .select('version')
      .where('model_id', '=', model.model_id)
      .where('alias', '=', String(alias))
      .executeTakeFirst();
    if (row === undefined) {
      throw new TrestleError(
        'NOT_FOUND',
        `registered model '${model.name}' has no alias '${alias}'; set it with 'trestle models alias ${model.name}@${alias} VERSION'`,
        { name, alias },
      );
    }
    return this.#getVersion(db, model, Number(row.version));
  }

  async getLatestVersions(name: string, stages?: readonly ModelStage[]): Promise<ModelVersion[]> {
    const db = this.#db();
    const model = await this.#modelRow(db, name);
    const wanted = stages === undefined || stages.length === 0 ? MODEL_STAGES : stages.map(parseStage);
    const rows = await db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', model.model_id)
      .orderBy('version', 'desc')
      .execute();
    const latest = new Map<string, VersionRow>();
    for (const r of rows) if (wanted.includes(r.stage as ModelStage) && !latest.has(r.stage)) latest.set(r.stage, r);
    const picked = [...latest.values()].sort((a, b) => Number(a.version) - Number(b.version));
    return this.#hydrateVersions(
      db,
      picked.map((r) => ({ ...r, name: model.name })),
    );
  }

  async searchModelVersions(options: RegistrySearchOptions = {}): Promise<Page<ModelVersion>> {
    const db = this.#db();
    const where = compileRegistryFilter(parseFilter(options.filter, 'model_versions'), 'model_versions', this.#dialect);
    const order = compileRegistryOrder(parseOrderBy(options.orderBy, 'model_versions'), 'model_versions');
    const limit = pageSize(options.maxResults, 1000);
    const { offset } = decodePageToken(options.pageToken);
    const { rows } = await sql<VersionRow & { name: string }>`
      SELECT v.*, m.name AS name FROM model_versions v JOIN registered_models m ON m.model_id = v.model_id
      WHERE ${where} ORDER BY ${sql.join(order)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(db);
    const items = await this.#hydrateVersions(db, rows.slice(0, limit));
    return rows.length > limit ? { items, nextPageToken: encodePageToken({ offset: offset + limit }) } : { items };
  }

  async updateModelVersion(
    name: string,
    version: number,
    input: UpdateModelVersionInput,
    ctx?: ChangeContext,
  ): Promise<ModelVersion> {
    const v = parseVersion(version);
    const changes: { field: string; old: unknown; new: unknown }[] = [];
    return this.#write(async (db) => {
      const model = await this.#modelRow(db, name);
      const row = await this.#versionRow(db, model, v);
      const set: Partial<VersionRow> = {};
      if (input.description !== undefined) {
        set.description = checkText('description', input.description, MAX_DESCRIPTION);
        changes.push({ field: 'description', old: row.description, new: set.description });
      }
      if (input.status !== undefined) {
        set.status = checkStatus(input.status);
        changes.push({ field: 'status', old: row.status, new: set.status });
        if (set.status !== 'READY') await this.#refuseIfAliased(db, model, v, `mark it ${set.status}`);
      }
      if (input.statusMessage !== undefined)
        set.status_message = checkText('status message', input.statusMessage, 5000);
      if (input.stage !== undefined) {
        set.stage = parseStage(input.stage);
        changes.push({ field: 'stage', old: row.stage, new: set.stage });
      }
      if (Object.keys(set).length > 0) {
        await db
          .updateTable('model_versions')
          .set({ ...set, last_updated_time: this.#now() })
          .where('model_id', '=', model.model_id)
          .where('version', '=', v)
          .execute();
        await this.#touchModel(db, model.model_id);
        for (const change of changes) {
          await this.#event(db, ctx, {
            type: 'version.updated',
            modelId: model.model_id,
            model: model.name,
            version: v,
            details: change,
          });
        }
      }
      return this.#getVersion(db, model, v);
    });
  }

  async #refuseIfAliased(db: Db, model: ModelRow, version: number, action: string): Promise<void> {
    const aliases = await db
      .selectFrom('model_aliases')
      .select('alias')
      .where('model_id', '=', model.model_id)
      .where('version', '=', version)
      .execute();
    if (aliases.length > 0) {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `version ${version} of '${model.name}' carries alias${aliases.length > 1 ? 'es' : ''} ${aliases.map((a) => `'${a.alias}'`).join(', ')}; move or delete them before you ${action}`,
        { name: model.name, version },
      );
    }
  }

  async transitionStage(
    name: string,
    version: number,
    stage: ModelStage,
    archiveExisting: boolean,
    ctx?: ChangeContext,
  ): Promise<ModelVersion> {
    const v = parseVersion(version);
    const target = parseStage(stage);
    return this.#write(async (db) => {
      const model = await this.#modelRow(db, name);
      const row = await this.#versionRow(db, model, v);
      const now = this.#now();
      if (archiveExisting && (target === 'Staging' || target === 'Production')) {
        const others = await db
          .selectFrom('model_versions')
          .select(['version', 'stage'])
          .where('model_id', '=', model.model_id)
          .where('stage', '=', target)
          .where('version', '!=', v)
          .execute();
        for (const other of others) {
          await db
            .updateTable('model_versions')
            .set({ stage: 'Archived', last_updated_time: now })
            .where('model_id', '=', model.model_id)
            .where('version', '=', other.version)
            .execute();
          await this.#event(db, ctx, {
            type: 'version.updated',
            modelId: model.model_id,
            model: model.name,
            version: Number(other.version),
            details: { field: 'stage', old: other.stage, new: 'Archived' },
          });
        }
      }
      await db
        .updateTable('model_versions')
        .set({ stage: target, last_updated_time: now })
        .where('model_id', '=', model.model_id)
        .where('version', '=', v)
        .execute();
      await this.#touchModel(db, model.model_id);
      await this.#event(db, ctx, {
        type: 'version.updated',
        modelId: model.model_id,
        model: model.name,
        version: v,
        details: { field: 'stage', old: row.stage, new: target },
      });
      return this.#getVersion(db, model, v);
    });
  }

  async deleteModelVersion(name: string, version: number, ctx?: ChangeContext): Promise<void> {
    const v = parseVersion(version);
    await this.#write(async (db) => {
      const model = await this.#modelRow(db, name);
      await this.#versionRow(db, model, v);
      const aliases = await db
        .selectFrom('model_aliases')
        .select('alias')
        .where('model_id', '=', model.model_id)
        .where('version', '=', v)
        .execute();
      for (const { alias } of aliases) {
        await db
          .deleteFrom('model_aliases')
          .where('model_id', '=', model.model_id)
          .where('alias', '=', alias)
          .execute();
        await this.#event(db, ctx, {
          type: 'alias.deleted',
          modelId: model.model_id,
          model: model.name,
          alias,
          version: v,
          oldVersion: v,
          details: { because: 'version deleted' },
        });
      }
      await db
        .deleteFrom('model_version_tags')
        .where('model_id', '=', model.model_id)
        .where('version', '=', v)
        .execute();
      await db.deleteFrom('model_versions').where('model_id', '=', model.model_id).where('version', '=', v).execute();
      await this.#touchModel(db, model.model_id);
      await this.#event(db, ctx, {
        type: 'version.deleted',
        modelId: model.model_id,
        model: model.name,
        version: v,
        oldVersion: v,
      });
    });
  }

  async setModelVersionTag(
    name: string,
    version: number,
    key: string,
    value: string,
    ctx?: ChangeContext,
  ): Promise<void> {
    const v = parseVersion(version);
    const tag = validateTag({ key, value });
    await this.#write(async (db) => {
      const model = await this.#modelRow(db, name);
      await this.#versionRow(db, model, v);
      await db
        .insertInto('model_version_tags')
        .values({ model_id: model.model_id, version: v, key: tag.key, value: tag.value })
        .onConflict((oc) => oc.columns(['model_id', 'version', 'key']).doUpdateSet({ value: tag.value }))
        .execute();
      await db
        .updateTable('model_versions')
        .set({ last_updated_time: this.#now() })
        .where('model_id', '=', model.model_id)
        .where('version', '=', v)
        .execute();
      await this.#event(db, ctx, {
        type: 'version.updated',
        modelId: model.model_id,
        model: model.name,
        version: v,
        details: { field: 'tag', key: tag.key, new: tag.value },
      });
    });
  }

  async deleteModelVersionTag(name: string, version: number, key: string, ctx?: ChangeContext): Promise<void> {
    const v = parseVersion(version);
    await this.#write(async (db) => {
      const model = await this.#modelRow(db, name);
      await this.#versionRow(db, model, v);
      const deleted = await db
        .deleteFrom('model_version_tags')
        .where('model_id', '=', model.model_id)
        .where('version', '=', v)
        .where('key', '=', key)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) {
        throw new TrestleError('NOT_FOUND', `version ${v} of '${model.name}' has no tag '${key}'`, {
          name,
          version: v,
          key,
        });
      }
      await this.#event(db, ctx, {
        type: 'version.updated',
        modelId: model.model_id,
        model: model.name,
        version: v,
        details: { field: 'tag', key, deleted: true },
      });
    });
  }

  // ------------------------------------------------------------ aliases

  async #moveAlias(
    db: Db,
    model: ModelRow,
    alias: string,
    version: number,
    ctx: ChangeContext | undefined,
    details?: Record<string, unknown>,
  ): Promise<void> {
    const row = await this.#versionRow(db, model, version);
    if (row.status !== 'READY') {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `version ${version} of '${model.name}' is ${row.status}, not READY; an alias can only point at a READY version`,
        { name: model.name, version, status: row.status },
      );
    }
    const current = await db
      .selectFrom('model_aliases')
      .select('version')
      .where('model_id', '=', model.model_id)
      .where('alias', '=', alias)
      .executeTakeFirst();
    const old = current === undefined ? undefined : Number(current.version);
    if (old === version) return;
    await db
      .insertInto('model_aliases')
      .values({ model_id: model.model_id, alias, version })
      .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version }))
      .execute();
    await this.#touchModel(db, model.model_id);
    await this.#event(db, ctx, {
      type: 'alias.set',
      modelId: model.model_id,
      model: model.name,
      alias,
      version,
      oldVersion: old,
      newVersion: version,
      details,
    });
  }

  async setAlias(name: string, alias: string, version: number, ctx?: ChangeContext): Promise<void> {
    const a = validateAlias(alias);
    const v = parseVersion(version);
    await this.#write(async (db) => this.#moveAlias(db, await this.#modelRow(db, name), a, v, ctx));
  }

  async deleteAlias(name: string, alias: string, ctx?: ChangeContext): Promise<void> {
    await this.#write(async (db) => {
      const model = await this.#modelRow(db, name);
      const current = await db
        .selectFrom('model_aliases')
        .select('version')
        .where('model_id', '=', model.model_id)
        .where('alias', '=', String(alias))
        .executeTakeFirst();
      if (current === undefined) {
        throw new TrestleError('NOT_FOUND', `registered model '${model.name}' has no alias '${alias}'`, {
          name,
          alias,
        });
      }
      await db
        .deleteFrom('model_aliases')
        .where('model_id', '=', model.model_id)
        .where('alias', '=', String(alias))
        .execute();
      await this.#touchModel(db, model.model_id);
      await this.#event(db, ctx, {
        type: 'alias.deleted',
        modelId: model.model_id,
        model: model.name,
        alias: String(alias),
        version: Number(current.version),
        oldVersion: Number(current.version),
      });
    });
  }

  async rollbackAlias(name: string, alias: string, ctx?: ChangeContext): Promise<ModelVersion> {
    const a = validateAlias(alias);
    return this.#write(async (db) => {
      const model = await this.#modelRow(db, name);
      const current = await db
        .selectFrom('model_aliases')
        .select('version')
        .where('model_id', '=', model.model_id)
        .where('alias', '=', a)
        .executeTakeFirst();
      if (current === undefined) {
        throw new TrestleError('NOT_FOUND', `registered model '${model.name}' has no alias '${a}' to roll back`, {
          name,
          alias: a,
        });
      }
      const last = await db
        .selectFrom('registry_events')
        .selectAll()
        .where('model_id', '=', model.model_id)
        .where('type', '=', 'alias.set')
        .where('alias', '=', a)
        .orderBy('event_id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const previous = last?.old_version ?? null;
      if (previous === null) {
        throw new TrestleError(
          'FAILED_PRECONDITION',
          `alias '${a}' of '${model.name}' has no earlier version to roll back to (it was first set to version ${Number(current.version)})`,
          { name: model.name, alias: a },
        );
      }
      const exists = await db
        .selectFrom('model_versions')
        .select('version')
        .where('model_id', '=', model.model_id)
        .where('version', '=', Number(previous))
        .executeTakeFirst();
      if (exists === undefined) {
        throw new TrestleError(
          'FAILED_PRECONDITION',
          `alias '${a}' of '${model.name}' pointed at version ${Number(previous)} before, which was deleted; set the alias explicitly`,
          { name: model.name, alias: a, version: Number(previous) },
        );
      }
      await this.#moveAlias(db, model, a, Number(previous), ctx, { rollback: true, undoes: Number(last!.event_id) });
      return this.#getVersion(db, model, Number(previous));
    });
  }

  // ------------------------------------------------------------ lineage

  async getVersionLineage(name: string, version: number): Promise<ModelLineage> {
    const db = this.#db();
    const mv = await this.getModelVersion(name, version);
    if (mv.runId === undefined) return { version: mv };
    const run = await db
      .selectFrom('runs')
      .select(['run_id', 'run_name', 'experiment_id', 'status'])
      .where('run_id', '=', mv.runId)
      .executeTakeFirst();
    if (run === undefined) return { version: mv };
    const datasets = await db
      .selectFrom('inputs as i')
      .innerJoin('datasets as d', 'd.dataset_id', 'i.dataset_id')
      .leftJoin('input_tags as t', (j) =>
        j.onRef('t.input_id', '=', 'i.input_id').on('t.key', '=', SYSTEM_TAGS.datasetContext),
      )
      .select(['d.name', 'd.digest', 'd.source', 't.value as context'])
      .where('i.run_id', '=', run.run_id)
      .orderBy('d.name')
      .execute();
    return {
      version: mv,
      run: {
        runId: run.run_id,
        runName: run.run_name,
        experimentId: String(run.experiment_id),
        status: run.status,
        datasets: datasets.map((d) => ({
          name: d.name,
          digest: d.digest,
          source: d.source,
          ...(d.context === null ? {} : { context: d.context }),
        })),
      },
    };
  }

  async getDatasetLineage(digest: string): Promise<DatasetLineage> {
    if (typeof digest !== 'string' || digest === '') {
      throw new TrestleError('INVALID_ARGUMENT', 'dataset digest must be a non-empty string');
    }
    const db = this.#db();
    const runs = await db
      .selectFrom('datasets as d')
      .innerJoin('inputs as i', 'i.dataset_id', 'd.dataset_id')
      .innerJoin('runs as r', 'r.run_id', 'i.run_id')
      .leftJoin('input_tags as t', (j) =>
        j.onRef('t.input_id', '=', 'i.input_id').on('t.key', '=', SYSTEM_TAGS.datasetContext),
      )
      .select(['r.run_id', 'r.run_name', 'r.experiment_id', 'd.name', 't.value as context'])
      .where('d.digest', '=', digest)
      .orderBy('r.start_time', 'desc')
      .execute();
    const runIds = [...new Set(runs.map((r) => r.run_id))];
    const versions =
      runIds.length === 0
        ? []
        : await db
            .selectFrom('model_versions as v')
            .innerJoin('registered_models as m', 'm.model_id', 'v.model_id')
            .select(['m.name', 'v.version', 'v.run_id', 'v.model_id'])
            .where('v.run_id', 'in', runIds)
            .orderBy('m.name')
            .orderBy('v.version', 'desc')
            .execute();
    const aliases =
      versions.length === 0
        ? []
        : await db
            .selectFrom('model_aliases')
            .selectAll()
            .where('model_id', 'in', [...new Set(versions.map((v) => v.model_id))])
            .execute();
    return {
      digest,
      runs: runs.map((r) => ({
        runId: r.run_id,
        runName: r.run_name,
        experimentId: String(r.experiment_id),
        datasetName: r.name,
        ...(r.context === null ? {} : { context: r.context }),
      })),
      versions: versions.map((v) => ({
        name: v.name,
        version: Number(v.version),
        runId: v.run_id ?? '',
        aliases: aliases
          .filter((a) => a.model_id === v.model_id && Number(a.version) === Number(v.version))
          .map((a) => a.alias),
      })),
    };
  }

  // ------------------------------------------------------------ events

  async listEvents(options: ListEventsOptions = {}): Promise<RegistryEvent[]> {
    const limit = options.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
      throw new TrestleError('INVALID_ARGUMENT', `limit must be 1 to 10000, got ${String(options.limit)}`);
    }
    const db = this.#db();
    let query = db.selectFrom('registry_events').selectAll();
    if (options.after !== undefined) query = query.where('event_id', '>', options.after);
    let missing: TrestleError | undefined;
    if (options.model !== undefined) {
      try {
        const model = await this.#modelRow(db, options.model);
        query = query.where('model_id', '=', model.model_id);
      } catch (err) {
        if (!isTrestleError(err, 'NOT_FOUND')) throw err;
        // A deleted model keeps its trail, under the name it had.
        missing = err;
        query = query.where('model', '=', options.model);
      }
    }
    if (options.types !== undefined && options.types.length > 0) query = query.where('type', 'in', [...options.types]);
    const rows = await query
      .orderBy('event_id', options.order === 'desc' ? 'desc' : 'asc')
      .limit(limit)
      .execute();
    if (missing !== undefined && rows.length === 0) {
      const any = await db
        .selectFrom('registry_events')
        .select('event_id')
        .where('model', '=', options.model!)
        .limit(1)
        .execute();
      if (any.length === 0) throw missing;
    }
    return rows.map(toEvent);
  }

  async lastEventId(): Promise<number> {
    const row = await this.#db()
      .selectFrom('registry_events')
      .select((eb) => eb.fn.max('event_id').as('last'))
      .executeTakeFirst();
    return row?.last === null || row?.last === undefined ? 0 : Number(row.last);
  }
}

function pageSize(maxResults: number | undefined, fallback: number): number {
  if (maxResults === undefined) return fallback;
  if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > 50_000) {
    throw new TrestleError('INVALID_ARGUMENT', `maxResults must be an integer between 1 and 50000, got ${maxResults}`);
  }
  return maxResults;
}
