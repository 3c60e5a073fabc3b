import type { Readable } from 'node:stream';
import {
  LOGGED_MODEL_STATUSES,
  TrestleError,
  type ArtifactEntry,
  type ArtifactStore,
  type LoggedModel,
  type LoggedModelStatus,
  type LoggedModelStore,
} from '@trestle/core';
import { pathSegment, type HttpClient } from './http.js';

/** The MLflow dialect's logged model (`GET /api/2.0/mlflow/logged-models/{id}`), as far as it is read. */
interface MlflowLoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms?: number | string;
    last_updated_timestamp_ms?: number | string;
    status?: string;
    status_message?: string;
    model_type?: string;
    source_run_id?: string;
    tags?: { key: string; value: string }[];
    registrations?: { name: string; version: string }[];
  };
  data?: { params?: { key: string; value: string }[] };
}

/** MLflow's `FileInfo` from the artifact proxy's listing. */
interface MlflowFileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number | string;
}

const MLFLOW_PREFIX = '/api/2.0/mlflow';
const PROXY_PREFIX = '/api/2.0/mlflow-artifacts/artifacts';

function statusOf(name: string | undefined): LoggedModelStatus {
  const short = (name ?? '').replace(/^LOGGED_MODEL_/, '').replace(/^UPLOAD_/, '');
  return (LOGGED_MODEL_STATUSES as readonly string[]).includes(short) ? (short as LoggedModelStatus) : 'PENDING';
}

function keyPath(key: string): string {
  return key
    .split('/')
    .filter((s) => s !== '')
    .map((s) => pathSegment(s, 'path'))
    .join('/');
}

/**
 * MLflow 3 logged models of a Trestle server, read through its MLflow dialect: the model from
 * `GET /api/2.0/mlflow/logged-models/{id}`, and its files (store keys
 * `<experiment>/models/<id>/artifacts/…`, as `loggedModelArtifactKey` builds them) listed and
 * downloaded through the MLflow artifact proxy, where 3.x clients upload them. What `loadModel`
 * needs for `models:/m-<id>` over HTTP. Constructing it does no I/O.
 *
 * @example
 * const models = new RestLoggedModels(new HttpClient({ trackingUri: 'http://localhost:5000' }));
 * const m = await models.getLoggedModel('m-0f…');
 * await models.artifacts.list(loggedModelArtifactKey(m)); // [{ path: '1/models/m-0f…/artifacts/MLmodel', … }]
 */
export class RestLoggedModels implements Pick<LoggedModelStore, 'getLoggedModel'> {
  /** The files of logged models (list and download only), by artifact store key. */
  readonly artifacts: Pick<ArtifactStore, 'list' | 'get'>;
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
    this.artifacts = { list: (dir) => this.#list(dir ?? ''), get: (key) => this.#get(key) };
  }

  /** `NOT_FOUND` when the server has no such model. */
  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    let model: MlflowLoggedModel;
    try {
      ({ model } = await this.#http.json<{ model: MlflowLoggedModel }>({
        method: 'GET',
        path: `${MLFLOW_PREFIX}/logged-models/${pathSegment(modelId, 'modelId')}`,
      }));
    } catch (err) {
      if (err instanceof TrestleError && err.code === 'NOT_FOUND') {
        throw new TrestleError(
          'NOT_FOUND',
          `the Trestle server at ${this.#http.baseUrl} has no logged model ${modelId}`,
          { modelId },
          { cause: err },
        );
      }
      throw err;
    }
    const { info } = model;
    return {
      modelId: info.model_id,
      experimentId: info.experiment_id,
      name: info.name,
      creationTime: Number(info.creation_timestamp_ms ?? 0),
      lastUpdatedTime: Number(info.last_updated_timestamp_ms ?? 0),
      status: statusOf(info.status),
      ...(info.status_message === undefined ? {} : { statusMessage: info.status_message }),
      ...(info.model_type === undefined ? {} : { modelType: info.model_type }),
      ...(info.source_run_id === undefined ? {} : { sourceRunId: info.source_run_id }),
      creator: '',
      tags: info.tags ?? [],
      params: model.data?.params ?? [],
      // Metrics are not needed to read the model's files; `trestle` shows them from the server.
      metrics: [],
      registrations: (info.registrations ?? []).map((r) => ({ name: r.name, version: Number(r.version) })),
    };
  }

  // One level, as the proxy lists it: `files[].path` are base names.
  async #list(dir: string): Promise<ArtifactEntry[]> {
    const root = dir.replace(/\/+$/, '');
    const { files } = await this.#http.json<{ files?: MlflowFileInfo[] }>({
      method: 'GET',
      path: PROXY_PREFIX,
      query: { path: root },
    });
    return (files ?? []).map((f): ArtifactEntry => {
      const path = `${root}/${f.path}`;
      return f.is_dir === true ? { path, isDir: true } : { path, isDir: false, size: Number(f.file_size ?? 0) };
    });
  }

  async #get(key: string): Promise<Readable> {
    const { body } = await this.#http.stream({ method: 'GET', path: `${PROXY_PREFIX}/${keyPath(key)}` });
    return body;
  }
}
