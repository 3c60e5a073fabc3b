import { TrestleError } from '@trestle/core';
import type { FeatureSpec } from './columns.js';

/**
 * Small checked readers for model JSON: each names the field that is wrong, so a damaged
 * model file gives a message that says where.
 */
export const json = {
  fail(message: string): never {
    throw new TrestleError('INVALID_ARGUMENT', `invalid model JSON: ${message}`);
  },
  parse(text: string, what: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new TrestleError('INVALID_ARGUMENT', `${what} is not valid JSON`, {}, { cause: err });
    }
  },
  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) json.fail(`'${path}' must be an object`);
    return v as Record<string, unknown>;
  },
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) json.fail(`'${path}' must be an array`);
    return v as unknown[];
  },
  numbers(v: unknown, path: string, allowNull = false): number[] {
    const a = json.array(v, path);
    for (const x of a)
      if (!((typeof x === 'number' && Number.isFinite(x)) || (allowNull && x === null)))
        json.fail(`'${path}' must hold finite numbers`);
    return a as number[];
  },
  strings(v: unknown, path: string): string[] {
    const a = json.array(v, path);
    if (!a.every((x) => typeof x === 'string')) json.fail(`'${path}' must hold strings`);
    return a as string[];
  },
  integer(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) return json.fail(`'${path}' must be an integer`);
    return v;
  },
  finite(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) return json.fail(`'${path}' must be a finite number`);
    return v;
  },
  oneOf<T extends string>(v: unknown, options: readonly T[], path: string): T {
    if (!options.includes(v as T)) json.fail(`'${path}' must be one of ${options.join(', ')}`);
    return v as T;
  },
  format(o: Record<string, unknown>, format: string, version: number): void {
    if (o['format'] !== format)
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `model format is ${JSON.stringify(o['format'])}, expected '${format}'`,
      );
    if (o['formatVersion'] !== version)
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `model format version ${JSON.stringify(o['formatVersion'])} of '${format}' is not supported (this build reads version ${version})`,
      );
  },
  featureSpecs(v: unknown, path: string): FeatureSpec[] {
    return json.array(v, path).map((x, i) => {
      const o = json.object(x, `${path}[${i}]`);
      const name = o['name'];
      if (typeof name !== 'string') return json.fail(`'${path}[${i}].name' must be a string`);
      if (o['type'] === 'numeric') return { name, type: 'numeric' };
      if (o['type'] === 'categorical')
        return { name, type: 'categorical', categories: json.strings(o['categories'], `${path}[${i}].categories`) };
      return json.fail(`'${path}[${i}].type' must be 'numeric' or 'categorical'`);
    });
  },
};
