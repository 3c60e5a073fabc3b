import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Monitoring: inference logs (labels joined in place), window summaries as shipped by serving
 * replicas (one row each, merged when computed), the window index with its change and compute
 * times, reference profiles per model version, results per window, alert state and leases.
 */
export function monitoringMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('inference_logs')
        .addColumn('model_name', t.text, (c) => c.notNull())
        .addColumn('model_version', t.text, (c) => c.notNull())
        .addColumn('request_id', t.text, (c) => c.notNull())
        .addColumn('alias', t.text)
        .addColumn('key', t.text)
        .addColumn('time', t.bigint, (c) => c.notNull())
        .addColumn('inputs', t.text, (c) => c.notNull())
        .addColumn('outputs', t.text, (c) => c.notNull())
        .addColumn('latency_ms', t.double)
        .addColumn('label', t.text)
        .addColumn('label_time', t.bigint)
        .addPrimaryKeyConstraint('inference_logs_pk', ['model_name', 'model_version', 'request_id'])
        .execute();
      await db.schema.createIndex('inference_logs_request').on('inference_logs').columns(['request_id']).execute();
      await db.schema.createIndex('inference_logs_key').on('inference_logs').columns(['key']).execute();
      await db.schema
        .createIndex('inference_logs_time')
        .on('inference_logs')
        .columns(['model_name', 'model_version', 'time'])
        .execute();

      await db.schema
        .createTable('monitor_windows')
        .addColumn('model_name', t.text, (c) => c.notNull())
        .addColumn('model_version', t.text, (c) => c.notNull())
        .addColumn('start_time', t.bigint, (c) => c.notNull())
        .addColumn('end_time', t.bigint, (c) => c.notNull())
        .addColumn('alias', t.text)
        .addColumn('changed_time', t.bigint, (c) => c.notNull())
        .addColumn('computed_time', t.bigint)
        .addPrimaryKeyConstraint('monitor_windows_pk', ['model_name', 'model_version', 'start_time', 'end_time'])
        .execute();
      await db.schema.createIndex('monitor_windows_end').on('monitor_windows').columns(['end_time']).execute();

      await db.schema
        .createTable('monitor_window_parts')
        .addColumn('part_id', t.integer, (c) => ctx.dialect.identityPrimaryKey(c))
        .addColumn('model_name', t.text, (c) => c.notNull())
        .addColumn('model_version', t.text, (c) => c.notNull())
        .addColumn('start_time', t.bigint, (c) => c.notNull())
        .addColumn('end_time', t.bigint, (c) => c.notNull())
        .addColumn('summary', t.text, (c) => c.notNull())
        .addColumn('received_time', t.bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('monitor_window_parts_window')
        .on('monitor_window_parts')
        .columns(['model_name', 'model_version', 'start_time', 'end_time'])
        .execute();

      await db.schema
        .createTable('monitor_references')
        .addColumn('model_name', t.text, (c) => c.notNull())
        .addColumn('model_version', t.text, (c) => c.notNull())
        .addColumn('profile', t.text, (c) => c.notNull())
        .addColumn('created_time', t.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('monitor_references_pk', ['model_name', 'model_version'])
        .execute();

      await db.schema
        .createTable('monitor_results')
        .addColumn('model_name', t.text, (c) => c.notNull())
        .addColumn('model_version', t.text, (c) => c.notNull())
        .addColumn('start_time', t.bigint, (c) => c.notNull())
        .addColumn('end_time', t.bigint, (c) => c.notNull())
        .addColumn('alias', t.text)
        .addColumn('computed_time', t.bigint, (c) => c.notNull())
        .addColumn('rows', t.bigint, (c) => c.notNull())
        .addColumn('labelled', t.bigint, (c) => c.notNull())
        .addColumn('drift_share', t.double)
        .addColumn('dataset_drift', t.smallint, (c) => c.notNull())
        .addColumn('drift', t.text)
        .addColumn('quality', t.text)
        .addColumn('performance', t.text)
        .addColumn('error', t.text)
        .addPrimaryKeyConstraint('monitor_results_pk', ['model_name', 'model_version', 'start_time', 'end_time'])
        .execute();
      await db.schema
        .createIndex('monitor_results_time')
        .on('monitor_results')
        .columns(['model_name', 'start_time'])
        .execute();

      await db.schema
        .createTable('monitor_alert_state')
        .addColumn('key', t.text, (c) => c.primaryKey())
        .addColumn('firing', t.smallint, (c) => c.notNull())
        .addColumn('since', t.bigint, (c) => c.notNull())
        .addColumn('value', t.double)
        .execute();

      await db.schema
        .createTable('monitor_leases')
        .addColumn('name', t.text, (c) => c.primaryKey())
        .addColumn('holder', t.text, (c) => c.notNull())
        .addColumn('expires_time', t.bigint, (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'monitor_leases',
        'monitor_alert_state',
        'monitor_results',
        'monitor_references',
        'monitor_window_parts',
        'monitor_windows',
        'inference_logs',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
