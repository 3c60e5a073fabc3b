import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Deleting an experiment deletes its active runs in one batch, recorded as
 * `experiments.deleted_batch` and on each of those runs, so that restoring the experiment brings
 * back exactly those runs (and not the ones deleted on their own before) without comparing
 * timestamps. Experiments deleted before this migration get the batch `legacy-<id>`, given to
 * their runs whose `deleted_time` equals the experiment's `last_update_time` (the rule used
 * until now).
 */
export function deletionBatchesMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('experiments').addColumn('deleted_batch', t.text).execute();
      await db.schema.alterTable('runs').addColumn('deleted_batch', t.text).execute();
      await sql`
        UPDATE experiments SET deleted_batch = 'legacy-' || CAST(experiment_id AS text)
        WHERE lifecycle_stage = 'deleted'`.execute(db);
      await sql`
        UPDATE runs SET deleted_batch = 'legacy-' || CAST(experiment_id AS text)
        WHERE lifecycle_stage = 'deleted' AND deleted_time = (
          SELECT e.last_update_time FROM experiments e
          WHERE e.experiment_id = runs.experiment_id AND e.lifecycle_stage = 'deleted')`.execute(db);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('runs').dropColumn('deleted_batch').execute();
      await db.schema.alterTable('experiments').dropColumn('deleted_batch').execute();
    },
  };
}
