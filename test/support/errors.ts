import { isTrestleError, type TrestleError } from '@trestle/core';

/** Awaits `promise` and returns the TrestleError it rejected with; fails if it resolved or threw something else. */
export async function caught(promise: Promise<unknown>): Promise<TrestleError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isTrestleError(err)) throw new Error(`expected a TrestleError, got ${String(err)}`);
  return err;
}
