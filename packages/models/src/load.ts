/**
 * The one loader: `loadModel(uri)` for a folder, `runs:/…`, `models:/…/<version>` and
 * `models:/…@<alias>`, giving a model with its signature and `predict`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  TrestleError,
  loggedModelArtifactKey,
  runArtifactKey,
  type ArtifactStore,
  type LoggedModelStore,
  type TrackingBackend,
} from '@trestle/core';
import { readBuiltinModel } from './builtin/builtin-model.js';
import { MANIFEST_FILE, parseManifest, type Flavor, type ModelManifest } from './manifest.js';
import { MLMODEL_FILE, readMlmodel } from './mlmodel.js';
import { openOnnxModel } from './onnx-flavor.js';
import { taskOutputs, type Predictions } from './predictions.js';
import {
  checkSignature,
  validateColumns,
  validateRows,
  type InputColumn,
  type ModelInput,
  type Signature,
} from './signature.js';
import { parseModelUri } from './uri.js';

/**
 * A registry that resolves `models:/` URIs (the client SDK's registry methods).
 * `source` is where the version's package lives, e.g. `runs:/<run id>/model`.
 */
export interface ModelRegistryClient {
  getModelVersion(name: string, version: number): Promise<{ readonly source: string; readonly version: number }>;
  getModelVersionByAlias(name: string, alias: string): Promise<{ readonly source: string; readonly version: number }>;
  /** The newest version of each stage (`models:/<name>/latest` takes the highest of them). */
  getLatestVersions(name: string): Promise<readonly { readonly source: string; readonly version: number }[]>;
}

/** Where `runs:/` and `models:/` URIs are looked up: a connected `Trestle` client fits. */
export interface ModelSource {
  readonly backend: Pick<TrackingBackend, 'getRun'>;
  readonly artifacts: Pick<ArtifactStore, 'list' | 'get'>;
  readonly registry?: ModelRegistryClient;
  /**
   * MLflow 3 logged models, for `models:/m-<id>` (and versions registered from one); their files
   * are read from its `artifacts` when it has them (over HTTP, the MLflow artifact proxy), else
   * from {@link ModelSource.artifacts}.
   */
  readonly loggedModels?:
    | (Pick<LoggedModelStore, 'getLoggedModel'> & { readonly artifacts?: Pick<ArtifactStore, 'list' | 'get'> })
    | undefined;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Use this flavor instead of the package's default. */
  readonly flavor?: Flavor;
  /**
   * Runs, artifacts and registry for `runs:/` and `models:/` URIs. Default: a client
   * connected with the environment's configuration (`TRESTLE_TRACKING_URI` or the embedded store),
   * closed once the package is downloaded.
   */
  readonly source?: ModelSource;
  /** Folder to download remote packages into (kept); default a temporary folder removed by `close()`. */
  readonly downloadDir?: string;
  /** The signature of a model that carries none (an ONNX file or MLflow model from elsewhere). */
  readonly signature?: Signature;
}

/**
 * A model ready to predict.
 *
 * @example
 * const model = await loadModel('models:/flights-delay@champion');
 * const p = await model.predictRows([{ hour: 17, weekday: 5, distance: 1846, origin: 'SFO', destination: 'ORD' }]);
 * p.outputs.probability; // Float64Array [0.31…]
 */
export interface LoadedModel {
  /** The URI it was loaded from. */
  readonly uri: string;
  /** The local folder of the package. */
  readonly path: string;
  /** For `models:/` URIs: the registered version resolved. */
  readonly version?: { readonly name: string; readonly version: string; readonly alias?: string };
  readonly manifest: ModelManifest;
  readonly signature: Signature;
  /** The flavor predictions run on. */
  readonly flavor: Flavor;
  /** Predicts columns (validated against the signature first). */
  predict(columns: Readonly<Record<string, InputColumn>>): Promise<Predictions>;
  /** Predicts rows: objects keyed by column name (validated against the signature first). */
  predictRows(rows: readonly unknown[]): Promise<Predictions>;
  /** Predicts input already validated with `validateColumns`/`validateRows`. */
  predictInput(input: ModelInput): Promise<Predictions>;
  /** Releases the ONNX session and removes a temporary download. */
  close(): Promise<void>;
}

/**
 * Loads a model package (or an MLflow model logged with the `onnx` flavor, or a bare
 * `.onnx` file given `options.signature`).
 *
 * @throws TrestleError `NOT_FOUND` for a missing folder, run, artifact, model or version;
 *   `INVALID_ARGUMENT` for a malformed URI, a missing or inconsistent manifest, an ONNX
 *   file that does not load.
 * @example
 * const model = await loadModel('runs:/4f2a…/model', { source: trestle });
 * const p = await model.predict({ distance: [1200], origin: ['SFO'] });
 */
export async function loadModel(uri: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const parsed = parseModelUri(uri);
  if (parsed.kind === 'path') return openModelFolder(parsed.path, uri, options);

  const { source, release } = await connectSource(options.source);
  let folder: string;
  let temporary = false;
  let version: LoadedModel['version'];
  try {
    let runUri = parsed.kind === 'run' ? parsed : undefined;
    let loggedId = parsed.kind === 'logged' ? parsed.modelId : undefined;
    if (parsed.kind === 'version' || parsed.kind === 'alias' || parsed.kind === 'latest') {
      const registry = source.registry;
      if (registry === undefined) {
        throw new TrestleError('FAILED_PRECONDITION', `cannot resolve '${uri}': this client has no model registry`);
      }
      const resolved =
        parsed.kind === 'version'
          ? await registry.getModelVersion(parsed.name, Number(parsed.version))
          : parsed.kind === 'alias'
            ? await registry.getModelVersionByAlias(parsed.name, parsed.alias)
            : await latestVersion(registry, parsed.name);
      version = {
        name: parsed.name,
        version: String(resolved.version),
        ...(parsed.kind === 'alias' ? { alias: parsed.alias } : {}),
      };
      const target = parseModelUri(resolved.source);
      if (target.kind === 'run') runUri = target;
      else if (target.kind === 'logged') loggedId = target.modelId;
      else if (target.kind === 'path') {
        const model = await openModelFolder(target.path, uri, options);
        return { ...model, version };
      } else {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `model version ${parsed.name}/${version.version} has source '${resolved.source}', which is not a run, a logged model or a folder`,
        );
      }
    }
    if (options.downloadDir !== undefined) folder = options.downloadDir;
    else {
      folder = await mkdtemp(join(tmpdir(), 'trestle-model-'));
      temporary = true;
    }
    try {
      if (loggedId !== undefined) await downloadLoggedModel(source, loggedId, folder);
      else await downloadRunFolder(source, runUri!.runId, runUri!.path, folder);
    } catch (err) {
      if (temporary) await rm(folder, { recursive: true, force: true });
      throw err;
    }
  } finally {
    await release();
  }
  try {
    const model = await openModelFolder(folder, uri, options);
    const close = async (): Promise<void> => {
      await model.close();
      if (temporary) await rm(folder, { recursive: true, force: true });
    };
    return { ...model, ...(version === undefined ? {} : { version }), close };
  } catch (err) {
    if (temporary) await rm(folder, { recursive: true, force: true });
    throw err;
  }
}

/** The highest version of `name`; `NOT_FOUND` when the model is unknown or has no versions. */
async function latestVersion(
  registry: ModelRegistryClient,
  name: string,
): Promise<{ readonly source: string; readonly version: number }> {
  const newest = [...(await registry.getLatestVersions(name))].sort((a, b) => b.version - a.version)[0];
  if (newest === undefined) {
    throw new TrestleError('NOT_FOUND', `registered model '${name}' has no versions yet`, { name });
  }
  return newest;
}

async function connectSource(
  given: ModelSource | undefined,
): Promise<{ source: ModelSource; release: () => Promise<void> }> {
  if (given !== undefined) return { source: given, release: () => Promise.resolve() };
  const { Trestle } = await import('@trestle/client');
  const trestle = await Trestle.connect();
  return { source: trestle as unknown as ModelSource, release: () => trestle.close() };
}

/**
 * Downloads every file under a run's artifact folder `path` into `dest`.
 *
 * @throws TrestleError `NOT_FOUND` when the run does not exist or has no files under `path`.
 */
export async function downloadRunFolder(
  source: ModelSource,
  runId: string,
  path: string,
  dest: string,
): Promise<number> {
  const run = await source.backend.getRun(runId);
  const files = await downloadFolder(source.artifacts, runArtifactKey(run.info, path), dest);
  if (files === 0) {
    throw new TrestleError(
      'NOT_FOUND',
      `run ${runId} has no model under '${path || '(its artifact root)'}' (see 'trestle runs show ${runId.slice(0, 8)}')`,
      { runId, path },
    );
  }
  return files;
}

/**
 * Downloads the files of an MLflow 3 logged model (its own artifact root,
 * `<experiment>/models/<model id>/artifacts`) into `dest`.
 *
 * @throws TrestleError `NOT_FOUND` for an unknown model or one without files;
 *   `FAILED_PRECONDITION` when the source cannot read logged models.
 */
async function downloadLoggedModel(source: ModelSource, modelId: string, dest: string): Promise<number> {
  if (source.loggedModels === undefined) {
    throw new TrestleError(
      'FAILED_PRECONDITION',
      `cannot load the MLflow logged model ${modelId}: this client cannot read logged models`,
      { modelId },
    );
  }
  const model = await source.loggedModels.getLoggedModel(modelId);
  const artifacts = source.loggedModels.artifacts ?? source.artifacts;
  const files = await downloadFolder(artifacts, loggedModelArtifactKey(model), dest);
  if (files === 0) {
    throw new TrestleError(
      'NOT_FOUND',
      `the logged model ${modelId} has no files yet (its status is ${model.status}): the client uploads them after creating it`,
      { modelId },
    );
  }
  return files;
}

/** Downloads every file under `root` into `dest`; the number of files. */
async function downloadFolder(artifacts: ModelSource['artifacts'], root: string, dest: string): Promise<number> {
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await artifacts.list(dir)) {
      if (entry.isDir) {
        await walk(entry.path);
        continue;
      }
      const local = join(dest, relative(root, entry.path));
      await mkdir(dirname(local), { recursive: true });
      await pipeline(await artifacts.get(entry.path), createWriteStream(local));
      files++;
    }
  };
  await walk(root);
  return files;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${what} is not valid JSON: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

/**
 * Opens a package folder on disk (the part of {@link loadModel} after any download).
 * A folder with only an MLflow `MLmodel` (onnx flavor) is read as an ONNX model whose
 * outputs pass through; a `.onnx` file needs `options.signature`.
 */
export async function openModelFolder(path: string, uri: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new TrestleError('NOT_FOUND', `no model at ${path}: the folder does not exist`, { path });
  }
  let manifest: ModelManifest;
  let folder = path;
  if (info.isFile()) {
    if (!path.endsWith('.onnx')) {
      throw new TrestleError('INVALID_ARGUMENT', `${path} is a file; give a model package folder or an .onnx file`, {
        path,
      });
    }
    folder = dirname(path);
    manifest = foreignManifest(path.slice(folder.length + 1), options.signature, `${path}`);
  } else if (await exists(join(path, MANIFEST_FILE))) {
    manifest = parseManifest(
      await readJson(join(path, MANIFEST_FILE), `${path}/${MANIFEST_FILE}`),
      `${path}/${MANIFEST_FILE}`,
    );
  } else if (await exists(join(path, MLMODEL_FILE))) {
    const mlflow = readMlmodel(await readFile(join(path, MLMODEL_FILE), 'utf8'), `${path}/${MLMODEL_FILE}`);
    const signature = options.signature ?? mlflow.signature;
    if (signature === undefined) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `${path}/${MLMODEL_FILE} has no column signature (${mlflow.signatureProblem}); give one (the inputs' names and types) to load it`,
      );
    }
    manifest = foreignManifest(mlflow.onnxPath, signature, `${path}/${MLMODEL_FILE}`);
  } else {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${path} is not a model package: it has no ${MANIFEST_FILE} (nor an MLflow ${MLMODEL_FILE})`,
      { path },
    );
  }

  const flavor = options.flavor ?? manifest.flavor;
  const signature = manifest.signature;
  let scorer: (input: ModelInput) => Promise<Predictions>;
  let release = (): Promise<void> => Promise.resolve();
  if (flavor === 'builtin') {
    const entry = manifest.flavors.builtin;
    if (entry === undefined) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `the model at ${path} has no builtin flavor (it has: ${Object.keys(manifest.flavors).join(', ')})`,
      );
    }
    if (manifest.task === 'other') throw new TrestleError('INVALID_ARGUMENT', `${path}: a builtin model needs a task`);
    const file = join(folder, entry.path);
    if (!(await exists(file)))
      throw new TrestleError('INVALID_ARGUMENT', `${path} is incomplete: ${entry.path} is missing`);
    const model = readBuiltinModel(await readJson(file, `${path}/${entry.path}`), `${path}/${entry.path}`);
    const task = manifest.task;
    const classes = manifest.classes ?? [];
    scorer = (input) => Promise.resolve(taskOutputs(task, classes, model.scores(input), input.rows));
  } else {
    const entry = manifest.flavors.onnx;
    if (entry === undefined) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `the model at ${path} has no onnx flavor (it has: ${Object.keys(manifest.flavors).join(', ')})`,
      );
    }
    const file = join(folder, entry.path);
    if (!(await exists(file)))
      throw new TrestleError('INVALID_ARGUMENT', `${path} is incomplete: ${entry.path} is missing`);
    const onnx = await openOnnxModel(
      await readFile(file),
      signature,
      {
        task: manifest.task,
        ...(manifest.classes === undefined ? {} : { classes: manifest.classes }),
        ...(entry.scores === undefined ? {} : { scores: entry.scores }),
        ...(entry.integerMissing === undefined ? {} : { integerMissing: entry.integerMissing }),
      },
      `${path}/${entry.path}`,
    );
    scorer = (input) => onnx.predict(input);
    release = () => onnx.close();
  }
  return {
    uri,
    path: folder,
    manifest,
    signature,
    flavor,
    // async: a validation error rejects the promise rather than throwing at the call.
    predict: async (columns) => scorer(validateColumns(signature, columns)),
    predictRows: async (rows) => scorer(validateRows(signature, rows)),
    predictInput: scorer,
    close: release,
  };
}

function foreignManifest(onnxPath: string, signature: Signature | undefined, where: string): ModelManifest {
  if (signature === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} comes with no signature; give one (the inputs' names and types) to load it`,
    );
  }
  checkSignature(signature, `the signature of ${where}`);
  return parseManifest(
    {
      format: 'trestle.model',
      formatVersion: 1,
      flavor: 'onnx',
      flavors: { onnx: { path: onnxPath } },
      task: 'other',
      signature: { inputs: signature.inputs.map((s) => ({ ...s })), outputs: signature.outputs.map((s) => ({ ...s })) },
      datasets: [],
      metrics: {},
      createdAt: new Date(0).toISOString(),
    },
    where,
  );
}
