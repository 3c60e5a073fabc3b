/** Reads one section of params.yaml (the pipeline's parameters) for a stage script. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export function stageParams(section: string): Record<string, unknown> {
  const all = parse(readFileSync('params.yaml', 'utf8')) as Record<string, unknown> | null;
  const values = all?.[section];
  if (values === null || typeof values !== 'object') throw new Error(`params.yaml has no '${section}' section`);
  return values as Record<string, unknown>;
}

/** A parameter that must be a number (with the key named when it is not). */
export function numberParam(values: Record<string, unknown>, key: string): number {
  const v = values[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`params.yaml: '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}
