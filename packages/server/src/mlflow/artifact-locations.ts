/**
 * Experiments' own artifact locations (`experiments/create` with `artifact_location`), as MLflow
 * honours them: the location is kept as given, runs of the experiment live under
 * `<location>/<run_id>/artifacts`, and the server reads a run's artifacts from there
 * (`artifacts/list`, `/get-artifact`, presigned download). Where a location lies:
 *
 * - `mlflow-artifacts:/<path>`, or a path / `file:` / `s3:` URI inside the server's own artifact
 *   root: the server's artifact store, at that key. Reported to clients in proxied form
 *   (`mlflow-artifacts:/<key>`), so they upload and download through `/mlflow-artifacts`.
 * - any other absolute path or `file:` URI: a local folder the server reads (an MLflow client
 *   writes there itself, as MLflow's local artifact repository does);
 * - `s3://bucket/prefix`: that bucket, when the server was given S3 settings.
 *
 * Anything else is refused when the experiment is created, with MLflow's 400
 * `INVALID_PARAMETER_VALUE`, so a client never logs into a place the server cannot serve.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArtifactStore } from '@trestle/core';
import { TrestleError } from '@trestle/core';
import { openArtifactStore, parseS3Uri, type OpenArtifactStoreOptions } from '@trestle/store';
import { checkedArtifactPath } from './artifacts.js';

/** Where a run's (or an experiment's) files are: a store and the key of the root in it. */
export interface ArtifactPlace {
  readonly store: ArtifactStore;
  /** Key of the root folder in `store` (`''` for the store's root). */
  readonly key: string;
  /** Whether `store` is the server's own artifact store (reachable through `/mlflow-artifacts`). */
  readonly proxied: boolean;
}

const SUPPORTED =
  "an absolute path, file:///path, mlflow-artifacts:/path or s3://bucket/prefix (s3 only when the server has S3 configured: 'trestle server --artifacts s3://…' or TRESTLE_S3_ENDPOINT)";

function schemeOf(uri: string): string | undefined {
  // A one-letter scheme is a Windows drive (`C:\artifacts`).
  return /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(uri)?.[1]?.toLowerCase();
}

function invalid(location: string, why: string): TrestleError {
  return new TrestleError('INVALID_ARGUMENT', `Invalid artifact_location '${location}': ${why}.`, { location });
}

function localPath(location: string): string {
  if (schemeOf(location) === 'file') {
    try {
      return fileURLToPath(new URL(location));
    } catch (err) {
      throw invalid(location, `${(err as Error).message}; use file:///absolute/path`);
    }
  }
  return location;
}

function stripSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}

/** The path of a `mlflow-artifacts:` URI (`mlflow-artifacts://host:port/p` or `mlflow-artifacts:/p`). */
function proxiedPath(location: string): string {
  const rest = location.slice('mlflow-artifacts:'.length);
  return stripSlashes(rest.startsWith('//') ? rest.replace(/^\/\/[^/]*/, '') : rest);
}

/**
 * The artifact locations of the dialect, over the server's own artifact store; other stores
 * (a foreign folder, another S3 bucket) are opened on first use and kept until {@link close}.
 *
 * @example
 * const locations = new ArtifactLocations(artifacts, { s3: { s3Endpoint: 'http://127.0.0.1:4569' } });
 * locations.checkNew('s3://team-bucket/exp');            // 's3://team-bucket/exp'
 * await locations.place('/data/x/4f2a/artifacts');       // { store: <folder /data/x>, key: '4f2a/artifacts', proxied: false }
 */
export class ArtifactLocations {
  readonly #store: ArtifactStore;
  readonly #s3: OpenArtifactStoreOptions | undefined;
  readonly #opened = new Map<string, Promise<ArtifactStore>>();

  /**
   * @param store the server's own artifact store
   * @param options.s3 S3 settings of the server; without them `s3://` locations are refused
   */
  constructor(store: ArtifactStore, options: { s3?: OpenArtifactStoreOptions | undefined } = {}) {
    this.#store = store;
    this.#s3 = options.s3 ?? (/^s3:/i.test(store.rootUri) ? {} : undefined);
  }

  /**
   * Checks an `artifact_location` sent to `experiments/create` and returns the form to keep.
   *
   * @throws TrestleError `INVALID_ARGUMENT` for a relative path, `..`, a query or fragment, an
   *   unknown scheme, or `s3://` on a server without S3.
   */
  checkNew(location: string): string {
    if (/[?#;]/.test(location)) throw invalid(location, "'artifact_location' URL can't include fragments or params");
    if (location.split(/[/\\]/).includes('..')) throw invalid(location, "'..' is not allowed in it");
    const scheme = schemeOf(location);
    if (scheme === undefined || scheme === 'file') {
      const path = localPath(location);
      if (!isAbsolute(path)) throw invalid(location, `a relative path is not allowed; use ${SUPPORTED}`);
      return location;
    }
    if (scheme === 'mlflow-artifacts') {
      try {
        checkedArtifactPath(proxiedPath(location), { allowRoot: true });
      } catch (err) {
        throw invalid(location, (err as Error).message);
      }
      return location;
    }
    if (scheme === 's3') {
      if (this.#s3 === undefined) {
        throw invalid(
          location,
          "this server has no S3 configured, so it cannot serve an s3:// location; start it with '--artifacts s3://bucket/prefix' (or TRESTLE_S3_ENDPOINT), or use mlflow-artifacts:/<path>",
        );
      }
      try {
        parseS3Uri(location);
      } catch (err) {
        throw invalid(location, (err as Error).message);
      }
      return location;
    }
    throw invalid(location, `the scheme '${scheme}:' is not served by this server; use ${SUPPORTED}`);
  }

  /**
   * The key in the server's own store that a location names, or `undefined` when it lies
   * elsewhere.
   *
   * @example locations.ownKey('mlflow-artifacts:/team/x') // 'team/x'
   */
  ownKey(location: string): string | undefined {
    const scheme = schemeOf(location);
    if (scheme === 'mlflow-artifacts') return proxiedPath(location);
    const root = this.#store.rootUri;
    if (scheme === 's3') {
      const base = root.replace(/\/+$/, '');
      const loc = location.replace(/\/+$/, '');
      if (loc === base) return '';
      return /^s3:/i.test(root) && loc.startsWith(`${base}/`) ? stripSlashes(loc.slice(base.length)) : undefined;
    }
    if ((scheme !== undefined && scheme !== 'file') || !/^file:/i.test(root)) return undefined;
    let path: string;
    try {
      path = resolve(localPath(location));
    } catch {
      return undefined;
    }
    const rel = relative(fileURLToPath(root), path);
    if (rel === '') return '';
    return rel.startsWith('..') || isAbsolute(rel) ? undefined : rel.split('\\').join('/');
  }

  /**
   * A stored location (an experiment's `artifact_location`, a run's `artifact_uri`) as MLflow
   * clients are given it: in proxied form when it is in the server's own store, as kept otherwise.
   *
   * @example locations.clientUri('/home/me/.trestle/artifacts/1/4f2a/artifacts') // 'mlflow-artifacts:/1/4f2a/artifacts'
   */
  clientUri(location: string): string {
    const key = this.ownKey(location);
    return key === undefined ? location : `mlflow-artifacts:/${key}`;
  }

  /**
   * Where the files of a stored location are. A run's `<base>/<run_id>/artifacts` outside the
   * server's store opens one store at `<base>` for all the runs there.
   */
  async place(location: string): Promise<ArtifactPlace> {
    const key = this.ownKey(location);
    if (key !== undefined) return { store: this.#store, key, proxied: true };
    const run = /^(.*?)\/+([^/]+\/artifacts)\/*$/.exec(location);
    const base = run?.[1] || location;
    const scheme = schemeOf(base);
    if (scheme === 's3' && this.#s3 === undefined) {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `the artifacts are at ${location}, and this server has no S3 configured to read them`,
        { location },
      );
    }
    if (scheme !== undefined && scheme !== 's3' && scheme !== 'file') {
      throw new TrestleError('FAILED_PRECONDITION', `the artifacts are at ${location}, which this server cannot read`, {
        location,
      });
    }
    let opened = this.#opened.get(base);
    if (opened === undefined) {
      opened = openArtifactStore(base, scheme === 's3' ? (this.#s3 ?? {}) : {});
      this.#opened.set(base, opened);
    }
    return { store: await opened, key: run === null ? '' : run[2]!, proxied: false };
  }

  /** Closes the stores opened for other locations. */
  async close(): Promise<void> {
    const stores = await Promise.allSettled([...this.#opened.values()]);
    this.#opened.clear();
    await Promise.all(stores.flatMap((s) => (s.status === 'fulfilled' ? [s.value.close()] : [])));
  }
}
