import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Answers kept for requests sent with an `Idempotency-Key` (see `sql-idempotency-store.ts`):
 * one row per scope (a hash of credential, key, method and path), with the hash of the body it
 * was first used with, and, once handled, the status, replayed headers and body. Rows expire
 * after 24 hours; the index on `created_time` makes purging them cheap.
 */
export function idempotencyKeysMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('scope', t.text, (c) => c.primaryKey())
        .addColumn('fingerprint', t.text, (c) => c.notNull())
        .addColumn('status', t.integer)
        .addColumn('headers', t.text)
        .addColumn('body', t.text)
        .addColumn('created_time', t.bigint, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').column('created_time').execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('idempotency_keys').ifExists().execute();
    },
  };
}
