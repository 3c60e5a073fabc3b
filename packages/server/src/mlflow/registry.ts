/**
 * MLflow's model registry RPCs (`model_registry.proto`): registered models, model versions,
 * tags, aliases, the deprecated stages and `get-download-uri`, translated onto the
 * `RegistryStore` port with MLflow's field names, shapes and error codes. Versions are strings
 * on the wire, numbers in the store.
 */
import type { MetadataStore, ModelStage, ModelVersion, RegisteredModel } from '@trestle/core';
import { MODEL_STAGES, TrestleError, isTrestleError } from '@trestle/core';
import { changeContext } from '../change-context.js';
import { invalidParameter, missingParameter } from './errors.js';
import { readMaxResults, type RequestMessage } from './request-message.js';
import type { MlflowRoute } from './routes.js';
import { readKeyValues, type ClientUris } from './translate.js';

/** MLflow `ModelVersion`. */
interface MlflowModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: string;
  description?: string;
  source: string;
  run_id?: string;
  status: string;
  status_message?: string;
  tags?: { key: string; value: string }[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

/** MLflow `RegisteredModel`. */
interface MlflowRegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  description?: string;
  latest_versions?: MlflowModelVersion[];
  tags?: { key: string; value: string }[];
  aliases?: { alias: string; version: string }[];
}

/** A model version as MLflow JSON; empty optional fields are left out, as MLflow's proto JSON does. */
function toMlflowModelVersion(v: ModelVersion): MlflowModelVersion {
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.creationTime,
    last_updated_timestamp: v.lastUpdatedTime,
    ...(v.userId ? { user_id: v.userId } : {}),
    current_stage: v.stage,
    ...(v.description ? { description: v.description } : {}),
    source: v.source,
    ...(v.runId ? { run_id: v.runId } : {}),
    status: v.status,
    ...(v.statusMessage ? { status_message: v.statusMessage } : {}),
    ...(v.tags.length > 0 ? { tags: v.tags } : {}),
    ...(v.runLink ? { run_link: v.runLink } : {}),
    ...(v.aliases.length > 0 ? { aliases: v.aliases } : {}),
    ...(v.modelId ? { model_id: v.modelId } : {}),
  };
}

/** A registered model as MLflow JSON, with its latest version per stage. */
function toMlflowRegisteredModel(m: RegisteredModel, latest: ModelVersion[]): MlflowRegisteredModel {
  return {
    name: m.name,
    creation_timestamp: m.creationTime,
    last_updated_timestamp: m.lastUpdatedTime,
    ...(m.userId ? { user_id: m.userId } : {}),
    ...(m.description ? { description: m.description } : {}),
    ...(latest.length > 0 ? { latest_versions: latest.map(toMlflowModelVersion) } : {}),
    ...(m.tags.length > 0 ? { tags: m.tags } : {}),
    ...(m.aliases.length > 0
      ? { aliases: m.aliases.map((a) => ({ alias: a.alias, version: String(a.version) })) }
      : {}),
  };
}

/** MLflow's not-found wordings, which clients show to users. */
function mlflowMessages<T>(work: Promise<T>, name: string, version?: number, alias?: string): Promise<T> {
  return work.catch((err: unknown) => {
    if (isTrestleError(err, 'NOT_FOUND')) {
      const what = err.message;
      if (alias !== undefined && /alias/.test(what)) {
        throw new TrestleError('NOT_FOUND', `Registered model alias ${alias} not found.`, { name, alias });
      }
      if (version !== undefined && /^version/.test(what)) {
        throw new TrestleError('NOT_FOUND', `Model Version (name=${name}, version=${version}) not found`, {
          name,
          version,
        });
      }
      if (/^registered model/.test(what)) {
        throw new TrestleError('NOT_FOUND', `Registered Model with name=${name} not found`, { name });
      }
    }
    if (isTrestleError(err, 'ALREADY_EXISTS') && /^registered model/.test(err.message)) {
      throw new TrestleError('ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`, { name });
    }
    throw err;
  });
}

function readVersion(msg: RequestMessage): number {
  const version = msg.int64('version');
  if (version === undefined) throw missingParameter('version');
  if (version < 1) throw invalidParameter('version', version, 'a positive version number');
  return version;
}

function readStage(msg: RequestMessage, field = 'stage'): ModelStage {
  const raw = msg.requiredString(field);
  const stage = MODEL_STAGES.find((s) => s.toLowerCase() === raw.toLowerCase());
  if (stage === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `Invalid Model Version stage: ${raw}. Value must be one of ${MODEL_STAGES.join(', ')}.`,
    );
  }
  return stage;
}

/** Where a version's files are, as an MLflow client downloads them (MLflow's `storage_location`). */
async function downloadUri(metadata: MetadataStore, locations: ClientUris, v: ModelVersion): Promise<string> {
  const runs = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(v.source);
  if (runs !== null) {
    const run = await metadata.getRun(runs[1]!).catch(() => undefined);
    if (run !== undefined) {
      const base = locations.clientUri(run.info.artifactUri);
      const path = (runs[2] ?? '').replace(/^\/+|\/+$/g, '');
      return path === '' ? base : `${base}/${path}`;
    }
  }
  const logged = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(v.source);
  const modelId = logged?.[1] ?? v.modelId;
  if (modelId !== undefined && metadata.loggedModels !== undefined) {
    const model = await metadata.loggedModels.getLoggedModel(modelId).catch(() => undefined);
    if (model !== undefined) return `mlflow-artifacts:/${model.experimentId}/models/${model.modelId}/artifacts`;
  }
  return v.source;
}

async function withLatest(metadata: MetadataStore, m: RegisteredModel): Promise<MlflowRegisteredModel> {
  return toMlflowRegisteredModel(m, await metadata.registry.getLatestVersions(m.name));
}

function searchOf(msg: RequestMessage, fallback: number, max: number) {
  const filter = msg.string('filter');
  const orderBy = msg.strings('order_by');
  const pageToken = msg.string('page_token');
  const maxResults = readMaxResults(msg, 'max_results', max) ?? fallback;
  return {
    ...(filter ? { filter } : {}),
    ...(orderBy.length > 0 ? { orderBy } : {}),
    ...(pageToken ? { pageToken } : {}),
    maxResults,
  };
}

/** The registry RPCs under `/mlflow`. */
export const registryRoutes: readonly MlflowRoute[] = [
  {
    methods: ['POST'],
    url: '/registered-models/create',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const description = msg.string('description');
      const model = await mlflowMessages(
        metadata.registry.createRegisteredModel(
          { name, ...(description ? { description } : {}), tags: readKeyValues(msg, 'tags') },
          changeContext(request),
        ),
        name,
      );
      return { registered_model: toMlflowRegisteredModel(model, []) };
    },
  },
  {
    methods: ['GET'],
    url: '/registered-models/get',
    handle: async (msg, { metadata }) => {
      const name = msg.requiredString('name');
      return {
        registered_model: await withLatest(
          metadata,
          await mlflowMessages(metadata.registry.getRegisteredModel(name), name),
        ),
      };
    },
  },
  {
    methods: ['POST'],
    url: '/registered-models/rename',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const newName = msg.requiredString('new_name');
      const model = await mlflowMessages(
        metadata.registry.renameRegisteredModel(name, newName, changeContext(request)),
        name,
      ).catch((err: unknown) => {
        if (isTrestleError(err, 'ALREADY_EXISTS')) {
          throw new TrestleError('ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
        }
        throw err;
      });
      return { registered_model: await withLatest(metadata, model) };
    },
  },
  {
    methods: ['PATCH'],
    url: '/registered-models/update',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const description = msg.string('description');
      const model = await mlflowMessages(
        metadata.registry.updateRegisteredModel(
          name,
          description === undefined ? {} : { description },
          changeContext(request),
        ),
        name,
      );
      return { registered_model: await withLatest(metadata, model) };
    },
  },
  {
    methods: ['DELETE'],
    url: '/registered-models/delete',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      await mlflowMessages(metadata.registry.deleteRegisteredModel(name, changeContext(request)), name);
      return {};
    },
  },
  {
    methods: ['GET'],
    url: '/registered-models/search',
    handle: async (msg, { metadata }) => {
      const page = await metadata.registry.searchRegisteredModels(searchOf(msg, 100, 1000));
      const models = await Promise.all(page.items.map((m) => withLatest(metadata, m)));
      return {
        ...(models.length > 0 ? { registered_models: models } : {}),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  },
  {
    methods: ['GET', 'POST'],
    url: '/registered-models/get-latest-versions',
    handle: async (msg, { metadata }) => {
      const name = msg.requiredString('name');
      const stages = msg.strings('stages').map((s) => {
        const stage = MODEL_STAGES.find((x) => x.toLowerCase() === s.toLowerCase());
        if (stage === undefined) {
          throw new TrestleError(
            'INVALID_ARGUMENT',
            `Invalid Model Version stage: ${s}. Value must be one of ${MODEL_STAGES.join(', ')}.`,
          );
        }
        return stage;
      });
      const versions = await mlflowMessages(metadata.registry.getLatestVersions(name, stages), name);
      return versions.length > 0 ? { model_versions: versions.map(toMlflowModelVersion) } : {};
    },
  },
  {
    methods: ['POST'],
    url: '/registered-models/set-tag',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const key = msg.requiredString('key');
      const value = msg.string('value');
      if (value === undefined) throw missingParameter('value');
      await mlflowMessages(metadata.registry.setRegisteredModelTag(name, key, value, changeContext(request)), name);
      return {};
    },
  },
  {
    methods: ['DELETE'],
    url: '/registered-models/delete-tag',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const key = msg.requiredString('key');
      await mlflowMessages(metadata.registry.deleteRegisteredModelTag(name, key, changeContext(request)), name);
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/registered-models/alias',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const alias = msg.requiredString('alias');
      const version = readVersion(msg);
      await mlflowMessages(metadata.registry.setAlias(name, alias, version, changeContext(request)), name, version);
      return {};
    },
  },
  {
    methods: ['DELETE'],
    url: '/registered-models/alias',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const alias = msg.requiredString('alias');
      await mlflowMessages(metadata.registry.deleteAlias(name, alias, changeContext(request)), name, undefined, alias);
      return {};
    },
  },
  {
    methods: ['GET'],
    url: '/registered-models/alias',
    handle: async (msg, { metadata }) => {
      const name = msg.requiredString('name');
      const alias = msg.requiredString('alias');
      const v = await mlflowMessages(metadata.registry.getModelVersionByAlias(name, alias), name, undefined, alias);
      return { model_version: toMlflowModelVersion(v) };
    },
  },
  {
    methods: ['POST'],
    url: '/model-versions/create',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const source = msg.requiredString('source');
      const runId = msg.string('run_id');
      const runLink = msg.string('run_link');
      const description = msg.string('description');
      let modelId = msg.string('model_id');
      const logged = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(source);
      if (!modelId && logged !== null) modelId = logged[1];
      if (modelId && metadata.loggedModels !== undefined) {
        // The logged model must exist; MLflow answers RESOURCE_DOES_NOT_EXIST otherwise.
        await metadata.loggedModels.getLoggedModel(modelId);
      }
      const v = await mlflowMessages(
        metadata.registry.createModelVersion(
          {
            name,
            source,
            ...(runId ? { runId } : {}),
            ...(runLink ? { runLink } : {}),
            ...(description ? { description } : {}),
            ...(modelId ? { modelId } : {}),
            tags: readKeyValues(msg, 'tags'),
          },
          changeContext(request),
        ),
        name,
      );
      return { model_version: toMlflowModelVersion(v) };
    },
  },
  {
    methods: ['GET'],
    url: '/model-versions/get',
    handle: async (msg, { metadata }) => {
      const name = msg.requiredString('name');
      const version = readVersion(msg);
      const v = await mlflowMessages(metadata.registry.getModelVersion(name, version), name, version);
      return { model_version: toMlflowModelVersion(v) };
    },
  },
  {
    methods: ['PATCH'],
    url: '/model-versions/update',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const version = readVersion(msg);
      const description = msg.string('description');
      const v = await mlflowMessages(
        metadata.registry.updateModelVersion(
          name,
          version,
          description === undefined ? {} : { description },
          changeContext(request),
        ),
        name,
        version,
      );
      return { model_version: toMlflowModelVersion(v) };
    },
  },
  {
    methods: ['DELETE'],
    url: '/model-versions/delete',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const version = readVersion(msg);
      await mlflowMessages(metadata.registry.deleteModelVersion(name, version, changeContext(request)), name, version);
      return {};
    },
  },
  {
    methods: ['GET'],
    url: '/model-versions/search',
    handle: async (msg, { metadata }) => {
      const page = await metadata.registry.searchModelVersions(searchOf(msg, 10_000, 50_000));
      return {
        ...(page.items.length > 0 ? { model_versions: page.items.map(toMlflowModelVersion) } : {}),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  },
  {
    methods: ['GET'],
    url: '/model-versions/get-download-uri',
    handle: async (msg, { metadata, locations }) => {
      const name = msg.requiredString('name');
      const version = readVersion(msg);
      const v = await mlflowMessages(metadata.registry.getModelVersion(name, version), name, version);
      return { artifact_uri: await downloadUri(metadata, locations, v) };
    },
  },
  {
    methods: ['POST'],
    url: '/model-versions/transition-stage',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const version = readVersion(msg);
      const stage = readStage(msg);
      const archive = msg.bool('archive_existing_versions') ?? false;
      const v = await mlflowMessages(
        metadata.registry.transitionStage(name, version, stage, archive, changeContext(request)),
        name,
        version,
      );
      return { model_version: toMlflowModelVersion(v) };
    },
  },
  {
    methods: ['POST'],
    url: '/model-versions/set-tag',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const version = readVersion(msg);
      const key = msg.requiredString('key');
      const value = msg.string('value');
      if (value === undefined) throw missingParameter('value');
      await mlflowMessages(
        metadata.registry.setModelVersionTag(name, version, key, value, changeContext(request)),
        name,
        version,
      );
      return {};
    },
  },
  {
    methods: ['DELETE'],
    url: '/model-versions/delete-tag',
    handle: async (msg, { metadata, request }) => {
      const name = msg.requiredString('name');
      const version = readVersion(msg);
      const key = msg.requiredString('key');
      await mlflowMessages(
        metadata.registry.deleteModelVersionTag(name, version, key, changeContext(request)),
        name,
        version,
      );
      return {};
    },
  },
];
