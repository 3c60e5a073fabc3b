import type { Role } from '../roles.js';

/**
 * What is known about an API token; never its secret. Times are epoch milliseconds.
 *
 * @example
 * { tokenId: '9f1c2a7e4b3d5f60', name: 'ci', role: 'editor', prefix: 'trestle_Xy3k9Q',
 *   createdTime: 1718000000000, lastUsedTime: null, revokedTime: null }
 */
export interface ApiToken {
  /** Stable id, 16 lowercase hex characters; what `trestle tokens revoke` takes. */
  readonly tokenId: string;
  /** What the token is for, e.g. `ci` or `alice-laptop`. Not unique. */
  readonly name: string;
  readonly role: Role;
  /** The first characters of the secret (`trestle_` and 6 more), to recognise a token in a list. */
  readonly prefix: string;
  readonly createdTime: number;
  /** When a request last presented it, to the minute; null if never. */
  readonly lastUsedTime: number | null;
  /** When it was revoked; null while it is valid. */
  readonly revokedTime: number | null;
}

/**
 * API tokens of a server started with access control. A secret is `trestle_` followed by 32
 * random bytes in base64url; the store keeps only its SHA-256 (the secret has enough entropy
 * that a fast hash is right), so a secret is shown once, when it is created, and never again.
 *
 * @example
 * const { token, info } = await store.tokens.createToken({ name: 'ci', role: 'editor' });
 * console.log(`export TRESTLE_TRACKING_TOKEN=${token}`); // shown once
 * (await store.tokens.verifyToken(token))?.role;       // 'editor'
 * await store.tokens.revokeToken(info.tokenId);
 * await store.tokens.verifyToken(token);                // undefined
 */
export interface TokenStore {
  /**
   * Creates a token and returns its secret, the only time it is available.
   * `INVALID_ARGUMENT` for an empty or over-long name (200 characters) or an unknown role.
   *
   * @example const { token } = await tokens.createToken({ name: 'notebook', role: 'reader' });
   */
  createToken(input: { name: string; role: Role }): Promise<{ token: string; info: ApiToken }>;
  /**
   * The token a secret belongs to, or `undefined` when the secret is unknown, malformed or
   * revoked. Records the use (`lastUsedTime`), writing at most once a minute per token.
   *
   * @example const token = await tokens.verifyToken(secretFromHeader); if (token === undefined) reply401();
   */
  verifyToken(secret: string): Promise<ApiToken | undefined>;
  /**
   * Every token, revoked ones included, oldest first.
   *
   * @example (await tokens.listTokens()).filter((t) => t.revokedTime === null)
   */
  listTokens(): Promise<ApiToken[]>;
  /**
   * Revokes a token: its secret stops working at once. Revoking a revoked token does nothing;
   * `NOT_FOUND` if there is no such token.
   *
   * @example await tokens.revokeToken('9f1c2a7e4b3d5f60');
   */
  revokeToken(tokenId: string): Promise<void>;
  /**
   * How many valid (not revoked) admin tokens exist; the server creates a first one when there are none.
   *
   * @example if ((await tokens.countAdmins()) === 0) await tokens.createToken({ name: 'bootstrap-admin', role: 'admin' });
   */
  countAdmins(): Promise<number>;
}
