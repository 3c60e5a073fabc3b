/**
 * Dataset versions in the metadata database (table `data_versions`, migration
 * `0006-data-versions`), recorded by `trestle data add` and pipelines.
 */
import type { Kysely, Selectable } from 'kysely';
import { decodePageToken, encodePageToken, TrestleError } from '@trestle/core';
import type { DataVersion, DataVersionInput, DataVersionStore, Page } from '@trestle/core';
import type { DataVersionsTable, MetadataDatabase } from './schema.js';

/** What {@link SqlDataVersionStore} is built from. */
export interface SqlDataVersionStoreOptions {
  /** The database, asked for on every call so that the owning store can refuse use once closed. */
  db: () => Kysely<MetadataDatabase>;
  /** Epoch ms; default `Date.now`. */
  now?: () => number;
}

function toVersion(row: Selectable<DataVersionsTable>): DataVersion {
  return {
    name: row.name,
    digest: row.digest,
    source: row.source,
    kind: row.kind === 'dir' ? 'dir' : 'file',
    size: Number(row.size),
    files: Number(row.files),
    ...(row.schema === null ? {} : { schema: row.schema }),
    ...(row.profile === null ? {} : { profile: row.profile }),
    createdTime: Number(row.created_time),
  };
}

function check(input: DataVersionInput): void {
  const bad = (why: string): never => {
    throw new TrestleError('INVALID_ARGUMENT', `data version ${why}`, { name: String(input.name) });
  };
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 1000)
    bad('name must be 1 to 1000 characters (the tracked path)');
  if (typeof input.digest !== 'string' || !/^[0-9a-f]{64}$/.test(input.digest))
    bad('digest must be a SHA-256 (64 hex digits)');
  if (input.kind !== 'file' && input.kind !== 'dir') bad(`kind must be 'file' or 'dir'`);
  if (!Number.isSafeInteger(input.size) || input.size < 0) bad('size must be a byte count');
  if (!Number.isSafeInteger(input.files) || input.files < 0) bad('files must be a count');
}

/**
 * A {@link DataVersionStore} on the metadata database (SQLite or PostgreSQL). Built by
 * `SqlMetadataStore` as its `dataVersions`.
 *
 * @example
 * const versions = new SqlDataVersionStore({ db: () => kysely });
 * await versions.recordVersion({ name: 'data/a.csv', digest, source: 'file:///repo/data/a.csv', kind: 'file', size: 10, files: 1 });
 */
export class SqlDataVersionStore implements DataVersionStore {
  readonly #db: () => Kysely<MetadataDatabase>;
  readonly #now: () => number;

  constructor(options: SqlDataVersionStoreOptions) {
    this.#db = options.db;
    this.#now = options.now ?? Date.now;
  }

  async recordVersion(input: DataVersionInput): Promise<DataVersion> {
    check(input);
    const db = this.#db();
    await db
      .insertInto('data_versions')
      .values({
        name: input.name,
        digest: input.digest,
        source: input.source,
        kind: input.kind,
        size: input.size,
        files: input.files,
        schema: input.schema ?? null,
        profile: input.profile ?? null,
        created_time: this.#now(),
      })
      .onConflict((oc) => oc.columns(['name', 'digest']).doNothing())
      .execute();
    if (input.schema !== undefined || input.profile !== undefined) {
      // A schema or profile computed later fills the gap; a recorded one is never overwritten.
      if (input.schema !== undefined) {
        await db
          .updateTable('data_versions')
          .set({ schema: input.schema })
          .where('name', '=', input.name)
          .where('digest', '=', input.digest)
          .where('schema', 'is', null)
          .execute();
      }
      if (input.profile !== undefined) {
        await db
          .updateTable('data_versions')
          .set({ profile: input.profile })
          .where('name', '=', input.name)
          .where('digest', '=', input.digest)
          .where('profile', 'is', null)
          .execute();
      }
    }
    return this.getVersion(input.name, input.digest);
  }

  async getVersion(name: string, digest: string): Promise<DataVersion> {
    const row = await this.#db()
      .selectFrom('data_versions')
      .selectAll()
      .where('name', '=', name)
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (row === undefined) {
      throw new TrestleError(
        'NOT_FOUND',
        `no version ${digest.slice(0, 12)}… of '${name}' was recorded; see 'trestle data versions'`,
        {
          name,
          digest,
        },
      );
    }
    return toVersion(row);
  }

  async listVersions(
    options: { name?: string; maxResults?: number; pageToken?: string } = {},
  ): Promise<Page<DataVersion>> {
    const max = options.maxResults ?? 100;
    if (!Number.isSafeInteger(max) || max < 1 || max > 1000) {
      throw new TrestleError('INVALID_ARGUMENT', `maxResults must be 1 to 1000, got ${String(options.maxResults)}`);
    }
    const { offset } = decodePageToken(options.pageToken);
    let query = this.#db().selectFrom('data_versions').selectAll();
    if (options.name !== undefined) query = query.where('name', '=', options.name);
    const rows = await query
      .orderBy('created_time', 'desc')
      .orderBy('name')
      .orderBy('digest')
      .limit(max + 1)
      .offset(offset)
      .execute();
    const items = rows.slice(0, max).map(toVersion);
    return rows.length > max ? { items, nextPageToken: encodePageToken({ offset: offset + max }) } : { items };
  }

  async findByDigest(digest: string): Promise<DataVersion[]> {
    const rows = await this.#db()
      .selectFrom('data_versions')
      .selectAll()
      .where('digest', '=', digest)
      .orderBy('created_time')
      .orderBy('name')
      .execute();
    return rows.map(toVersion);
  }
}
