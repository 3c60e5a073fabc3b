import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TrestleError } from '@trestle/core';
import type { ReferenceProfile } from '@trestle/monitoring';
import { MANIFEST_FILE, MANIFEST_FORMAT_VERSION, parseManifest, type Flavor, type ModelManifest } from './manifest.js';
import type { Signature } from './signature.js';
import { MLMODEL_FILE, mlmodelText, pythonEnvironmentFiles } from './mlmodel.js';

/** Files of the flavors, inside a package. */
export const BUILTIN_FILE = 'model.json';
export const ONNX_FILE = 'model.onnx';

/** What goes into a package; the manifest's bookkeeping fields are filled in. */
export interface PackageContents {
  readonly task: ModelManifest['task'];
  readonly classes?: readonly string[];
  readonly signature: Signature;
  /** `model.json` of the builtin flavor (a learn model's `toJSON()`: `{ format: 'trestle.gbdt', … }`). */
  readonly builtin?: Readonly<Record<string, unknown>>;
  /** The ONNX graph; with it the package also gets an MLflow `MLmodel`. */
  readonly onnx?: Uint8Array;
  /** Graph output with the scores (see the manifest's `flavors.onnx.scores`). */
  readonly onnxScores?: string;
  /** Whether the graph reads an integer input's minimum as missing (the manifest's `flavors.onnx.integerMissing`). */
  readonly onnxIntegerMissing?: 'minimum';
  /** Default flavor: builtin when there is one, else onnx. */
  readonly flavor?: Flavor;
  readonly trainer?: ModelManifest['trainer'];
  readonly run?: ModelManifest['run'];
  readonly datasets?: ModelManifest['datasets'];
  readonly metrics?: Readonly<Record<string, number>>;
  readonly profile?: ReferenceProfile;
  readonly description?: string;
}

/** The manifest that {@link writeModelPackage} writes for `contents`. */
export function buildManifest(contents: PackageContents, createdAt = new Date()): ModelManifest {
  const format = contents.builtin?.['format'];
  if (contents.builtin !== undefined && typeof format !== 'string') {
    throw new TrestleError('INVALID_ARGUMENT', "the builtin model has no 'format'");
  }
  const flavor = contents.flavor ?? (contents.builtin !== undefined ? 'builtin' : 'onnx');
  const manifest: ModelManifest = {
    format: 'trestle.model',
    formatVersion: MANIFEST_FORMAT_VERSION,
    flavor,
    flavors: {
      ...(contents.builtin === undefined ? {} : { builtin: { path: BUILTIN_FILE, format: format as string } }),
      ...(contents.onnx === undefined
        ? {}
        : {
            onnx: {
              path: ONNX_FILE,
              ...(contents.onnxScores === undefined ? {} : { scores: contents.onnxScores }),
              ...(contents.onnxIntegerMissing === undefined ? {} : { integerMissing: contents.onnxIntegerMissing }),
            },
          }),
    },
    task: contents.task,
    ...(contents.classes === undefined ? {} : { classes: [...contents.classes] }),
    signature: {
      inputs: contents.signature.inputs.map((s) => ({ ...s })),
      outputs: contents.signature.outputs.map((s) => ({ ...s })),
    },
    ...(contents.trainer === undefined ? {} : { trainer: contents.trainer }),
    ...(contents.run === undefined ? {} : { run: contents.run }),
    datasets: [...(contents.datasets ?? [])],
    metrics: { ...(contents.metrics ?? {}) },
    ...(contents.profile === undefined ? {} : { profile: contents.profile }),
    createdAt: createdAt.toISOString(),
    ...(contents.description === undefined ? {} : { description: contents.description }),
  };
  if (contents.builtin === undefined && contents.onnx === undefined) {
    throw new TrestleError('INVALID_ARGUMENT', 'a model package needs a builtin model or an ONNX graph');
  }
  return parseManifest(manifest, 'the new manifest');
}

/**
 * Writes a model package folder: `trestle-model.json`, the builtin `model.json` and/or
 * `model.onnx`, and with ONNX an MLflow `MLmodel` plus its Python environment files. The
 * folder is written under a temporary name beside `dir` and renamed into place, so `dir`
 * either does not exist or holds a whole package.
 *
 * @throws TrestleError `ALREADY_EXISTS` when `dir` exists and is not empty;
 *   `INVALID_ARGUMENT` for an inconsistent manifest.
 * @example
 * const manifest = await writeModelPackage('out/model', { task: 'binary-classification', classes: ['0', '1'], signature, builtin });
 */
export async function writeModelPackage(dir: string, contents: PackageContents): Promise<ModelManifest> {
  const manifest = buildManifest(contents);
  const temp = join(dirname(dir), `.${basename(dir)}.partial-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { recursive: true });
  try {
    await writeFile(join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    if (contents.builtin !== undefined) await writeFile(join(temp, BUILTIN_FILE), JSON.stringify(contents.builtin));
    if (contents.onnx !== undefined) {
      await writeFile(join(temp, ONNX_FILE), contents.onnx);
      const mlmodel = mlmodelText({
        onnxPath: ONNX_FILE,
        signature: manifest.signature,
        sizeBytes: contents.onnx.byteLength,
        ...(manifest.run === undefined ? {} : { runId: manifest.run.runId }),
        ...(manifest.run?.artifactPath === undefined ? {} : { artifactPath: manifest.run.artifactPath }),
      });
      await writeFile(join(temp, MLMODEL_FILE), mlmodel);
      for (const [name, text] of Object.entries(pythonEnvironmentFiles())) await writeFile(join(temp, name), text);
    }
    try {
      await rename(temp, dir);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new TrestleError(
          'ALREADY_EXISTS',
          `${dir} already exists and is not empty; write the package to a new folder`,
          { path: dir },
        );
      }
      throw err;
    }
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  return manifest;
}
