/**
 * Window summaries: the reference bins applied to live values, kept incrementally by serving.
 *
 * `add()` does a fixed amount of work per value (a property read, a type check, a binary
 * search over at most ~20 cuts or one Map lookup) and allocates nothing, so keeping a
 * summary costs well under a microsecond per prediction (see `bench/monitoring.ts`).
 *
 * @example
 * const acc = new WindowAccumulator(profile);
 * acc.add({ distance: 1200, origin: 'SFO' }, { probability: 0.83, label: '1' });
 * const summary = acc.snapshot({ start, end }); // ship it, then acc.reset()
 */
import { TrestleError } from '@trestle/core';
import { binOf } from '../profile/bins.js';
import { columnLength, isDictionaryColumn, type Column } from '../profile/columns.js';
import { binsDigest } from '../profile/parse.js';
import {
  PROFILE_VERSION,
  type CategoricalFeatureProfile,
  type CategoricalWindowFeature,
  type FeatureProfile,
  type NumericFeatureProfile,
  type NumericWindowFeature,
  type ReferenceProfile,
  type WindowFeature,
  type WindowSummary,
} from '../profile/schema.js';

export interface AccumulatorOptions {
  /** Unseen category names kept per feature (their values are all counted). Default 20. */
  maxUnseenValues?: number;
  /** Names of unknown input features kept. Default 20. */
  maxUnknownFeatures?: number;
}

const OTHER = -2;

class NumericState {
  readonly cuts: Float64Array;
  readonly lo: number;
  readonly hi: number;
  counts: Float64Array;
  count = 0;
  nulls = 0;
  invalid = 0;
  under = 0;
  over = 0;
  sum = 0;
  sumSquares = 0;
  underSum = 0;
  overSum = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly profile: NumericFeatureProfile) {
    this.cuts = Float64Array.from(profile.cuts);
    this.lo = profile.min ?? Infinity;
    this.hi = profile.max ?? -Infinity;
    this.counts = new Float64Array(profile.cuts.length + 1);
  }

  add(v: unknown): void {
    if (typeof v !== 'number') {
      if (v === null || v === undefined) this.nulls++;
      else this.invalid++;
      return;
    }
    if (v !== v) {
      this.nulls++;
      return;
    }
    if (v === Infinity || v === -Infinity) {
      this.invalid++;
      return;
    }
    this.count++;
    this.sum += v;
    this.sumSquares += v * v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v < this.lo) {
      this.under++;
      this.underSum += v;
    } else if (v > this.hi) {
      this.over++;
      this.overSum += v;
    } else {
      this.counts[binOf(this.cuts, v)]!++;
    }
  }

  snapshot(): NumericWindowFeature {
    return {
      name: this.profile.name,
      kind: 'numeric',
      count: this.count,
      nulls: this.nulls,
      invalid: this.invalid,
      under: this.under,
      over: this.over,
      counts: Array.from(this.counts),
      sum: this.sum,
      sumSquares: this.sumSquares,
      underSum: this.underSum,
      overSum: this.overSum,
      min: this.count === 0 ? null : this.min,
      max: this.count === 0 ? null : this.max,
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.count = this.nulls = this.invalid = this.under = this.over = 0;
    this.sum = this.sumSquares = this.underSum = this.overSum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}

class CategoricalState {
  readonly index = new Map<string, number>();
  readonly truncated: boolean;
  counts: Float64Array;
  count = 0;
  nulls = 0;
  invalid = 0;
  other = 0;
  unseen = 0;
  unseenValues = new Map<string, number>();

  constructor(
    readonly profile: CategoricalFeatureProfile,
    readonly maxUnseen: number,
  ) {
    profile.categories.forEach((c, i) => this.index.set(c, i));
    for (const c of profile.otherCategories) this.index.set(c, OTHER);
    this.truncated = profile.otherCategoriesTruncated;
    this.counts = new Float64Array(profile.categories.length);
  }

  add(v: unknown): void {
    let key: string;
    if (typeof v === 'string') key = v;
    else if (v === null || v === undefined || (typeof v === 'number' && v !== v)) {
      this.nulls++;
      return;
    } else if (typeof v === 'number' || typeof v === 'boolean') key = String(v);
    else {
      this.invalid++;
      return;
    }
    this.addKey(key);
  }

  addKey(key: string): void {
    this.count++;
    const i = this.index.get(key);
    if (i === undefined) {
      // With a truncated list of rare training categories an unknown name may be a rare one.
      if (this.truncated) {
        this.other++;
        return;
      }
      this.unseen++;
      const seen = this.unseenValues.get(key);
      if (seen !== undefined) this.unseenValues.set(key, seen + 1);
      else if (this.unseenValues.size < this.maxUnseen) this.unseenValues.set(key, 1);
    } else if (i === OTHER) this.other++;
    else this.counts[i]!++;
  }

  snapshot(): CategoricalWindowFeature {
    return {
      name: this.profile.name,
      kind: 'categorical',
      count: this.count,
      nulls: this.nulls,
      invalid: this.invalid,
      counts: Array.from(this.counts),
      other: this.other,
      unseen: this.unseen,
      unseenValues: Object.fromEntries(this.unseenValues),
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.count = this.nulls = this.invalid = this.other = this.unseen = 0;
    this.unseenValues.clear();
  }
}

type State = NumericState | CategoricalState;

function stateFor(f: FeatureProfile, maxUnseen: number): State {
  return f.kind === 'numeric' ? new NumericState(f) : new CategoricalState(f, maxUnseen);
}

/** Keeps the window summary of a stream of predictions on a reference profile's bins. */
export class WindowAccumulator {
  readonly digest: string;
  private readonly features: State[];
  private readonly outputs: State[];
  private readonly names: string[];
  private readonly known: Set<string>;
  private readonly maxUnknown: number;
  private rows = 0;
  private readonly missing: Float64Array;
  private readonly unknown = new Map<string, number>();

  constructor(
    readonly profile: ReferenceProfile,
    options: AccumulatorOptions = {},
  ) {
    const maxUnseen = options.maxUnseenValues ?? 20;
    this.maxUnknown = options.maxUnknownFeatures ?? 20;
    this.digest = binsDigest(profile);
    this.features = profile.features.map((f) => stateFor(f, maxUnseen));
    this.outputs = (profile.prediction?.outputs ?? []).map((f) => stateFor(f, maxUnseen));
    this.names = profile.features.map((f) => f.name);
    this.known = new Set(this.names);
    this.missing = new Float64Array(this.names.length);
  }

  /** Number of rows added since the last reset. */
  get size(): number {
    return this.rows;
  }

  /** Adds one prediction: its inputs by feature name and, optionally, its outputs by output name. */
  add(inputs: Readonly<Record<string, unknown>>, outputs?: Readonly<Record<string, unknown>>): void {
    this.rows++;
    const features = this.features;
    let found = 0;
    for (let i = 0; i < features.length; i++) {
      const v = inputs[this.names[i]!];
      if (v === undefined && !(this.names[i]! in inputs)) this.missing[i]!++;
      else found++;
      features[i]!.add(v);
    }
    let keys = 0;
    for (const _ in inputs) keys++;
    if (keys > found) this.noteUnknown(inputs);
    if (outputs !== undefined) {
      for (const s of this.outputs) s.add(outputs[s.profile.name]);
    }
  }

  /** Adds a batch given by columns (the shapes of `profile/columns.ts`). */
  addColumns(inputs: Readonly<Record<string, Column>>, outputs?: Readonly<Record<string, Column>>): void {
    const lengths = [...Object.values(inputs), ...Object.values(outputs ?? {})].map(columnLength);
    const n = lengths[0] ?? 0;
    if (lengths.some((l) => l !== n)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `columns of one batch must have the same length, got ${lengths.join(', ')}`,
      );
    }
    this.rows += n;
    this.features.forEach((s, i) => {
      const column = inputs[s.profile.name];
      if (column === undefined) this.missing[i]! += n;
      else addColumn(s, column);
    });
    for (const name of Object.keys(inputs)) if (!this.known.has(name)) this.bumpUnknown(name, n);
    if (outputs !== undefined) {
      for (const s of this.outputs) {
        const column = outputs[s.profile.name];
        if (column !== undefined) addColumn(s, column);
      }
    }
  }

  private noteUnknown(inputs: Readonly<Record<string, unknown>>): void {
    for (const k in inputs) if (!this.known.has(k)) this.bumpUnknown(k, 1);
  }

  private bumpUnknown(name: string, n: number): void {
    const seen = this.unknown.get(name);
    if (seen !== undefined) this.unknown.set(name, seen + n);
    else if (this.unknown.size < this.maxUnknown) this.unknown.set(name, n);
  }

  /** The summary so far, as the JSON shape serving ships (`WindowSummary`). */
  snapshot(range: { start?: string; end?: string } = {}): WindowSummary {
    const missingFeatures: Record<string, number> = {};
    this.missing.forEach((m, i) => {
      if (m > 0) missingFeatures[this.names[i]!] = m;
    });
    const summary: WindowSummary = {
      format: 'trestle.window-summary',
      version: PROFILE_VERSION,
      binsDigest: this.digest,
      rows: this.rows,
      features: this.features.map((s) => s.snapshot()),
      outputs: this.outputs.map((s) => s.snapshot()),
      missingFeatures,
      unknownFeatures: Object.fromEntries(this.unknown),
    };
    if (range.start !== undefined) summary.start = range.start;
    if (range.end !== undefined) summary.end = range.end;
    return summary;
  }

  /** Starts a new window (keeps the bins, drops the counts). */
  reset(): void {
    this.rows = 0;
    this.missing.fill(0);
    this.unknown.clear();
    for (const s of this.features) s.reset();
    for (const s of this.outputs) s.reset();
  }
}

function addColumn(s: State, column: Column): void {
  if (s instanceof NumericState) {
    if (isDictionaryColumn(column)) {
      s.invalid += column.codes.length;
      return;
    }
    for (let i = 0; i < column.length; i++) s.add(column[i]);
    return;
  }
  if (isDictionaryColumn(column)) {
    // Map each dictionary entry once, then count codes.
    const { codes, dictionary } = column;
    const tally = new Float64Array(dictionary.length);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c < 0 || c >= dictionary.length) s.nulls++;
      else tally[c]!++;
    }
    dictionary.forEach((name, c) => {
      for (let k = tally[c]!; k > 0; k--) s.addKey(name);
    });
    return;
  }
  for (let i = 0; i < column.length; i++) s.add(column[i]);
}

/** An empty summary on a profile's bins (a window with no traffic). */
export function emptyWindow(profile: ReferenceProfile, range: { start?: string; end?: string } = {}): WindowSummary {
  return new WindowAccumulator(profile).snapshot(range);
}

/**
 * Sums two summaries of the same bins (e.g. per-minute windows into an hour, or the
 * windows of several serving replicas). Throws when the bins differ.
 */
export function mergeWindows(a: WindowSummary, b: WindowSummary, maxNames = 20): WindowSummary {
  if (a.binsDigest !== b.binsDigest) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `cannot merge windows built on different reference bins (${a.binsDigest} vs ${b.binsDigest}); they come from different model versions`,
    );
  }
  const merged: WindowSummary = {
    format: 'trestle.window-summary',
    version: PROFILE_VERSION,
    binsDigest: a.binsDigest,
    rows: a.rows + b.rows,
    features: a.features.map((f, i) => mergeFeature(f, b.features[i]!, maxNames)),
    outputs: a.outputs.map((f, i) => mergeFeature(f, b.outputs[i]!, maxNames)),
    missingFeatures: addRecords(a.missingFeatures, b.missingFeatures, Infinity),
    unknownFeatures: addRecords(a.unknownFeatures, b.unknownFeatures, maxNames),
  };
  const start = [a.start, b.start].filter((s): s is string => s !== undefined).sort()[0];
  const end = [a.end, b.end]
    .filter((s): s is string => s !== undefined)
    .sort()
    .at(-1);
  if (start !== undefined) merged.start = start;
  if (end !== undefined) merged.end = end;
  return merged;
}

function addRecords(a: Record<string, number>, b: Record<string, number>, max: number): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (k in out) out[k]! += v;
    else if (Object.keys(out).length < max) out[k] = v;
  }
  return out;
}

function mergeFeature(a: WindowFeature, b: WindowFeature, maxNames: number): WindowFeature {
  const sum = (x: number[], y: number[]): number[] => x.map((v, i) => v + (y[i] ?? 0));
  if (a.kind === 'numeric' && b.kind === 'numeric') {
    const lo = [a.min, b.min].filter((v): v is number => v !== null);
    const hi = [a.max, b.max].filter((v): v is number => v !== null);
    return {
      ...a,
      count: a.count + b.count,
      nulls: a.nulls + b.nulls,
      invalid: a.invalid + b.invalid,
      under: a.under + b.under,
      over: a.over + b.over,
      counts: sum(a.counts, b.counts),
      sum: a.sum + b.sum,
      sumSquares: a.sumSquares + b.sumSquares,
      underSum: a.underSum + b.underSum,
      overSum: a.overSum + b.overSum,
      min: lo.length === 0 ? null : Math.min(...lo),
      max: hi.length === 0 ? null : Math.max(...hi),
    };
  }
  if (a.kind === 'categorical' && b.kind === 'categorical') {
    return {
      ...a,
      count: a.count + b.count,
      nulls: a.nulls + b.nulls,
      invalid: a.invalid + b.invalid,
      counts: sum(a.counts, b.counts),
      other: a.other + b.other,
      unseen: a.unseen + b.unseen,
      unseenValues: addRecords(a.unseenValues, b.unseenValues, maxNames),
    };
  }
  throw new TrestleError(
    'INVALID_ARGUMENT',
    `feature '${a.name}' is ${a.kind} in one window and ${b.kind} in the other`,
  );
}
