import { sql, type Kysely, type Migration } from 'kysely';
import type { MigrationContext } from './context.js';

/**
 * Inference logs stored as the batches serving ships (one row per shipment, its fields as JSON
 * arrays) instead of one row per prediction with four indexes, whose inserts were most of the
 * control plane's cost of logging (bench/serving, issue 8). Beside them, `inference_log_ids` holds one small row per
 * prediction (request id, model version, batch and position, time, key, label) for feedback
 * joins, duplicate request ids and the labelled predictions of a window. Rows of the old
 * `inference_logs` move into batches of up to {@link MOVE_BATCH} predictions per model version
 * and alias, labels kept.
 */
export function monitoringStoredBatchesMigration(ctx: MigrationContext): Migration {
  const t = ctx.dialect.types;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('inference_log_batches')
        .addColumn('batch_id', t.integer, (c) => ctx.dialect.identityPrimaryKey(c))
        .addColumn('model_name', t.text, (c) => c.notNull())
        .addColumn('model_version', t.text, (c) => c.notNull())
        .addColumn('alias', t.text)
        .addColumn('start_time', t.bigint, (c) => c.notNull())
        .addColumn('end_time', t.bigint, (c) => c.notNull())
        .addColumn('rows', t.bigint, (c) => c.notNull())
        .addColumn('received_time', t.bigint, (c) => c.notNull())
        .addColumn('request_ids', t.text, (c) => c.notNull())
        .addColumn('times', t.text, (c) => c.notNull())
        .addColumn('latency_ms', t.text)
        .addColumn('keys', t.text)
        .addColumn('inputs', t.text, (c) => c.notNull())
        .addColumn('outputs', t.text, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('inference_log_batches_time')
        .on('inference_log_batches')
        .columns(['model_name', 'model_version', 'start_time'])
        .execute();
      await ctx.dialect
        .clustered(
          db.schema
            .createTable('inference_log_ids')
            .addColumn('request_id', t.text, (c) => c.notNull())
            .addColumn('model_name', t.text, (c) => c.notNull())
            .addColumn('model_version', t.text, (c) => c.notNull())
            .addColumn('batch_id', t.bigint, (c) => c.notNull())
            .addColumn('row', t.integer, (c) => c.notNull())
            .addColumn('time', t.bigint, (c) => c.notNull())
            .addColumn('key', t.text)
            .addColumn('label', t.text)
            .addColumn('label_time', t.bigint)
            .addPrimaryKeyConstraint('inference_log_ids_pk', ['request_id', 'model_name', 'model_version']),
        )
        .execute();
      // Partial indexes: most predictions have no key, and a label arrives for few of them (later).
      await db.schema
        .createIndex('inference_log_ids_key')
        .on('inference_log_ids')
        .column('key')
        .where(sql.ref('key'), 'is not', null)
        .execute();
      await db.schema
        .createIndex('inference_log_ids_labelled')
        .on('inference_log_ids')
        .columns(['model_name', 'model_version', 'time'])
        .where(sql.ref('label'), 'is not', null)
        .execute();
      await moveRows(db);
      await db.schema.dropTable('inference_logs').execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('inference_log_ids').ifExists().execute();
      await db.schema.dropTable('inference_log_batches').ifExists().execute();
      // The per-row table comes back empty: the batches are not unpacked again.
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
    },
  };
}

/** Predictions per batch when old rows are moved. */
const MOVE_BATCH = 2000;

interface OldRow {
  model_name: string;
  model_version: string;
  request_id: string;
  alias: string | null;
  key: string | null;
  time: number | string;
  inputs: string;
  outputs: string;
  latency_ms: number | null;
  label: string | null;
  label_time: number | string | null;
}

/** Columns of row objects; a name missing in a row is null there. */
function columnsOf(objects: Record<string, unknown>[]): Record<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  objects.forEach((o, i) => {
    for (const [name, value] of Object.entries(o)) {
      let col = out.get(name);
      if (col === undefined) out.set(name, (col = new Array<unknown>(objects.length).fill(null)));
      col[i] = value ?? null;
    }
  });
  return Object.fromEntries(out);
}

/** Moves `inference_logs` into batches, keyset-paged so that memory stays bounded. */
async function moveRows(db: Kysely<unknown>): Promise<void> {
  const d = db as Kysely<{ inference_logs: OldRow }>;
  let after: [string, string, string] | undefined;
  for (;;) {
    let q = d.selectFrom('inference_logs').selectAll();
    if (after !== undefined) {
      const [n, v, r] = after;
      q = q.where((eb) =>
        eb.or([
          eb('model_name', '>', n),
          eb.and([eb('model_name', '=', n), eb('model_version', '>', v)]),
          eb.and([eb('model_name', '=', n), eb('model_version', '=', v), eb('request_id', '>', r)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('model_name')
      .orderBy('model_version')
      .orderBy('request_id')
      .limit(MOVE_BATCH)
      .execute();
    if (rows.length === 0) return;
    const last = rows.at(-1)!;
    after = [last.model_name, last.model_version, last.request_id];
    const groups = new Map<string, OldRow[]>();
    for (const r of rows) {
      const k = JSON.stringify([r.model_name, r.model_version, r.alias]);
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      const times = group.map((r) => Number(r.time));
      const { batch_id } = await (db as Kysely<{ inference_log_batches: Record<string, unknown> }>)
        .insertInto('inference_log_batches')
        .values({
          model_name: first.model_name,
          model_version: first.model_version,
          alias: first.alias,
          start_time: Math.min(...times),
          end_time: Math.max(...times),
          rows: group.length,
          received_time: Date.now(),
          request_ids: JSON.stringify(group.map((r) => r.request_id)),
          times: JSON.stringify(times),
          latency_ms: JSON.stringify(group.map((r) => r.latency_ms)),
          keys: group.some((r) => r.key !== null) ? JSON.stringify(group.map((r) => r.key)) : null,
          inputs: JSON.stringify(columnsOf(group.map((r) => JSON.parse(r.inputs) as Record<string, unknown>))),
          outputs: JSON.stringify(columnsOf(group.map((r) => JSON.parse(r.outputs) as Record<string, unknown>))),
        })
        .returning('batch_id')
        .executeTakeFirstOrThrow();
      for (let i = 0; i < group.length; i += 500) {
        await (db as Kysely<{ inference_log_ids: Record<string, unknown> }>)
          .insertInto('inference_log_ids')
          .values(
            group.slice(i, i + 500).map((r, j) => ({
              request_id: r.request_id,
              model_name: r.model_name,
              model_version: r.model_version,
              batch_id: Number(batch_id),
              row: i + j,
              time: Number(r.time),
              key: r.key,
              label: r.label,
              label_time: r.label_time === null ? null : Number(r.label_time),
            })),
          )
          .execute();
      }
    }
  }
}
