/**
 * The metadata store: experiments, runs, params, tags, metrics and datasets in SQLite
 * (embedded default) or PostgreSQL, through one Kysely implementation.
 *
 * @example
 * const store = await openMetadataStore(config.db, { artifactRoot: config.artifacts });
 */
export { openMetadataStore, isPostgresUri, resolveArtifactRoot } from './open.js';
export type { OpenMetadataStoreOptions } from './open.js';
export { SqlMetadataStore } from './sql-metadata-store.js';
export type { SqlMetadataStoreOptions } from './sql-metadata-store.js';
export { SqlIdempotencyStore, type SqlIdempotencyStoreOptions } from './sql-idempotency-store.js';
export { METADATA_MIGRATIONS, metadataMigrations, createMetadataMigrator } from './migrations/index.js';
export type { MigrationContext } from './migrations/index.js';
export { sqliteDialect, postgresDialect } from './dialects.js';
export type { SqlDialect } from './dialects.js';
export type { MetadataDatabase } from './schema.js';
