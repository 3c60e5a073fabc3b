import { isTrestleError } from '@trestle/core';
import { describe, expect, it } from 'vitest';
import { invalidParameter } from './errors.js';
import { RequestMessage } from './request-message.js';

describe('RequestMessage.fromQuery', () => {
  it("ignores query keys named after Object's own members instead of failing", () => {
    // As a query parser hands them over: `__proto__` as an own key, not the prototype.
    const query = JSON.parse(
      '{"run_id": "ab12", "constructor": "x", "__proto__": ["y"], "toString": "z", "hasOwnProperty": "w"}',
    ) as unknown;
    const msg = RequestMessage.fromQuery(query);
    expect(msg.runId()).toBe('ab12');
    expect(msg.string('constructor')).toBe('x');
    expect(msg.strings('__proto__')).toEqual(['y']);
    expect(msg.strings('toString')).toEqual(['z']);
    expect(msg.has('valueOf')).toBe(false);
  });

  it('merges `ids`, `ids[]` and `ids[0]` into one repeated field', () => {
    const msg = RequestMessage.fromQuery({ run_ids: 'a', 'run_ids[]': ['b', 'c'], 'run_ids[0]': 'd' });
    expect(msg.strings('run_ids')).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('invalidParameter', () => {
  it('names a value too deeply nested to print without failing itself', () => {
    const deep = JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown;
    const err = invalidParameter('run_id', deep, 'a string');
    expect(isTrestleError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect(err.message).toContain("Invalid value […] for parameter 'run_id' supplied: expected a string, got a list.");
  });

  it('reads a deeply nested field of a body as a wrong type, not a crash', () => {
    const deep = JSON.parse(`{"run_id": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`) as unknown;
    expect(() => RequestMessage.fromBody(deep).runId()).toThrow(/Invalid value \[…\] for parameter 'run_id'/);
  });
});
