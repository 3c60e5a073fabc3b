/**
 * API tokens in the metadata database (table `api_tokens`, migration `0002-api-tokens`).
 * A secret is `trestle_` + 32 random bytes in base64url. Only its SHA-256 is stored: the
 * secret carries 256 bits of entropy, so a fast hash is safe (nothing to brute-force) and a
 * request's token is found by one unique-index lookup on the hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { isRole, ROLES, TrestleError } from '@trestle/core';
import type { ApiToken, Role, TokenStore } from '@trestle/core';
import type { ApiTokensTable, MetadataDatabase } from './schema.js';

/** What every secret starts with, so that scanners (and people) recognise a leaked one. */
const TOKEN_SECRET_PREFIX = 'trestle_';

const SECRET_BYTES = 32;
/** Characters of randomness kept for display after the `trestle_` prefix. */
const SHOWN_RANDOM_CHARS = 6;
const SECRET_SHAPE = /^trestle_[A-Za-z0-9_-]{43}$/;
const MAX_NAME_LENGTH = 200;
/** `lastUsedTime` is written at most this often per token, so that busy clients do not write on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** What {@link SqlTokenStore} is built from. */
export interface SqlTokenStoreOptions {
  /** The database, asked for on every call so that the owning store can refuse use once closed. */
  db: () => Kysely<MetadataDatabase>;
  /** Epoch ms; default `Date.now`. */
  now?: () => number;
}

/**
 * Hex SHA-256 of a token secret, as stored in `api_tokens.token_hash`.
 *
 * @example hashTokenSecret('trestle_…') // '3b0c…' (64 hex characters)
 */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toApiToken(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    tokenId: row.token_id,
    name: row.name,
    role: row.role as Role,
    prefix: row.prefix,
    createdTime: row.created_time,
    lastUsedTime: row.last_used_time,
    revokedTime: row.revoked_time,
  };
}

/**
 * A {@link TokenStore} on the metadata database (SQLite or PostgreSQL); each call is one or two
 * single statements, so no transaction is needed. Built by `SqlMetadataStore` as its `tokens`.
 *
 * @example
 * const tokens = new SqlTokenStore({ db: () => kysely });
 * const { token } = await tokens.createToken({ name: 'ci', role: 'editor' });
 */
export class SqlTokenStore implements TokenStore {
  readonly #db: () => Kysely<MetadataDatabase>;
  readonly #now: () => number;

  constructor(options: SqlTokenStoreOptions) {
    this.#db = options.db;
    this.#now = options.now ?? Date.now;
  }

  async createToken(input: { name: string; role: Role }): Promise<{ token: string; info: ApiToken }> {
    const { name, role } = input;
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_LENGTH) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `a token name must be 1 to ${MAX_NAME_LENGTH} characters saying what the token is for (such as 'ci'), got ${JSON.stringify(name)}`,
      );
    }
    if (!isRole(role)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `a token role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`,
        {
          role: String(role),
        },
      );
    }
    const token = `${TOKEN_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
    const row = {
      token_id: randomBytes(8).toString('hex'),
      name,
      role,
      prefix: token.slice(0, TOKEN_SECRET_PREFIX.length + SHOWN_RANDOM_CHARS),
      token_hash: hashTokenSecret(token),
      created_time: this.#now(),
      last_used_time: null,
      revoked_time: null,
    };
    await this.#db().insertInto('api_tokens').values(row).execute();
    return { token, info: toApiToken(row) };
  }

  async verifyToken(secret: string): Promise<ApiToken | undefined> {
    // Anything that cannot be one of our secrets is refused without a query.
    if (typeof secret !== 'string' || !SECRET_SHAPE.test(secret)) return undefined;
    const db = this.#db();
    const row = await db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', hashTokenSecret(secret))
      .executeTakeFirst();
    if (row === undefined || row.revoked_time !== null) return undefined;
    const now = this.#now();
    if (row.last_used_time === null || now - row.last_used_time >= LAST_USED_RESOLUTION_MS) {
      try {
        await db
          .updateTable('api_tokens')
          .set({ last_used_time: now })
          .where('token_id', '=', row.token_id)
          .where((eb) =>
            eb.or([eb('last_used_time', 'is', null), eb('last_used_time', '<=', now - LAST_USED_RESOLUTION_MS)]),
          )
          .execute();
        row.last_used_time = now;
      } catch {
        // Bookkeeping only (a busy SQLite writer, a read-only replica): a valid token is not refused for it.
      }
    }
    return toApiToken(row);
  }

  async listTokens(): Promise<ApiToken[]> {
    const rows = await this.#db()
      .selectFrom('api_tokens')
      .selectAll()
      .orderBy('created_time')
      .orderBy('token_id')
      .execute();
    return rows.map(toApiToken);
  }

  async revokeToken(tokenId: string): Promise<void> {
    const db = this.#db();
    const row = await db
      .selectFrom('api_tokens')
      .select('revoked_time')
      .where('token_id', '=', String(tokenId))
      .executeTakeFirst();
    if (row === undefined) {
      throw new TrestleError(
        'NOT_FOUND',
        `token '${tokenId}' does not exist; 'trestle tokens list' shows the token ids`,
        {
          tokenId: String(tokenId),
        },
      );
    }
    if (row.revoked_time !== null) return;
    await db
      .updateTable('api_tokens')
      .set({ revoked_time: this.#now() })
      .where('token_id', '=', tokenId)
      .where('revoked_time', 'is', null)
      .execute();
  }

  async countAdmins(): Promise<number> {
    const { count } = await this.#db()
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('role', '=', 'admin')
      .where('revoked_time', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(count);
  }
}
