import { expect } from 'vitest';
import { isTrestleError } from '@trestle/core';

/** Asserts that `call` throws an INVALID_ARGUMENT TrestleError whose message matches `message`. */
export function expectInvalid(call: () => unknown, message?: RegExp): void {
  let caught: unknown;
  try {
    call();
  } catch (err) {
    caught = err;
  }
  expect(isTrestleError(caught, 'INVALID_ARGUMENT'), String(caught)).toBe(true);
  if (message) expect((caught as Error).message).toMatch(message);
}
