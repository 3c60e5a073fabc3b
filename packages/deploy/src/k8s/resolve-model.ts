/**
 * From a model URI to what a deployment pins: the registered name and version, the package's
 * content digest, and a URI that names exactly that version (`models:/NAME/VERSION`).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { TrestleError, type TrestleConfig } from '@trestle/core';

/** A model URI resolved against the registry. */
export interface ResolvedModel {
  /** The URI as given (`models:/flights@champion`): what `trestle deploy sync` follows. */
  readonly uri: string;
  /** The registered name, or the artifact path's last part for a `runs:/` URI. */
  readonly name: string;
  /** The registered version (absent for `runs:/` URIs and folders). */
  readonly version?: string;
  /** The alias the URI follows, if any. */
  readonly alias?: string;
  /** A URI naming exactly this package: `models:/NAME/VERSION` or the `runs:/` URI. */
  readonly pinnedUri: string;
  /** `sha256:<hex>` over the package's files (see {@link modelPackageDigest}). */
  readonly digest: string;
}

/**
 * Resolves model URIs. The default, {@link registryResolver}, reads the configured store or
 * tracking server; tests and other callers may pass their own.
 *
 * @example
 * const m = await resolver.resolve('models:/flights@champion'); // { name: 'flights', version: '3', digest: 'sha256:…', … }
 */
export interface ModelResolver {
  /** @throws TrestleError `NOT_FOUND` / `INVALID_ARGUMENT` when the URI does not resolve. */
  resolve(uri: string): Promise<ResolvedModel>;
  /** Releases the connection. */
  close(): Promise<void>;
}

/**
 * The digest of a package folder: SHA-256 over the lines `<sha256 of file>  <relative path>\n`
 * (the `sha256sum` format), one per file, sorted by path. The same bytes give the same digest
 * wherever the package lives (a run's artifacts, a folder, an image).
 *
 * @example await modelPackageDigest('/tmp/model') // 'sha256:9f86d0…'
 */
export async function modelPackageDigest(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(relative(dir, p).split(sep).join('/'));
    }
  };
  await walk(dir);
  files.sort();
  const all = createHash('sha256');
  for (const f of files) {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(join(dir, f))) h.update(chunk as Buffer);
    all.update(`${h.digest('hex')}  ${f}\n`);
  }
  return `sha256:${all.digest('hex')}`;
}

// Variable specifiers: loaded on use, so generating a chart or a workflow needs neither the client nor a store.
const CLIENT_PACKAGE: string = '@trestle/client';
const MODELS_PACKAGE: string = '@trestle/models';

interface VersionLike {
  readonly name: string;
  readonly version: number;
  readonly source: string;
}
interface ClientLike {
  resolveModelUri(uri: string): Promise<VersionLike>;
  close(): Promise<void>;
}
type ParsedUri =
  | { kind: 'path'; path: string }
  | { kind: 'run'; runId: string; path: string }
  | { kind: 'version'; name: string; version: string }
  | { kind: 'alias'; name: string; alias: string };
interface ModelsLike {
  parseModelUri(uri: string): ParsedUri;
  downloadRunFolder(source: unknown, runId: string, path: string, dest: string): Promise<number>;
}

/**
 * Resolves URIs with the client SDK on `config` (the embedded store or `TRESTLE_TRACKING_URI`).
 * `runs:/` packages are downloaded to a temporary folder to be hashed, then removed. Reading
 * never creates a store.
 */
export function registryResolver(config: TrestleConfig): ModelResolver {
  let client: Promise<ClientLike> | undefined;
  const connect = (): Promise<ClientLike> =>
    (client ??= (async () => {
      const { Trestle } = (await import(CLIENT_PACKAGE)) as {
        Trestle: { connect(o: { config: TrestleConfig; create: boolean }): Promise<ClientLike> };
      };
      return Trestle.connect({ config, create: false });
    })());
  const folderDigest = async (path: string, uri: string): Promise<string> => {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory() !== true) {
      throw new TrestleError('NOT_FOUND', `model '${uri}' points at ${path}, which is not a folder`, { uri });
    }
    return modelPackageDigest(path);
  };
  const runDigest = async (models: ModelsLike, c: ClientLike, runId: string, path: string): Promise<string> => {
    const tmp = await mkdtemp(join(tmpdir(), 'trestle-deploy-'));
    try {
      await models.downloadRunFolder(c, runId, path, tmp);
      return await modelPackageDigest(tmp);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  };
  return {
    async resolve(uri) {
      const models = (await import(MODELS_PACKAGE)) as ModelsLike;
      const parsed = models.parseModelUri(uri);
      if (parsed.kind === 'path') {
        return { uri, name: basename(parsed.path), pinnedUri: uri, digest: await folderDigest(parsed.path, uri) };
      }
      const c = await connect();
      if (parsed.kind === 'run') {
        const name =
          parsed.path
            .split('/')
            .filter((x) => x !== '')
            .at(-1) ?? 'model';
        return { uri, name, pinnedUri: uri, digest: await runDigest(models, c, parsed.runId, parsed.path) };
      }
      const v = await c.resolveModelUri(uri);
      const target = models.parseModelUri(v.source);
      const digest =
        target.kind === 'run'
          ? await runDigest(models, c, target.runId, target.path)
          : target.kind === 'path'
            ? await folderDigest(target.path, uri)
            : undefined;
      if (digest === undefined) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `model version ${v.name}/${v.version} has source '${v.source}', which is not a run or a folder`,
        );
      }
      return {
        uri,
        name: v.name,
        version: String(v.version),
        ...(parsed.kind === 'alias' ? { alias: parsed.alias } : {}),
        pinnedUri: `models:/${v.name}/${v.version}`,
        digest,
      };
    },
    async close() {
      if (client !== undefined) await (await client).close();
    },
  };
}
