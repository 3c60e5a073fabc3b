/**
 * Roles of API tokens, from least to most privileged. Each role can do what the ones before it
 * can: a `reader` reads, an `editor` also writes (experiments, runs, metrics, artifacts), an
 * `admin` also manages tokens.
 *
 * @example roleAllows('editor', 'reader') // true
 */
export const ROLES = ['reader', 'editor', 'admin'] as const;

/** The role of an API token; see {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** True for `'reader'`, `'editor'` and `'admin'`. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * Whether a token of role `role` may do what needs role `needed` (roles are ordered, see {@link ROLES}).
 *
 * @example
 * roleAllows('admin', 'editor')  // true
 * roleAllows('reader', 'editor') // false
 */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
