import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { ROLES } from '@trestle/core';
import type { MigrationContext } from './context.js';

/**
 * API tokens for `trestle server --auth`: one row per token with its role and the SHA-256 of
 * its secret (unique, so a request's token is found by one index lookup). Revoked tokens stay,
 * with `revoked_time` set, so that a list shows what existed.
 */
export function apiTokensMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('api_tokens')
        .addColumn('token_id', t.text, (c) => c.primaryKey())
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('role', t.text, (c) => c.notNull())
        .addColumn('prefix', t.text, (c) => c.notNull())
        .addColumn('token_hash', t.text, (c) => c.notNull().unique())
        .addColumn('created_time', t.bigint, (c) => c.notNull())
        .addColumn('last_used_time', t.bigint)
        .addColumn('revoked_time', t.bigint)
        .addCheckConstraint('api_tokens_role', sql`role IN (${sql.join(ROLES.map((r) => sql.lit(r)))})`)
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('api_tokens').ifExists().execute();
    },
  };
}
