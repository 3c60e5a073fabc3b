/**
 * The metadata schema's versioned migrations, provided in code (no folder scanning, so they
 * survive bundling) and applied with Kysely's Migrator. On PostgreSQL the Migrator holds an
 * advisory lock and runs each migration in a transaction, so two processes migrating at once
 * apply every migration exactly once; on SQLite the write lock serialises them.
 */
import { Migrator } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { MetadataDatabase } from '../schema.js';
import type { MigrationContext } from './context.js';
import { initialMigration } from './0001-initial.js';
import { apiTokensMigration } from './0002-api-tokens.js';
import { deletionBatchesMigration } from './0003-deletion-batches.js';
import { idempotencyKeysMigration } from './0003-idempotency-keys.js';
import { metricChunksMigration } from './0003-metric-chunks.js';
import { registryMigration } from './0004-registry.js';
import { loggedModelsMigration } from './0005-logged-models.js';
import { dataVersionsMigration } from './0006-data-versions.js';
import { monitoringMigration } from './0007-monitoring.js';
import { monitoringPendingLabelsMigration } from './0007-monitoring-pending-labels.js';
import { monitoringStoredBatchesMigration } from './0007-monitoring-stored-batches.js';
import { tracesMigration } from './0008-traces.js';

export type { MigrationContext } from './context.js';

/**
 * Migrations in the order they apply (Kysely sorts them by name); names never change once released. Numbers are reserved
 * per part (0003 tracking, 0004 registry, 0005 logged models and traces, 0006 data versions,
 * 0007 monitoring, 0008 traces), so they may land in any order: the Migrator applies whichever are missing.
 */
const MIGRATIONS: readonly (readonly [name: string, build: (ctx: MigrationContext) => Migration])[] = [
  ['0001-initial', initialMigration],
  ['0002-api-tokens', apiTokensMigration],
  ['0003-deletion-batches', deletionBatchesMigration],
  ['0003-idempotency-keys', idempotencyKeysMigration],
  ['0003-metric-chunks', metricChunksMigration],
  ['0004-registry', registryMigration],
  ['0005-logged-models', loggedModelsMigration],
  ['0006-data-versions', dataVersionsMigration],
  ['0007-monitoring', monitoringMigration],
  ['0007-monitoring-pending-labels', monitoringPendingLabelsMigration],
  ['0007-monitoring-stored-batches', monitoringStoredBatchesMigration],
  ['0008-traces', tracesMigration],
];

/** Names of all metadata migrations, oldest first. */
export const METADATA_MIGRATIONS: readonly string[] = Object.freeze(MIGRATIONS.map(([name]) => name));

/** The migrations as Kysely expects them, bound to a dialect and store settings. */
export function metadataMigrations(ctx: MigrationContext): Record<string, Migration> {
  return Object.fromEntries(MIGRATIONS.map(([name, build]) => [name, build(ctx)]));
}

class InCodeMigrationProvider implements MigrationProvider {
  readonly #migrations: Record<string, Migration>;
  constructor(migrations: Record<string, Migration>) {
    this.#migrations = migrations;
  }
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(this.#migrations);
  }
}

/** Table names Kysely keeps its bookkeeping in. */
export const MIGRATION_TABLES = { migrations: 'trestle_migrations', lock: 'trestle_migrations_lock' } as const;

/**
 * A Kysely Migrator over the metadata migrations.
 *
 * @example const { error, results } = await createMetadataMigrator(db, ctx).migrateToLatest();
 */
export function createMetadataMigrator(
  db: Kysely<MetadataDatabase>,
  ctx: MigrationContext,
  options: { disableTransactions?: boolean } = {},
): Migrator {
  return new Migrator({
    db,
    provider: new InCodeMigrationProvider(metadataMigrations(ctx)),
    migrationTableName: MIGRATION_TABLES.migrations,
    migrationLockTableName: MIGRATION_TABLES.lock,
    disableTransactions: options.disableTransactions ?? false,
    // Parts land their migrations independently; one added below an applied one still runs.
    allowUnorderedMigrations: true,
  });
}
