/**
 * Monitoring data in the metadata database (migrations `0007-monitoring*`): inference logs as
 * the batches serving ships with a per-prediction index holding the joined labels, window
 * summaries, reference profiles, results, alert state, leases.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { TrestleError, checkInferenceBatch, inferenceBatchOf, inferenceRow } from '@trestle/core';
import type {
  AlertState,
  InferenceBatch,
  InferenceRecord,
  LabelledInference,
  MatchedInference,
  MonitoredModel,
  MonitoringStore,
  MonitorResult,
  PendingLabel,
  WindowKey,
} from '@trestle/core';
import type { BulkColumnType, SqlDialect } from './dialects.js';
import type { MetadataDatabase, MonitorResultsTable } from './schema.js';

type Db = Kysely<MetadataDatabase>;

export interface SqlMonitoringStoreOptions {
  db: () => Db;
  /** Runs `fn` in the owning store's write transaction. */
  write: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  dialect: SqlDialect;
  now?: () => number;
}

/** Values per IN list or INSERT of the small tables (SQLite allows 32,766 bound values). */
const CHUNK = 500;

const ID_COLUMNS = ['request_id', 'model_name', 'model_version', 'batch_id', 'row', 'time', 'key'];
const ID_TYPES: BulkColumnType[] = ['text', 'text', 'text', 'bigint', 'bigint', 'bigint', 'text'];

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

function toResult(row: Selectable<MonitorResultsTable>): MonitorResult {
  return {
    name: row.model_name,
    version: row.model_version,
    alias: row.alias,
    start: Number(row.start_time),
    end: Number(row.end_time),
    computedTime: Number(row.computed_time),
    rows: Number(row.rows),
    labelled: Number(row.labelled),
    driftShare: row.drift_share === null ? null : Number(row.drift_share),
    datasetDrift: Number(row.dataset_drift) === 1,
    drift: parseJson(row.drift),
    quality: parseJson(row.quality),
    performance: parseJson(row.performance),
    ...(row.error === null ? {} : { error: row.error }),
  };
}

function checkModel(model: MonitoredModel): void {
  if (
    typeof model.name !== 'string' ||
    model.name === '' ||
    typeof model.version !== 'string' ||
    model.version === ''
  ) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      'model needs a name and a version (strings), e.g. {"name":"flights","version":"3"}',
    );
  }
}

/**
 * A {@link MonitoringStore} on the metadata database (SQLite or PostgreSQL), built by
 * `SqlMetadataStore` as its `monitoring`.
 */
export class SqlMonitoringStore implements MonitoringStore {
  readonly #db: () => Db;
  readonly #write: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  readonly #dialect: SqlDialect;
  readonly #now: () => number;

  constructor(options: SqlMonitoringStoreOptions) {
    this.#db = options.db;
    this.#write = options.write;
    this.#dialect = options.dialect;
    this.#now = options.now ?? Date.now;
  }

  logInferences(model: MonitoredModel, records: InferenceRecord[]): Promise<{ accepted: number; duplicates: number }> {
    return this.logInferenceBatch(model, inferenceBatchOf(records));
  }

  async logInferenceBatch(
    model: MonitoredModel,
    batch: InferenceBatch,
  ): Promise<{ accepted: number; duplicates: number }> {
    checkModel(model);
    checkInferenceBatch(batch);
    const n = batch.requestIds.length;
    if (n === 0) return { accepted: 0, duplicates: 0 };
    let start = Infinity;
    let end = -Infinity;
    for (const t of batch.times) {
      if (t < start) start = t;
      if (t > end) end = t;
    }
    return this.#write(async (db) => {
      const { batch_id } = await db
        .insertInto('inference_log_batches')
        .values({
          model_name: model.name,
          model_version: model.version,
          alias: model.alias ?? null,
          start_time: start,
          end_time: end,
          rows: n,
          received_time: this.#now(),
          request_ids: JSON.stringify(batch.requestIds),
          times: JSON.stringify(batch.times),
          latency_ms: batch.latencyMs === undefined ? null : JSON.stringify(batch.latencyMs),
          keys: batch.keys === undefined ? null : JSON.stringify(batch.keys),
          inputs: JSON.stringify(batch.inputs),
          outputs: JSON.stringify(batch.outputs),
        })
        .returning('batch_id')
        .executeTakeFirstOrThrow();
      const id = Number(batch_id);
      const rows = new Array<(string | number | null)[]>(n);
      for (let i = 0; i < n; i++) {
        rows[i] = [batch.requestIds[i]!, model.name, model.version, id, i, batch.times[i]!, batch.keys?.[i] ?? null];
      }
      let accepted = 0;
      const inserts = this.#dialect.bulkInsert({
        into: 'inference_log_ids',
        columns: ID_COLUMNS,
        types: ID_TYPES,
        rows,
        tail: 'ON CONFLICT DO NOTHING',
      });
      for (const q of inserts) accepted += Number((await db.executeQuery(q)).numAffectedRows ?? 0);
      // Every request id was logged before (a replayed shipment): keep no batch nothing points to.
      if (accepted === 0) await db.deleteFrom('inference_log_batches').where('batch_id', '=', id).execute();
      return { accepted, duplicates: n - accepted };
    });
  }

  async recordWindow(model: MonitoredModel, start: number, end: number, summary: string): Promise<void> {
    checkModel(model);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) {
      throw new TrestleError('INVALID_ARGUMENT', `a window needs start < end in epoch ms, got ${start} … ${end}`);
    }
    const now = this.#now();
    const db = this.#db();
    await db
      .insertInto('monitor_window_parts')
      .values({
        model_name: model.name,
        model_version: model.version,
        start_time: start,
        end_time: end,
        summary,
        received_time: now,
      })
      .execute();
    await db
      .insertInto('monitor_windows')
      .values({
        model_name: model.name,
        model_version: model.version,
        start_time: start,
        end_time: end,
        alias: model.alias ?? null,
        changed_time: now,
        computed_time: null,
      })
      .onConflict((oc) =>
        oc.columns(['model_name', 'model_version', 'start_time', 'end_time']).doUpdateSet({
          changed_time: now,
          ...(model.alias === undefined ? {} : { alias: model.alias }),
        }),
      )
      .execute();
  }

  async findInferences(ids: { requestIds: string[]; keys: string[] }): Promise<MatchedInference[]> {
    const out: MatchedInference[] = [];
    const db = this.#db();
    for (const [column, values] of [
      ['request_id', ids.requestIds],
      ['key', ids.keys],
    ] as const) {
      if (values.length === 0) continue;
      const rows = await db
        .selectFrom('inference_log_ids')
        .select(['request_id', 'key', 'model_name', 'model_version', 'time'])
        .where(this.#dialect.inList(sql.ref(column), values, 'text'))
        .$if(column === 'key', (q) => q.where('key', 'is not', null))
        .execute();
      for (const r of rows) {
        out.push({
          requestId: r.request_id,
          key: r.key,
          model: r.model_name,
          version: r.model_version,
          time: Number(r.time),
        });
      }
    }
    return out;
  }

  async applyLabels(labels: { requestId: string; label: string; time: number }[]): Promise<number> {
    if (labels.length === 0) return 0;
    const now = this.#now();
    return this.#write(async (db) => {
      let updated = 0;
      for (const l of labels) {
        const r = await db
          .updateTable('inference_log_ids')
          .set({ label: l.label, label_time: l.time })
          .where('request_id', '=', l.requestId)
          .executeTakeFirst();
        updated += Number(r.numUpdatedRows);
      }
      // Windows holding a newly labelled prediction are computed again (their performance changed).
      for (let i = 0; i < labels.length; i += CHUNK) {
        const ids = labels.slice(i, i + CHUNK).map((l) => l.requestId);
        await db
          .updateTable('monitor_windows')
          .set({ changed_time: now })
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom('inference_log_ids')
                .select(sql`1`.as('one'))
                .whereRef('inference_log_ids.model_name', '=', 'monitor_windows.model_name')
                .whereRef('inference_log_ids.model_version', '=', 'monitor_windows.model_version')
                .whereRef('inference_log_ids.time', '>=', 'monitor_windows.start_time')
                .whereRef('inference_log_ids.time', '<', 'monitor_windows.end_time')
                .where('inference_log_ids.request_id', 'in', ids),
            ),
          )
          .execute();
      }
      return updated;
    });
  }

  async holdLabels(labels: PendingLabel[], expireBefore: number): Promise<void> {
    const db = this.#db();
    await db.deleteFrom('monitor_pending_labels').where('received_time', '<', expireBefore).execute();
    const now = this.#now();
    for (let i = 0; i < labels.length; i += CHUNK) {
      const rows = labels.slice(i, i + CHUNK).map((l) => ({
        request_id: l.requestId ?? null,
        key: l.requestId === undefined ? (l.key ?? null) : null,
        label: l.label,
        label_time: l.time,
        received_time: now,
      }));
      if (rows.length > 0) await db.insertInto('monitor_pending_labels').values(rows).execute();
    }
  }

  async takePendingLabels(ids: { requestIds: string[]; keys: string[] }): Promise<PendingLabel[]> {
    const db = this.#db();
    // The common case, on every shipment of inference logs: nothing is held.
    const any = await db.selectFrom('monitor_pending_labels').select('pending_id').limit(1).executeTakeFirst();
    if (any === undefined) return [];
    const out: PendingLabel[] = [];
    for (const [column, values] of [
      ['request_id', ids.requestIds],
      ['key', ids.keys],
    ] as const) {
      for (let i = 0; i < values.length; i += CHUNK) {
        const rows = await db
          .selectFrom('monitor_pending_labels')
          .selectAll()
          .where(column, 'in', values.slice(i, i + CHUNK))
          .execute();
        if (rows.length === 0) continue;
        // Only what this call deleted is returned: a concurrent taker gets the others, never the same.
        const taken = await db
          .deleteFrom('monitor_pending_labels')
          .where(
            'pending_id',
            'in',
            rows.map((r) => r.pending_id),
          )
          .returning('pending_id')
          .execute();
        const mine = new Set(taken.map((r) => Number(r.pending_id)));
        for (const r of rows) {
          if (!mine.has(Number(r.pending_id))) continue;
          out.push({
            ...(r.request_id === null ? {} : { requestId: r.request_id }),
            ...(r.key === null ? {} : { key: r.key }),
            label: r.label,
            time: Number(r.label_time),
          });
        }
      }
    }
    return out;
  }

  async setReference(name: string, version: string, profile: string): Promise<void> {
    await this.#db()
      .insertInto('monitor_references')
      .values({ model_name: name, model_version: version, profile, created_time: this.#now() })
      .onConflict((oc) =>
        oc.columns(['model_name', 'model_version']).doUpdateSet({ profile, created_time: this.#now() }),
      )
      .execute();
  }

  async getReference(name: string, version: string): Promise<string | undefined> {
    const row = await this.#db()
      .selectFrom('monitor_references')
      .select('profile')
      .where('model_name', '=', name)
      .where('model_version', '=', version)
      .executeTakeFirst();
    return row?.profile;
  }

  async windowSummaries(key: Pick<WindowKey, 'name' | 'version' | 'start' | 'end'>): Promise<string[]> {
    const rows = await this.#db()
      .selectFrom('monitor_window_parts')
      .select('summary')
      .where('model_name', '=', key.name)
      .where('model_version', '=', key.version)
      .where('start_time', '=', key.start)
      .where('end_time', '=', key.end)
      .orderBy('part_id')
      .execute();
    return rows.map((r) => r.summary);
  }

  async pendingWindows(closedBefore: number, filter: { name?: string; version?: string } = {}): Promise<WindowKey[]> {
    let q = this.#db()
      .selectFrom('monitor_windows')
      .selectAll()
      .where('end_time', '<=', closedBefore)
      .where((eb) => eb.or([eb('computed_time', 'is', null), eb('computed_time', '<', eb.ref('changed_time'))]));
    if (filter.name !== undefined) q = q.where('model_name', '=', filter.name);
    if (filter.version !== undefined) q = q.where('model_version', '=', filter.version);
    const rows = await q.orderBy('end_time').limit(1000).execute();
    return rows.map((r) => ({
      name: r.model_name,
      version: r.model_version,
      alias: r.alias,
      start: Number(r.start_time),
      end: Number(r.end_time),
    }));
  }

  async listWindows(filter: { name: string; version?: string; limit?: number }): Promise<WindowKey[]> {
    let q = this.#db().selectFrom('monitor_windows').selectAll().where('model_name', '=', filter.name);
    if (filter.version !== undefined) q = q.where('model_version', '=', filter.version);
    const rows = await q
      .orderBy('start_time', 'desc')
      .limit(filter.limit ?? 1000)
      .execute();
    return rows.map((r) => ({
      name: r.model_name,
      version: r.model_version,
      alias: r.alias,
      start: Number(r.start_time),
      end: Number(r.end_time),
    }));
  }

  async labelledInferences(key: Pick<WindowKey, 'name' | 'version' | 'start' | 'end'>): Promise<LabelledInference[]> {
    const db = this.#db();
    const rows = await db
      .selectFrom('inference_log_ids')
      .select(['request_id', 'time', 'batch_id', 'row', 'label'])
      .where('model_name', '=', key.name)
      .where('model_version', '=', key.version)
      .where('time', '>=', key.start)
      .where('time', '<', key.end)
      .where('label', 'is not', null)
      .orderBy('time')
      .execute();
    // Only the outputs of the batches holding a labelled prediction are read, in one query
    // (inList binds the ids as one parameter, whatever their number).
    const outputs = new Map<number, Record<string, unknown[]>>();
    const batchIds = [...new Set(rows.map((r) => Number(r.batch_id)))];
    if (batchIds.length > 0) {
      const batches = await db
        .selectFrom('inference_log_batches')
        .select(['batch_id', 'outputs'])
        .where(this.#dialect.inList(sql.ref('batch_id'), batchIds, 'bigint'))
        .execute();
      for (const b of batches) outputs.set(Number(b.batch_id), JSON.parse(b.outputs) as Record<string, unknown[]>);
    }
    return rows.map((r) => ({
      requestId: r.request_id,
      time: Number(r.time),
      outputs: inferenceRow(outputs.get(Number(r.batch_id)) ?? {}, Number(r.row)),
      label: JSON.parse(r.label!) as unknown,
    }));
  }

  async putResult(result: MonitorResult): Promise<void> {
    const db = this.#db();
    const row = {
      model_name: result.name,
      model_version: result.version,
      start_time: result.start,
      end_time: result.end,
      alias: result.alias,
      computed_time: result.computedTime,
      rows: result.rows,
      labelled: result.labelled,
      drift_share: result.driftShare,
      dataset_drift: result.datasetDrift ? 1 : 0,
      drift: result.drift === null || result.drift === undefined ? null : JSON.stringify(result.drift),
      quality: result.quality === null || result.quality === undefined ? null : JSON.stringify(result.quality),
      performance:
        result.performance === null || result.performance === undefined ? null : JSON.stringify(result.performance),
      error: result.error ?? null,
    };
    const { model_name: _n, model_version: _v, start_time: _s, end_time: _e, ...update } = row;
    await db
      .insertInto('monitor_results')
      .values(row)
      .onConflict((oc) => oc.columns(['model_name', 'model_version', 'start_time', 'end_time']).doUpdateSet(update))
      .execute();
    await db
      .updateTable('monitor_windows')
      .set({ computed_time: result.computedTime })
      .where('model_name', '=', result.name)
      .where('model_version', '=', result.version)
      .where('start_time', '=', result.start)
      .where('end_time', '=', result.end)
      .execute();
  }

  async listResults(filter: {
    name: string;
    version?: string;
    alias?: string;
    since?: number;
    limit?: number;
  }): Promise<MonitorResult[]> {
    let q = this.#db().selectFrom('monitor_results').selectAll().where('model_name', '=', filter.name);
    if (filter.version !== undefined) q = q.where('model_version', '=', filter.version);
    if (filter.alias !== undefined) q = q.where('alias', '=', filter.alias);
    if (filter.since !== undefined) q = q.where('start_time', '>=', filter.since);
    const rows = await q
      .orderBy('start_time', 'desc')
      .orderBy('model_version', 'desc')
      .limit(filter.limit ?? 1000)
      .execute();
    return rows.reverse().map(toResult);
  }

  async listMonitoredModels(): Promise<{ name: string; version: string; alias: string | null }[]> {
    const rows = await this.#db()
      .selectFrom('monitor_windows')
      .select(['model_name', 'model_version', (eb) => eb.fn.max('alias').as('alias')])
      .groupBy(['model_name', 'model_version'])
      .orderBy('model_name')
      .orderBy('model_version')
      .execute();
    return rows.map((r) => ({
      name: r.model_name,
      version: r.model_version,
      alias: r.alias ?? null,
    }));
  }

  async getAlertState(key: string): Promise<AlertState | undefined> {
    const row = await this.#db()
      .selectFrom('monitor_alert_state')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          key: row.key,
          firing: Number(row.firing) === 1,
          since: Number(row.since),
          value: row.value === null ? null : Number(row.value),
        };
  }

  async setAlertState(state: AlertState): Promise<void> {
    const values = { key: state.key, firing: state.firing ? 1 : 0, since: state.since, value: state.value };
    await this.#db()
      .insertInto('monitor_alert_state')
      .values(values)
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ firing: values.firing, since: values.since, value: values.value }),
      )
      .execute();
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const db = this.#db();
    // Insert, or take over an expired lease, or renew our own: one statement, so two replicas cannot both win.
    await db
      .insertInto('monitor_leases')
      .values({ name, holder, expires_time: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder, expires_time: now + ttlMs })
          .where((eb) =>
            eb.or([eb('monitor_leases.expires_time', '<', now), eb('monitor_leases.holder', '=', holder)]),
          ),
      )
      .execute();
    const row = await db.selectFrom('monitor_leases').select('holder').where('name', '=', name).executeTakeFirst();
    return row?.holder === holder;
  }
}
