import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Dataset versions recorded by `trestle data add` and by pipelines: one row per (name,
 * digest), indexed by digest so that a run's dataset input (which carries the digest) finds the
 * version it read.
 */
export function dataVersionsMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('data_versions')
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('digest', t.text, (c) => c.notNull())
        .addColumn('source', t.text, (c) => c.notNull())
        .addColumn('kind', t.text, (c) => c.notNull())
        .addColumn('size', t.bigint, (c) => c.notNull())
        .addColumn('files', t.bigint, (c) => c.notNull())
        .addColumn('schema', t.text)
        .addColumn('profile', t.text)
        .addColumn('created_time', t.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('data_versions_pk', ['name', 'digest'])
        .addCheckConstraint('data_versions_kind', sql`kind IN ('file', 'dir')`)
        .execute();
      await db.schema.createIndex('data_versions_digest').on('data_versions').columns(['digest']).execute();
      await db.schema.createIndex('data_versions_created').on('data_versions').columns(['created_time']).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('data_versions').ifExists().execute();
    },
  };
}
