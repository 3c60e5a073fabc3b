/**
 * `@trestle/models`, imported when a model is loaded (it brings the ONNX runtime), and typed by
 * the slice serving uses, so this package builds and its protocol code is tested on its own.
 */
import { TrestleError } from '@trestle/core';
import type { LoadedModelLike } from './model-predictor.js';

export interface LoadModelOptionsLike {
  readonly flavor?: 'builtin' | 'onnx';
  readonly source?: unknown;
}

/** What serving calls in `@trestle/models`. */
export interface ModelsModule {
  loadModel(uri: string, options?: LoadModelOptionsLike): Promise<LoadedModelLike>;
}

// A variable specifier: the type checker does not need the package, the runtime loads it on use.
const MODELS_PACKAGE: string = '@trestle/models';

export async function importModels(): Promise<ModelsModule> {
  try {
    return (await import(MODELS_PACKAGE)) as ModelsModule;
  } catch (err) {
    throw new TrestleError(
      'FAILED_PRECONDITION',
      `the model loader (${MODELS_PACKAGE}) could not be loaded: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}
