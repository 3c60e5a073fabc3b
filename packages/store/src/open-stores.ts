import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ArtifactStore, MetadataStore, TrestleConfig } from '@trestle/core';
import { openArtifactStore } from './artifacts/index.js';
import { isPostgresUri, openMetadataStore } from './metadata/index.js';

/** The two stores every part of Trestle works against. */
export interface Stores {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
}

/**
 * Makes the home folder (`.trestle`) when the configured SQLite store lives in it, before a
 * store is created there. Only Trestle's own folder is made on demand: `--db /no/such/dir/x.db`
 * stays an error.
 */
export function prepareHome(config: TrestleConfig, cwd = process.cwd()): void {
  if (isPostgresUri(config.db) || /^[a-z][a-z0-9+.-]+:/i.test(config.db)) return;
  const home = resolve(cwd, config.home);
  if (dirname(resolve(cwd, config.db)) === home) mkdirSync(home, { recursive: true });
}

/** Options of {@link openStores}. */
export interface OpenStoresOptions {
  /**
   * Create the embedded store when it does not exist yet (default true): the home folder
   * (`.trestle`) is made when the SQLite file lives in it; any other folder must exist.
   * Commands that only read pass `false`, so that looking never creates a store.
   */
  create?: boolean;
}

/**
 * Opens the metadata and artifact stores named by the configuration (migrating an embedded
 * SQLite store on first use). Relative paths are resolved against `cwd`.
 *
 * @example const { metadata, artifacts } = await openStores(loadConfig({}, process.env));
 */
export async function openStores(
  config: TrestleConfig,
  cwd = process.cwd(),
  options: OpenStoresOptions = {},
): Promise<Stores> {
  const create = options.create ?? true;
  if (create) prepareHome(config, cwd);
  const artifactRoot =
    /^[a-z][a-z0-9+.-]*:\/\//i.test(config.artifacts) || isAbsolute(config.artifacts)
      ? config.artifacts
      : resolve(cwd, config.artifacts);
  const artifacts = await openArtifactStore(artifactRoot, {
    cwd,
    ...(config.s3Endpoint === undefined ? {} : { s3Endpoint: config.s3Endpoint }),
  });
  try {
    const metadata = await openMetadataStore(config.db, { cwd, artifactRoot, create });
    return { metadata, artifacts };
  } catch (err) {
    await artifacts.close();
    throw err;
  }
}
