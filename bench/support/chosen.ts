/** The comma-separated names of `variable` that are in `known`, or all of them when it is unset. */
export function chosen<T extends string>(variable: string, known: readonly T[]): Set<T> {
  const raw = process.env[variable];
  if (raw === undefined || raw.trim() === '') return new Set(known);
  const names = raw.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(known as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new Error(`${variable}: unknown ${unknown.join(', ')}; use some of ${known.join(', ')}`);
  return new Set(names as T[]);
}
