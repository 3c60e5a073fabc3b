import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * MLflow 3 logged models: `logged_models` (soft-deleted with `lifecycle_stage`), their tags,
 * params and metrics (points logged to a run with the model's id, kept on the run as well),
 * and `run_model_io`, the models a run read (`input`) or produced (`output`).
 */
export function loggedModelsMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('logged_models')
        .addColumn('model_id', t.text, (c) => c.primaryKey())
        .addColumn('experiment_id', t.integer, (c) => c.notNull())
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('creation_time', t.bigint, (c) => c.notNull())
        .addColumn('last_updated_time', t.bigint, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('status_message', t.text)
        .addColumn('model_type', t.text)
        .addColumn('source_run_id', t.text)
        .addColumn('creator', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('lifecycle_stage', t.text, (c) => c.notNull().defaultTo('active'))
        .execute();
      await db.schema
        .createIndex('logged_models_experiment')
        .on('logged_models')
        .columns(['experiment_id', 'creation_time'])
        .execute();
      await db.schema.createIndex('logged_models_run').on('logged_models').column('source_run_id').execute();

      for (const table of ['logged_model_tags', 'logged_model_params'] as const) {
        await db.schema
          .createTable(table)
          .addColumn('model_id', t.text, (c) => c.notNull().references('logged_models.model_id'))
          .addColumn('key', t.text, (c) => c.notNull())
          .addColumn('value', t.text, (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['model_id', 'key'])
          .execute();
      }

      await db.schema
        .createTable('logged_model_metrics')
        .addColumn('model_id', t.text, (c) => c.notNull().references('logged_models.model_id'))
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('step', t.bigint, (c) => c.notNull())
        .addColumn('timestamp', t.bigint, (c) => c.notNull())
        .addColumn('value', t.double, (c) => c.notNull())
        .addColumn('is_nan', t.smallint, (c) => c.notNull().defaultTo(0))
        .addColumn('run_id', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('dataset_name', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('dataset_digest', t.text, (c) => c.notNull().defaultTo(''))
        .addPrimaryKeyConstraint('logged_model_metrics_pk', [
          'model_id',
          'key',
          'step',
          'timestamp',
          'run_id',
          'dataset_name',
          'dataset_digest',
        ])
        .execute();

      await db.schema
        .createTable('run_model_io')
        .addColumn('run_id', t.text, (c) => c.notNull())
        .addColumn('model_id', t.text, (c) => c.notNull())
        .addColumn('direction', t.text, (c) => c.notNull())
        .addColumn('step', t.bigint, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('run_model_io_pk', ['run_id', 'model_id', 'direction'])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'run_model_io',
        'logged_model_metrics',
        'logged_model_params',
        'logged_model_tags',
        'logged_models',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
