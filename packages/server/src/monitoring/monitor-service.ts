/**
 * Monitoring on the server's side: takes inference logs, window summaries and feedback labels
 * into the metadata store, and computes each window's drift, data quality and performance with
 * `@trestle/monitoring`. Used by the REST routes, the window job in `trestle server` and
 * `trestle monitor run` (embedded). All state is in the store, so any replica can serve.
 */
import { TrestleError, inferenceBatchOf } from '@trestle/core';
import type { MonitoringStore, MonitorResult, PendingLabel, WindowKey } from '@trestle/core';
import type { WireFeedback, WireInferenceLogs, WireInferenceWindow } from '@trestle/core/rest';
import {
  driftFromSummary,
  mergeWindows,
  parseReferenceProfile,
  parseWindowSummary,
  binsDigest,
  performance,
  windowQuality,
  type DriftOptions,
  type Performance,
  type QualityOptions,
  type ReferenceProfile,
  type WindowSummary,
} from '@trestle/monitoring';

export interface MonitorServiceOptions {
  store: MonitoringStore;
  drift?: DriftOptions;
  quality?: QualityOptions;
  /** How long a label waits for its prediction to be logged; default {@link PENDING_LABEL_TTL_MS}. */
  pendingLabelTtlMs?: number;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

export interface FeedbackOutcome {
  matched: number;
  /** Labels whose prediction is not logged (yet). */
  unknown: number;
  unknownIds: string[];
  invalid: number;
  errors: string[];
  /** Of the unknown, how many are held until their prediction lands. */
  pending: number;
}

type FeedbackRecord = WireFeedback['records'][number];

const idsOf = (records: readonly FeedbackRecord[]): { requestIds: string[]; keys: string[] } => ({
  requestIds: records.flatMap((r) => (r.requestId === undefined ? [] : [r.requestId])),
  keys: records.flatMap((r) => (r.requestId === undefined && r.key !== undefined ? [r.key] : [])),
});

const fromPending = (p: PendingLabel): FeedbackRecord => ({
  ...(p.requestId === undefined ? {} : { requestId: p.requestId }),
  ...(p.key === undefined ? {} : { key: p.key }),
  label: JSON.parse(p.label) as string | number | boolean,
  time: p.time,
});

/** Default of {@link MonitorServiceOptions.pendingLabelTtlMs}: 7 days. */
const PENDING_LABEL_TTL_MS = 7 * 24 * 3_600_000;

const LIST_MAX = 20;

/** The predicted label / value and the positive-class score in a prediction's outputs. */
function predictionOf(outputs: Record<string, unknown>, task: string): { predicted: unknown; score?: number } {
  const predicted = outputs['label'] ?? outputs['prediction'] ?? outputs['value'] ?? outputs['predicted'];
  const p = outputs['probability'] ?? outputs['score'];
  if (task === 'binary-classification' && typeof p === 'number') {
    return { predicted: predicted ?? (p >= 0.5 ? '1' : '0'), score: p };
  }
  return { predicted };
}

export class MonitorService {
  readonly store: MonitoringStore;
  readonly #drift: DriftOptions;
  readonly #quality: QualityOptions;
  readonly #now: () => number;
  readonly #pendingTtl: number;
  readonly #profiles = new Map<string, ReferenceProfile | null>();

  constructor(options: MonitorServiceOptions) {
    this.store = options.store;
    this.#drift = options.drift ?? {};
    this.#quality = options.quality ?? {};
    this.#now = options.now ?? Date.now;
    this.#pendingTtl = options.pendingLabelTtlMs ?? PENDING_LABEL_TTL_MS;
  }

  /** The reference profile of a model version (cached; profiles are replaced rarely). */
  async profile(name: string, version: string): Promise<ReferenceProfile | undefined> {
    const key = `${name}\u0000${version}`;
    if (!this.#profiles.has(key)) {
      const text = await this.store.getReference(name, version);
      this.#profiles.set(key, text === undefined ? null : parseReferenceProfile(JSON.parse(text)));
    }
    return this.#profiles.get(key) ?? undefined;
  }

  async setReference(name: string, version: string, json: unknown): Promise<ReferenceProfile> {
    const profile = parseReferenceProfile(json);
    await this.store.setReference(name, version, JSON.stringify(profile));
    this.#profiles.set(`${name}\u0000${version}`, profile);
    return profile;
  }

  /**
   * Stores predictions (sent as records or as columns), then joins the labels that were waiting
   * for them (feedback that arrived before the prediction was shipped).
   */
  async logInferences(body: WireInferenceLogs): Promise<{ accepted: number; duplicates: number; joined: number }> {
    if ((body.records === undefined) === (body.columns === undefined)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        'send the predictions either as records (one object each) or as columns (one array per field), not both and not neither',
      );
    }
    const batch = body.columns ?? inferenceBatchOf(body.records!);
    const stored = await this.store.logInferenceBatch(body.model, batch);
    let joined = 0;
    if (stored.accepted > 0) {
      const held = await this.store.takePendingLabels({
        requestIds: batch.requestIds,
        keys: batch.keys?.filter((k): k is string => k !== null) ?? [],
      });
      if (held.length > 0) joined = (await this.#join(held.map(fromPending), false)).matched;
    }
    return { ...stored, joined };
  }

  async recordWindow(body: WireInferenceWindow): Promise<{ rows: number }> {
    const { model, start, end } = body;
    if (end <= start) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `window end (${end}) must be after its start (${start}), both epoch ms`,
      );
    }
    const summary = parseWindowSummary(body.summary);
    const profile = await this.profile(model.name, model.version);
    if (profile !== undefined && binsDigest(profile) !== summary.binsDigest) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `the window summary was built on other bins (digest ${summary.binsDigest}) than the reference profile of ${model.name} version ${model.version} (${binsDigest(profile)}); build it with the profile of that version`,
      );
    }
    await this.store.recordWindow(model, start, end, JSON.stringify(summary));
    return { rows: summary.rows };
  }

  /**
   * Joins labels to logged predictions. A label whose prediction is not logged yet is counted as
   * unknown and held (for `pendingLabelTtlMs`, default 7 days): it is joined when the prediction
   * lands. A label of the wrong type for its model (text for a regression) is refused and said
   * why; the rest are stored and the windows they fall in are computed again.
   */
  async feedback(body: WireFeedback): Promise<FeedbackOutcome> {
    return this.#join(body.records, true);
  }

  async #join(records: readonly FeedbackRecord[], hold: boolean): Promise<FeedbackOutcome> {
    const outcome: FeedbackOutcome = { matched: 0, unknown: 0, unknownIds: [], invalid: 0, errors: [], pending: 0 };
    const refuse = (why: string): void => {
      outcome.invalid++;
      if (outcome.errors.length < LIST_MAX) outcome.errors.push(why);
    };
    const withId = records.filter((r, i) => {
      if (r.requestId === undefined && r.key === undefined) {
        refuse(`record ${i} has neither requestId nor key`);
        return false;
      }
      return true;
    });
    const found = await this.store.findInferences(idsOf(withId));
    const byId = new Map<string, typeof found>();
    const byKey = new Map<string, typeof found>();
    for (const f of found) {
      byId.set(f.requestId, [...(byId.get(f.requestId) ?? []), f]);
      if (f.key !== null) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f]);
    }
    const labels: { requestId: string; label: string; time: number }[] = [];
    const unmatched: FeedbackRecord[] = [];
    for (const r of withId) {
      const matches = r.requestId !== undefined ? byId.get(r.requestId) : byKey.get(r.key!);
      if (matches === undefined || matches.length === 0) {
        unmatched.push(r);
        continue;
      }
      for (const m of matches) {
        const label = await this.#labelFor(r, m, refuse);
        if (label === undefined) continue;
        labels.push({ requestId: m.requestId, label: JSON.stringify(label), time: r.time ?? this.#now() });
        outcome.matched++;
      }
    }
    await this.store.applyLabels(labels);
    if (hold && unmatched.length > 0) {
      const now = this.#now();
      await this.store.holdLabels(
        unmatched.map((r) => ({
          ...(r.requestId === undefined ? { key: r.key! } : { requestId: r.requestId }),
          label: JSON.stringify(r.label),
          time: r.time ?? now,
        })),
        now - this.#pendingTtl,
      );
      // The predictions may have landed between the lookup and the hold: join those now.
      const raced = await this.store.findInferences(idsOf(unmatched));
      if (raced.length > 0) {
        const taken = await this.store.takePendingLabels(idsOf(unmatched));
        const late = await this.#join(taken.map(fromPending), false);
        outcome.matched += late.matched;
        outcome.invalid += late.invalid;
        outcome.errors.push(...late.errors.slice(0, LIST_MAX - outcome.errors.length));
        const joinedIds = new Set(taken.map((t) => t.requestId ?? t.key));
        const still = unmatched.filter((r) => !joinedIds.has(r.requestId ?? r.key));
        unmatched.length = 0;
        unmatched.push(...still);
      }
    }
    for (const r of unmatched) {
      outcome.unknown++;
      if (hold) outcome.pending++;
      if (outcome.unknownIds.length < LIST_MAX) outcome.unknownIds.push(r.requestId ?? r.key!);
    }
    return outcome;
  }

  /** The label as stored for a matched prediction, or undefined (refused) when its type does not fit the model. */
  async #labelFor(
    r: FeedbackRecord,
    m: { model: string; version: string; requestId: string },
    refuse: (why: string) => void,
  ): Promise<string | number | undefined> {
    const task = (await this.profile(m.model, m.version))?.prediction?.task;
    if (task !== 'regression') return String(r.label);
    const v =
      typeof r.label === 'number'
        ? r.label
        : typeof r.label === 'string' && r.label.trim() !== ''
          ? Number(r.label)
          : NaN;
    if (!Number.isFinite(v)) {
      refuse(
        `label ${JSON.stringify(r.label)} for request ${m.requestId} is not a number, and ${m.model} version ${m.version} is a regression`,
      );
      return undefined;
    }
    return v;
  }

  /** Computes one window: merges its summaries, then drift, quality and performance. */
  async computeWindow(key: WindowKey): Promise<MonitorResult> {
    const base = {
      ...key,
      computedTime: this.#now(),
      rows: 0,
      labelled: 0,
      driftShare: null,
      datasetDrift: false,
      drift: null,
      quality: null,
      performance: null,
    };
    const profile = await this.profile(key.name, key.version);
    if (profile === undefined) {
      return {
        ...base,
        error: `no reference profile for ${key.name} version ${key.version}; PUT one at /api/v1/monitoring/references/${encodeURIComponent(key.name)}/${encodeURIComponent(key.version)} (serving sends the model package's)`,
      };
    }
    const digest = binsDigest(profile);
    let merged: WindowSummary | undefined;
    let skipped = 0;
    for (const text of await this.store.windowSummaries(key)) {
      const part = parseWindowSummary(JSON.parse(text));
      if (part.binsDigest !== digest) {
        skipped++;
        continue;
      }
      merged = merged === undefined ? part : mergeWindows(merged, part);
    }
    if (merged === undefined)
      return { ...base, error: `the window has no summary on the bins of ${key.name} version ${key.version}` };
    const drift = driftFromSummary(profile, merged, this.#drift);
    const quality = windowQuality(profile, merged, this.#quality);
    let perf: Performance | null = null;
    const labelled = await this.store.labelledInferences(key);
    const task = profile.prediction?.task;
    if (labelled.length > 0 && task !== undefined) {
      const actual: (string | number)[] = [];
      const predicted: (string | number)[] = [];
      const score: number[] = [];
      for (const l of labelled) {
        const p = predictionOf(l.outputs, task);
        if (p.predicted === undefined || p.predicted === null) continue;
        actual.push(l.label as string | number);
        predicted.push(
          typeof p.predicted === 'number'
            ? p.predicted
            : typeof p.predicted === 'string'
              ? p.predicted
              : JSON.stringify(p.predicted),
        );
        if (p.score !== undefined) score.push(p.score);
      }
      perf = performance({
        task,
        actual,
        predicted,
        ...(score.length === actual.length && task === 'binary-classification' ? { score } : {}),
      });
    }
    return {
      ...base,
      rows: merged.rows,
      labelled: labelled.length,
      driftShare: drift.share,
      datasetDrift: drift.datasetDrift,
      drift,
      quality,
      performance: perf,
      ...(skipped > 0 ? { error: `${skipped} summaries on other bins were left out` } : {}),
    };
  }

  /**
   * Computes and stores every window closed by `closedBefore` that changed since it was last
   * computed (new summaries, late labels). A window that fails is stored with its error; the
   * others go on.
   */
  async computePending(
    closedBefore: number,
    filter: { name?: string; version?: string } = {},
  ): Promise<MonitorResult[]> {
    const out: MonitorResult[] = [];
    for (const key of await this.store.pendingWindows(closedBefore, filter)) {
      let result: MonitorResult;
      try {
        result = await this.computeWindow(key);
      } catch (err) {
        result = {
          ...key,
          computedTime: this.#now(),
          rows: 0,
          labelled: 0,
          driftShare: null,
          datasetDrift: false,
          drift: null,
          quality: null,
          performance: null,
          error: err instanceof Error ? err.message : String(err),
        };
      }
      await this.store.putResult(result);
      out.push(result);
    }
    return out;
  }

  /** Resolves `MODEL`, `MODEL@ALIAS` or `MODEL/VERSION` into a results filter. */
  static parseTarget(target: string): { name: string; alias?: string; version?: string } {
    const at = target.lastIndexOf('@');
    if (at > 0) return { name: target.slice(0, at), alias: target.slice(at + 1) };
    const slash = target.lastIndexOf('/');
    if (slash > 0) return { name: target.slice(0, slash), version: target.slice(slash + 1) };
    return { name: target };
  }
}
