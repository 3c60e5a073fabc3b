import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME } from '@trestle/core';
import type { SqlDialect } from '../dialects.js';
import type { MigrationContext } from './context.js';

/**
 * The `metrics` table (one row per point) as this migration creates it; also what
 * `0003-metric-chunks` puts back on its way down, so that the two cannot differ.
 */
export async function createMetricsTable(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  const t = dialect.types;
  await dialect
    .clustered(
      db.schema
        .createTable('metrics')
        .addColumn('run_id', t.text, (c) => c.notNull())
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('step', t.bigint, (c) => c.notNull())
        .addColumn('timestamp', t.bigint, (c) => c.notNull())
        .addColumn('value', t.double, (c) => c.notNull())
        .addColumn('is_nan', t.smallint, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('metrics_pk', ['run_id', 'key', 'step', 'timestamp', 'value', 'is_nan']),
    )
    .execute();
}

/**
 * The initial schema, MLflow-like: experiments and their tags, runs with params, tags, metric
 * history and latest metrics, datasets with run inputs, plus the metric rollups used for
 * downsampled charts. Creates experiment `0` ("Default"), as MLflow does.
 *
 * Foreign keys guard the small tables. The metric history and rollups have none: they are
 * written only by `logBatch`, which checks the run in the same transaction, and a per-row
 * parent lookup would cost about a quarter of the ingest rate. Runs are never hard-deleted.
 */
export function initialMigration(ctx: MigrationContext): Migration {
  const { dialect } = ctx;
  const t = dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('experiments')
        .addColumn('experiment_id', t.integer, (c) => dialect.identityPrimaryKey(c))
        .addColumn('name', t.text, (c) => c.notNull().unique())
        .addColumn('artifact_location', t.text, (c) => c.notNull())
        .addColumn('lifecycle_stage', t.text, (c) => c.notNull().defaultTo('active'))
        .addColumn('creation_time', t.bigint, (c) => c.notNull())
        .addColumn('last_update_time', t.bigint, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('experiment_tags')
        .addColumn('experiment_id', t.integer, (c) => c.notNull().references('experiments.experiment_id'))
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('value', t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('experiment_tags_pk', ['experiment_id', 'key'])
        .execute();
      await db.schema
        .createIndex('experiment_tags_key_value')
        .on('experiment_tags')
        .columns(['key'])
        .expression(dialect.indexedTextValue('value'))
        .execute();

      await db.schema
        .createTable('runs')
        .addColumn('run_id', t.text, (c) => c.primaryKey())
        .addColumn('experiment_id', t.integer, (c) => c.notNull().references('experiments.experiment_id'))
        .addColumn('run_name', t.text, (c) => c.notNull())
        .addColumn('user_id', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('start_time', t.bigint, (c) => c.notNull())
        .addColumn('end_time', t.bigint)
        .addColumn('artifact_uri', t.text, (c) => c.notNull())
        .addColumn('lifecycle_stage', t.text, (c) => c.notNull().defaultTo('active'))
        .addColumn('deleted_time', t.bigint)
        .execute();
      await db.schema
        .createIndex('runs_experiment_stage_start')
        .on('runs')
        .columns(['experiment_id', 'lifecycle_stage', 'start_time'])
        .execute();

      for (const table of ['params', 'tags'] as const) {
        await db.schema
          .createTable(table)
          .addColumn('run_id', t.text, (c) => c.notNull().references('runs.run_id'))
          .addColumn('key', t.text, (c) => c.notNull())
          .addColumn('value', t.text, (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['run_id', 'key'])
          .execute();
        await db.schema
          .createIndex(`${table}_key_value`)
          .on(table)
          .columns(['key'])
          .expression(dialect.indexedTextValue('value'))
          .execute();
      }

      await createMetricsTable(db, dialect);

      await db.schema
        .createTable('latest_metrics')
        .addColumn('run_id', t.text, (c) => c.notNull().references('runs.run_id'))
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('step', t.bigint, (c) => c.notNull())
        .addColumn('timestamp', t.bigint, (c) => c.notNull())
        .addColumn('value', t.double, (c) => c.notNull())
        .addColumn('is_nan', t.smallint, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('latest_metrics_pk', ['run_id', 'key'])
        .execute();
      await db.schema.createIndex('latest_metrics_key_value').on('latest_metrics').columns(['key', 'value']).execute();

      await dialect
        .clustered(
          db.schema
            .createTable('metric_rollups')
            .addColumn('run_id', t.text, (c) => c.notNull())
            .addColumn('key', t.text, (c) => c.notNull())
            .addColumn('width', t.integer, (c) => c.notNull())
            .addColumn('bucket', t.bigint, (c) => c.notNull())
            .addColumn('count', t.bigint, (c) => c.notNull())
            .addColumn('first_step', t.bigint, (c) => c.notNull())
            .addColumn('first_timestamp', t.bigint, (c) => c.notNull())
            .addColumn('first_value', t.double)
            .addColumn('last_step', t.bigint, (c) => c.notNull())
            .addColumn('last_timestamp', t.bigint, (c) => c.notNull())
            .addColumn('last_value', t.double)
            .addColumn('min_step', t.bigint)
            .addColumn('min_timestamp', t.bigint)
            .addColumn('min_value', t.double)
            .addColumn('max_step', t.bigint)
            .addColumn('max_timestamp', t.bigint)
            .addColumn('max_value', t.double)
            .addPrimaryKeyConstraint('metric_rollups_pk', ['run_id', 'key', 'width', 'bucket']),
        )
        .execute();

      await db.schema
        .createTable('datasets')
        .addColumn('dataset_id', t.text, (c) => c.primaryKey())
        .addColumn('experiment_id', t.integer, (c) => c.notNull().references('experiments.experiment_id'))
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('digest', t.text, (c) => c.notNull())
        .addColumn('source_type', t.text, (c) => c.notNull())
        .addColumn('source', t.text, (c) => c.notNull())
        .addColumn('schema', t.text)
        .addColumn('profile', t.text)
        .addUniqueConstraint('datasets_experiment_name_digest', ['experiment_id', 'name', 'digest'])
        .execute();
      await db.schema.createIndex('datasets_name').on('datasets').columns(['name']).execute();
      await db.schema.createIndex('datasets_digest').on('datasets').columns(['digest']).execute();

      await db.schema
        .createTable('inputs')
        .addColumn('input_id', t.text, (c) => c.primaryKey())
        .addColumn('dataset_id', t.text, (c) => c.notNull().references('datasets.dataset_id'))
        .addColumn('run_id', t.text, (c) => c.notNull().references('runs.run_id'))
        .addUniqueConstraint('inputs_dataset_run', ['dataset_id', 'run_id'])
        .execute();
      await db.schema.createIndex('inputs_run').on('inputs').columns(['run_id']).execute();

      await db.schema
        .createTable('input_tags')
        .addColumn('input_id', t.text, (c) => c.notNull().references('inputs.input_id'))
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('value', t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('input_tags_pk', ['input_id', 'key'])
        .execute();
      await db.schema
        .createIndex('input_tags_key_value')
        .on('input_tags')
        .columns(['key'])
        .expression(dialect.indexedTextValue('value'))
        .execute();

      const now = ctx.now();
      await sql`INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
        VALUES (${Number(DEFAULT_EXPERIMENT_ID)}, ${DEFAULT_EXPERIMENT_NAME}, ${`${ctx.artifactRoot}/${DEFAULT_EXPERIMENT_ID}`}, 'active', ${now}, ${now})`.execute(
        db,
      );
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'input_tags',
        'inputs',
        'datasets',
        'metric_rollups',
        'latest_metrics',
        'metrics',
        'tags',
        'params',
        'runs',
        'experiment_tags',
        'experiments',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
