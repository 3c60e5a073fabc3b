import type { Kysely, Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * The model registry: registered models (a surrogate `model_id`, so a rename touches one row),
 * their tags, versions (numbered per model from `last_version`, never reused), version tags
 * and aliases; and `registry_events`, the audit trail of every change, which also feeds the
 * event stream (`GET /api/v1/events`): readers resume after the last `event_id` they saw.
 * Events keep the model's name at the time and are never deleted with the model.
 */
export function registryMigration(ctx: MigrationContext): Migration {
  const { dialect } = ctx;
  const t = dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('registered_models')
        .addColumn('model_id', t.integer, (c) => dialect.identityPrimaryKey(c))
        .addColumn('name', t.text, (c) => c.notNull().unique())
        .addColumn('description', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('user_id', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('creation_time', t.bigint, (c) => c.notNull())
        .addColumn('last_updated_time', t.bigint, (c) => c.notNull())
        .addColumn('last_version', t.bigint, (c) => c.notNull().defaultTo(0))
        .execute();

      await db.schema
        .createTable('registered_model_tags')
        .addColumn('model_id', t.integer, (c) => c.notNull().references('registered_models.model_id'))
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('value', t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('registered_model_tags_pk', ['model_id', 'key'])
        .execute();

      await db.schema
        .createTable('model_versions')
        .addColumn('model_id', t.integer, (c) => c.notNull().references('registered_models.model_id'))
        .addColumn('version', t.bigint, (c) => c.notNull())
        .addColumn('creation_time', t.bigint, (c) => c.notNull())
        .addColumn('last_updated_time', t.bigint, (c) => c.notNull())
        .addColumn('description', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('user_id', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('source', t.text, (c) => c.notNull())
        .addColumn('run_id', t.text)
        .addColumn('run_link', t.text)
        .addColumn('logged_model_id', t.text)
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('status_message', t.text)
        .addColumn('stage', t.text, (c) => c.notNull().defaultTo('None'))
        .addPrimaryKeyConstraint('model_versions_pk', ['model_id', 'version'])
        .execute();
      await db.schema.createIndex('model_versions_run').on('model_versions').column('run_id').execute();
      await db.schema
        .createIndex('model_versions_logged_model')
        .on('model_versions')
        .column('logged_model_id')
        .execute();

      await db.schema
        .createTable('model_version_tags')
        .addColumn('model_id', t.integer, (c) => c.notNull())
        .addColumn('version', t.bigint, (c) => c.notNull())
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('value', t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('model_version_tags_pk', ['model_id', 'version', 'key'])
        .addForeignKeyConstraint('model_version_tags_version', ['model_id', 'version'], 'model_versions', [
          'model_id',
          'version',
        ])
        .execute();

      await db.schema
        .createTable('model_aliases')
        .addColumn('model_id', t.integer, (c) => c.notNull())
        .addColumn('alias', t.text, (c) => c.notNull())
        .addColumn('version', t.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('model_aliases_pk', ['model_id', 'alias'])
        .addForeignKeyConstraint('model_aliases_version', ['model_id', 'version'], 'model_versions', [
          'model_id',
          'version',
        ])
        .execute();

      await db.schema
        .createTable('registry_events')
        .addColumn('event_id', t.integer, (c) => dialect.identityPrimaryKey(c))
        .addColumn('type', t.text, (c) => c.notNull())
        .addColumn('time', t.bigint, (c) => c.notNull())
        .addColumn('actor', t.text, (c) => c.notNull().defaultTo(''))
        .addColumn('model_id', t.integer)
        .addColumn('model', t.text, (c) => c.notNull())
        .addColumn('version', t.bigint)
        .addColumn('alias', t.text)
        .addColumn('old_version', t.bigint)
        .addColumn('new_version', t.bigint)
        .addColumn('reason', t.text)
        .addColumn('details', t.text)
        .execute();
      await db.schema
        .createIndex('registry_events_model')
        .on('registry_events')
        .columns(['model_id', 'event_id'])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'registry_events',
        'model_aliases',
        'model_version_tags',
        'model_versions',
        'registered_model_tags',
        'registered_models',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
