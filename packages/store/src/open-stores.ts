import { isAbsolute, resolve } from 'node:path';
import type { ArtifactStore, MetadataStore, TrestleConfig } from '@trestle/core';
import { openArtifactStore } from './artifacts/index.js';
import { openMetadataStore } from './metadata/index.js';

/** The two stores every part of Trestle works against. */
export interface Stores {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
}

/**
 * Opens the metadata and artifact stores named by the configuration (migrating an embedded
 * SQLite store on first use). Relative paths are resolved against `cwd`.
 *
 * @example const { metadata, artifacts } = await openStores(loadConfig({}, process.env));
 */
export async function openStores(config: TrestleConfig, cwd = process.cwd()): Promise<Stores> {
  const artifactRoot =
    /^[a-z][a-z0-9+.-]*:\/\//i.test(config.artifacts) || isAbsolute(config.artifacts)
      ? config.artifacts
      : resolve(cwd, config.artifacts);
  const artifacts = await openArtifactStore(artifactRoot, {
    cwd,
    ...(config.s3Endpoint === undefined ? {} : { s3Endpoint: config.s3Endpoint }),
  });
  try {
    const metadata = await openMetadataStore(config.db, { cwd, artifactRoot });
    return { metadata, artifacts };
  } catch (err) {
    await artifacts.close();
    throw err;
  }
}
