import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * MLflow Tracing: `trace_info` (one row per trace; spans stay in the artifact store), its
 * `trace_tags` and `trace_request_metadata`, and `trace_run_links` (MLflow's LinkTracesToRun).
 */
export function tracesMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('trace_info')
        .addColumn('trace_id', t.text, (c) => c.primaryKey())
        .addColumn('experiment_id', t.integer, (c) => c.notNull())
        .addColumn('request_time', t.bigint, (c) => c.notNull())
        .addColumn('execution_duration', t.bigint)
        .addColumn('state', t.text, (c) => c.notNull())
        .addColumn('client_request_id', t.text)
        .addColumn('request_preview', t.text)
        .addColumn('response_preview', t.text)
        .execute();
      await db.schema
        .createIndex('trace_info_experiment_time')
        .on('trace_info')
        .columns(['experiment_id', 'request_time'])
        .execute();
      for (const table of ['trace_tags', 'trace_request_metadata'] as const) {
        await db.schema
          .createTable(table)
          .addColumn('trace_id', t.text, (c) => c.notNull().references('trace_info.trace_id').onDelete('cascade'))
          .addColumn('key', t.text, (c) => c.notNull())
          .addColumn('value', t.text, (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['trace_id', 'key'])
          .execute();
      }
      await db.schema
        .createTable('trace_run_links')
        .addColumn('trace_id', t.text, (c) => c.notNull().references('trace_info.trace_id').onDelete('cascade'))
        .addColumn('run_id', t.text, (c) => c.notNull())
        .addColumn('created_time', t.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('trace_run_links_pk', ['run_id', 'trace_id'])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['trace_run_links', 'trace_request_metadata', 'trace_tags', 'trace_info']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
