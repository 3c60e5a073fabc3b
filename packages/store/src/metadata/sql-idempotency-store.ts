/**
 * Answers kept for requests sent with an `Idempotency-Key`, in the metadata database (table
 * `idempotency_keys`, migration `0003-idempotency-keys`), so that every server replica on one
 * database answers a retried request the same way. Each call is one or two single statements;
 * the primary key on `scope` makes a claim atomic (the first insert wins).
 */
import type { Kysely } from 'kysely';
import type { IdempotencyClaim, IdempotencyClaimInput, IdempotencyStore, StoredResponse } from '@trestle/core';
import type { MetadataDatabase } from './schema.js';

/** What {@link SqlIdempotencyStore} is built from. */
export interface SqlIdempotencyStoreOptions {
  /** The database, asked for on every call so that the owning store can refuse use once closed. */
  db: () => Kysely<MetadataDatabase>;
  /** Epoch ms; default `Date.now`. */
  now?: () => number;
}

/**
 * An {@link IdempotencyStore} on the metadata database (SQLite or PostgreSQL). Built by
 * `SqlMetadataStore` as its `idempotency`.
 *
 * @example
 * const claim = await store.idempotency.claim({ scope, fingerprint, ttlMs: 86_400_000, staleAfterMs: 60_000 });
 */
export class SqlIdempotencyStore implements IdempotencyStore {
  readonly #db: () => Kysely<MetadataDatabase>;
  readonly #now: () => number;

  constructor(options: SqlIdempotencyStoreOptions) {
    this.#db = options.db;
    this.#now = options.now ?? Date.now;
  }

  async claim(input: IdempotencyClaimInput): Promise<IdempotencyClaim> {
    const { scope, fingerprint, ttlMs, staleAfterMs } = input;
    const db = this.#db();
    // Two rounds at most: a record found expired or abandoned is taken over, unless another
    // request takes it over first, in which case the second round sees that one's claim.
    for (let round = 0; round < 2; round++) {
      const now = this.#now();
      const inserted = await db
        .insertInto('idempotency_keys')
        .values({ scope, fingerprint, status: null, headers: null, body: null, created_time: now })
        .onConflict((oc) => oc.column('scope').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return { state: 'claimed' };

      const row = await db.selectFrom('idempotency_keys').selectAll().where('scope', '=', scope).executeTakeFirst();
      if (row === undefined) continue; // released or purged in between: insert again
      const expired = row.created_time <= now - ttlMs;
      const abandoned = row.status === null && row.created_time <= now - staleAfterMs;
      if (expired || (abandoned && row.fingerprint === fingerprint)) {
        const taken = await db
          .updateTable('idempotency_keys')
          .set({ fingerprint, status: null, headers: null, body: null, created_time: now })
          .where('scope', '=', scope)
          .where('created_time', '=', row.created_time)
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) > 0) return { state: 'claimed' };
        continue;
      }
      if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
      if (row.status === null) return { state: 'in-progress' };
      return {
        state: 'replay',
        response: {
          status: row.status,
          headers: JSON.parse(row.headers ?? '{}') as Record<string, string>,
          body: row.body ?? '',
        },
      };
    }
    return { state: 'in-progress' };
  }

  async complete(scope: string, response: StoredResponse): Promise<void> {
    await this.#db()
      .updateTable('idempotency_keys')
      .set({ status: response.status, headers: JSON.stringify(response.headers), body: response.body })
      .where('scope', '=', scope)
      .execute();
  }

  async release(scope: string): Promise<void> {
    await this.#db().deleteFrom('idempotency_keys').where('scope', '=', scope).where('status', 'is', null).execute();
  }

  async purge(before: number): Promise<number> {
    const result = await this.#db()
      .deleteFrom('idempotency_keys')
      .where('created_time', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
