/**
 * Queries built and compiled once, then run with new parameter values: on hot paths (a
 * one-point log call is about 100 µs in all) building and compiling Kysely nodes on every call
 * costs several microseconds a query for SQL text that never changes.
 */
import type { CompiledQuery, Compilable } from 'kysely';

const MARKER = '\u0000trestle-prepared-parameter-';

/**
 * Compiles `build(marker0, marker1, …)` once and returns a function from the real parameter
 * values to the compiled query with those values in the markers' places. Every marker must
 * reach the query as a bound parameter (e.g. `.where('run_id', '=', marker)`), exactly once.
 *
 * @example
 * const runById = prepare(1, (id) => db.selectFrom('runs').selectAll().where('run_id', '=', id));
 * const row = (await conn.executeQuery(runById(runId))).rows[0];
 */
export function prepare<R>(
  arity: number,
  build: (...markers: string[]) => Compilable<R>,
): (...values: unknown[]) => CompiledQuery<R> {
  const markers = Array.from({ length: arity }, (_, i) => `${MARKER}${i}`);
  const compiled = build(...markers).compile();
  const slots = markers.map((m) => compiled.parameters.indexOf(m));
  if (slots.some((s, i) => s < 0 || compiled.parameters.lastIndexOf(markers[i]) !== s)) {
    throw new Error(`prepare: each of the ${arity} parameters must be bound exactly once in: ${compiled.sql}`);
  }
  return (...values) => {
    const parameters = compiled.parameters.slice();
    for (let i = 0; i < slots.length; i++) parameters[slots[i]!] = values[i];
    return { ...compiled, parameters };
  };
}
