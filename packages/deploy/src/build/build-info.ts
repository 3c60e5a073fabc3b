/**
 * `build.json`: what `trestle build` wrote into a context, read back by the bundled entrypoint
 * at start (so the image needs no flags) and by tests.
 */

/** The model an image serves. */
export interface BuiltModel {
  /** Registered name (or the package folder's name). */
  readonly name: string;
  /** Registered version, or the run id's first 8 characters for a package that is not registered. */
  readonly version: string;
  /** The URI given to `trestle build`. */
  readonly uri: string;
  /** `sha256:…` over the package's files (`modelPackageDigest`, the digest the Kubernetes manifests pin). */
  readonly digest: string;
  /** The package is in the image (`./model`); false with `--pull-at-start`. */
  readonly baked: boolean;
}

/** `build.json` of a model-serving context. */
export interface ServeBuildInfo {
  readonly kind: 'serve';
  readonly model: BuiltModel;
  /** The flavor the image predicts with; the ONNX runtime is in the image only for `onnx`. */
  readonly flavor: 'builtin' | 'onnx';
}

/** `build.json` of a control-plane context (`--server` or `--worker`). */
export interface ControlPlaneBuildInfo {
  readonly kind: 'server' | 'worker';
}

export type BuildInfo = ServeBuildInfo | ControlPlaneBuildInfo;

/** Name of the file in the context. */
export const BUILD_INFO_FILE = 'build.json';

/**
 * Parses `build.json`.
 *
 * @throws Error when the text is not a build.json written by `trestle build`.
 * @example readBuildInfo('{"kind":"worker"}') // { kind: 'worker' }
 */
export function readBuildInfo(text: string): BuildInfo {
  const value = JSON.parse(text) as Partial<BuildInfo> | null;
  const kind = value?.kind;
  if (kind !== 'serve' && kind !== 'server' && kind !== 'worker') {
    throw new Error(`${BUILD_INFO_FILE} is not from 'trestle build' (its kind is ${JSON.stringify(kind)})`);
  }
  return value as BuildInfo;
}
