/**
 * `trestle build MODEL_URI`: the build context of a model server. The model is resolved with
 * `@trestle/models`' `loadModel` (a folder, `runs:/…`, `models:/NAME/VERSION`, `models:/NAME@ALIAS`),
 * its package copied in (or, with `pullAtStart`, fetched by the image from the tracking server when
 * it starts), and the serving code bundled into one file, `serve.mjs`.
 */
import { cp, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { loadModel, type LoadedModel, type ModelSource } from '@trestle/models';
import { modelPackageDigest } from '../k8s/resolve-model.js';
import { bundle, runtimeEntry } from './bundle.js';
import { BUILD_INFO_FILE, type ServeBuildInfo } from './build-info.js';
import { dockerfile, dockerignore, HEALTHCHECK_FILE, healthcheckScript } from './dockerfile.js';
import { installManifest } from './lockfile.js';
import { checkOutputFolder, writeFolderAtomically } from '../out-dir.js';
import { folderSize, type FolderSize } from './output-folder.js';
import { contextReadme } from './readme.js';

/** Port the image listens on. */
export const SERVING_PORT = 8080;
/** Route the image's HEALTHCHECK reads (the V2 readiness probe). */
export const HEALTH_PATH = '/v2/health/ready';

export interface ModelContextOptions {
  /** MODEL_URI as `loadModel` takes it. */
  readonly uri: string;
  /** The folder to write; refused when it exists and is not empty, unless `force`. */
  readonly out: string;
  readonly force?: boolean;
  /** The image fetches the model from `TRESTLE_TRACKING_URI` when it starts instead of carrying it. */
  readonly pullAtStart?: boolean;
  /** Runs and registry for `runs:/` and `models:/` URIs (a connected `Trestle` client fits). */
  readonly source?: ModelSource;
}

/** What was written. */
export interface BuildReport {
  /** Absolute path of the context. */
  readonly out: string;
  /** Bytes and files of the whole context. */
  readonly size: FolderSize;
  /** Bytes of the bundled entrypoint. */
  readonly bundleBytes: number;
  /** Packages the image installs with npm ci (the bundle's run-time imports). */
  readonly installs: readonly string[];
  readonly info: ServeBuildInfo;
}

/** Name and version the image reports: the registry's, else the folder's (or artifact path's) name. */
function identify(model: LoadedModel, uri: string): { name: string; version: string } {
  if (model.version !== undefined) return { name: model.version.name, version: model.version.version };
  const runsPath = /^runs:\/[^/]+\/(.+)$/.exec(uri)?.[1];
  const fromRun = runsPath
    ?.split('/')
    .filter((x) => x !== '')
    .at(-1);
  return {
    name: fromRun ?? basename(model.path),
    version: model.manifest.run?.runId.slice(0, 8) ?? '1',
  };
}

/**
 * Writes the build context of a model server into `out` (atomically: into a temporary sibling,
 * renamed when complete).
 *
 * @throws TrestleError `NOT_FOUND` / `INVALID_ARGUMENT` from `loadModel` when the URI does not
 *   resolve; `ALREADY_EXISTS` when `out` is not empty and `force` is not set.
 * @example
 * const report = await buildModelContext({ uri: 'models:/flights-delay@champion', out: 'image', source: trestle });
 * report.size; // { bytes: 712345, files: 9 }
 */
export async function buildModelContext(o: ModelContextOptions): Promise<BuildReport> {
  // Refuse a full --out before the (possibly remote) model is fetched.
  await checkOutputFolder(o.out, o.force === true);
  const model = await loadModel(o.uri, o.source === undefined ? {} : { source: o.source });
  try {
    const { name, version } = identify(model, o.uri);
    const flavor = model.manifest.flavors.builtin !== undefined ? 'builtin' : 'onnx';
    const digest = await modelPackageDigest(model.path);
    const baked = o.pullAtStart !== true;
    const info: ServeBuildInfo = { kind: 'serve', model: { name, version, uri: o.uri, digest, baked }, flavor };
    // The builtin flavor is pure TypeScript: the ONNX runtime (a native add-on) goes in only when needed.
    const installs = flavor === 'onnx' ? ['onnxruntime-node'] : [];
    const noStore = 'this image reads models from a folder or from TRESTLE_TRACKING_URI, never from a database';
    return await writeFolderAtomically(o.out, o.force === true, async (dir) => {
      const { bytes } = await bundle({
        entry: runtimeEntry('serve-main'),
        outfile: join(dir, 'serve.mjs'),
        external: installs,
        absent: {
          '@trestle/store': noStore,
          ...(flavor === 'builtin'
            ? { 'onnxruntime-node': "the model has the builtin flavor; rebuild from a model without it for 'onnx'" }
            : {}),
        },
      });
      if (baked) await cp(model.path, join(dir, 'model'), { recursive: true });
      await writeFile(join(dir, BUILD_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
      await writeFile(join(dir, HEALTHCHECK_FILE), healthcheckScript(SERVING_PORT, HEALTH_PATH));
      if (installs.length > 0) {
        const { packageJson, lockfile } = installManifest('trestle-model-server', installs);
        await writeFile(join(dir, 'package.json'), packageJson);
        await writeFile(join(dir, 'package-lock.json'), lockfile);
      }
      await writeFile(
        join(dir, 'Dockerfile'),
        dockerfile({
          title: `Model server for ${name} version ${version}`,
          install: installs.length > 0,
          copy: ['serve.mjs', BUILD_INFO_FILE, HEALTHCHECK_FILE, ...(baked ? ['model/'] : [])],
          entry: 'serve.mjs',
          env: {
            TRESTLE_HOST: '0.0.0.0',
            TRESTLE_PORT: String(SERVING_PORT),
            TRESTLE_HOME: '/tmp/trestle',
            ...(baked ? {} : { TRESTLE_MODEL_URI: o.uri }),
          },
          port: SERVING_PORT,
          healthcheck: true,
          labels: {
            'org.opencontainers.image.title': `${name}-server`,
            'org.opencontainers.image.description': `Trestle model server for ${name} version ${version}`,
            'org.opencontainers.image.version': version,
            'dev.trestle.model.name': name,
            'dev.trestle.model.version': version,
            'dev.trestle.model.digest': digest,
            'dev.trestle.model.uri': o.uri,
            'dev.trestle.model.flavor': flavor,
          },
        }),
      );
      await writeFile(join(dir, '.dockerignore'), dockerignore());
      await writeFile(join(dir, 'README.md'), contextReadme({ kind: 'serve', info, port: SERVING_PORT }));
      return { out: resolve(o.out), size: await folderSize(dir), bundleBytes: bytes, installs, info };
    });
  } finally {
    await model.close();
  }
}
