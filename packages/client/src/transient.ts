import { isTrestleError } from '@trestle/core';

// Errors that say "try again later" although their code alone does not (a 429 carries the
// server's own code): marked where they are made, recognised by identity.
const marked = new WeakSet<object>();

/** Marks `err` as transient (see {@link isTransientError}) and returns it. */
export function markTransient<E extends object>(err: E): E {
  marked.add(err);
  return err;
}

/**
 * Whether a failed write may succeed if sent again later, unchanged: the server or store could
 * not be reached or was busy (`UNAVAILABLE`: connection errors, HTTP 502/503/504, a locked
 * database) or asked the client to slow down (HTTP 429). Anything else is the server refusing
 * this input, and sending it again would fail again.
 *
 * @example isTransientError(new TrestleError('UNAVAILABLE', 'connection refused')) // true
 */
export function isTransientError(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && marked.has(err)) return true;
  return isTrestleError(err, 'UNAVAILABLE');
}
