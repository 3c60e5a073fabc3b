import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Labels that arrive before their prediction is logged (feedback can beat the serving
 * replica's next shipment, or the spool replay): held here, by request id or key, and joined
 * when the prediction lands. Numbered within monitoring's 0007 so it cannot collide with
 * another part's next number.
 */
export function monitoringPendingLabelsMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('monitor_pending_labels')
        .addColumn('pending_id', t.integer, (c) => ctx.dialect.identityPrimaryKey(c))
        .addColumn('request_id', t.text)
        .addColumn('key', t.text)
        .addColumn('label', t.text, (c) => c.notNull())
        .addColumn('label_time', t.bigint, (c) => c.notNull())
        .addColumn('received_time', t.bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('monitor_pending_labels_request')
        .on('monitor_pending_labels')
        .columns(['request_id'])
        .execute();
      await db.schema.createIndex('monitor_pending_labels_key').on('monitor_pending_labels').columns(['key']).execute();
      await db.schema
        .createIndex('monitor_pending_labels_received')
        .on('monitor_pending_labels')
        .columns(['received_time'])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('monitor_pending_labels').ifExists().execute();
    },
  };
}
