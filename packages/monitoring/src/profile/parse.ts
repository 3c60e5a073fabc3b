/**
 * Validation of profiles and window summaries that arrive as JSON (a model package's
 * manifest, a POST body), with messages that name the offending field.
 */
import { TrestleError } from '@trestle/core';
import { Value } from 'typebox/value';
import type { TSchema } from 'typebox';
import {
  ReferenceProfileSchema,
  WindowSummarySchema,
  type FeatureProfile,
  type ReferenceProfile,
  type WindowSummary,
} from './schema.js';

function check<T>(schema: TSchema, what: string, json: unknown): T {
  if (Value.Check(schema, json)) return json as T;
  const errors = [...Value.Errors(schema, json)].slice(0, 3);
  const detail = errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
  throw new TrestleError('INVALID_ARGUMENT', `not a valid ${what}: ${detail}`, { errors: errors.length });
}

/** Checks a reference profile read from JSON, including the invariants JSON Schema cannot say. */
export function parseReferenceProfile(json: unknown): ReferenceProfile {
  const profile = check<ReferenceProfile>(ReferenceProfileSchema, 'reference profile', json);
  const all = [...profile.features, ...(profile.prediction?.outputs ?? [])];
  const seen = new Set<string>();
  for (const f of all) checkFeature(f, seen);
  return profile;
}

function checkFeature(f: FeatureProfile, seen: Set<string>): void {
  const bad = (why: string): never => {
    throw new TrestleError('INVALID_ARGUMENT', `not a valid reference profile: feature '${f.name}' ${why}`, {
      feature: f.name,
    });
  };
  if (seen.has(f.name)) bad('appears twice');
  seen.add(f.name);
  if (f.kind === 'numeric') {
    if (f.counts.length !== f.cuts.length + 1) bad(`has ${f.counts.length} counts for ${f.cuts.length + 1} bins`);
    for (let i = 1; i < f.cuts.length; i++) if (!(f.cuts[i]! > f.cuts[i - 1]!)) bad('has cuts that do not ascend');
  } else if (f.counts.length !== f.categories.length) {
    bad(`has ${f.counts.length} counts for ${f.categories.length} categories`);
  }
}

/** Checks a window summary read from JSON. */
export function parseWindowSummary(json: unknown): WindowSummary {
  return check<WindowSummary>(WindowSummarySchema, 'window summary', json);
}

/**
 * Digest of the bins of a profile (names, kinds, cuts, categories): two windows built on
 * the same bins have the same digest and can be merged. FNV-1a 64-bit over a canonical JSON.
 */
export function binsDigest(profile: ReferenceProfile): string {
  const shape = (f: FeatureProfile): unknown =>
    f.kind === 'numeric' ? [f.name, 'n', f.min, f.max, f.cuts] : [f.name, 'c', f.categories, f.otherCategories];
  const text = JSON.stringify([profile.features.map(shape), (profile.prediction?.outputs ?? []).map(shape)]);
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}
