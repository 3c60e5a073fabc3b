/**
 * The monitoring part of `trestle quickstart`: the real outcomes of the flights the demo sent go
 * back to the server as late labels (`POST /api/v1/feedback`), the closed windows are computed
 * (`POST /monitoring/models/NAME/run`, what `trestle monitor run` does), and the HTML report is
 * written by `trestle monitor report`.
 */
import { TrestleError } from '@trestle/core';
import type { MonitorResult } from '@trestle/core';
import type { DatasetDrift, Performance } from '@trestle/monitoring';
import type { DemoPrediction } from './demo.js';

/** What monitoring found in the demo's traffic. */
export interface DemoMonitoring {
  /** Labels joined to a logged prediction, and those that matched none (yet). */
  feedback: { matched: number; unknown: number; pending: number };
  /** The windows of the demo's traffic, oldest first. */
  windows: {
    start: number;
    end: number;
    rows: number;
    labelled: number;
    drifted: string[];
    tested: number;
    accuracy: number | null;
    auc: number | null;
    error?: string;
  }[];
  rows: number;
  labelled: number;
  /** Features drifted in any window, and the accuracy and AUC over all labelled predictions (window-weighted). */
  drifted: string[];
  accuracy: number | null;
  auc: number | null;
  /** The HTML report, or why it could not be written. */
  report: string | undefined;
  reportError?: string;
}

export interface MonitoringOptions {
  serverUrl: string;
  token: string | undefined;
  model: string;
  /** Traffic started at this time (epoch ms): windows before it are older demos'. */
  since: number;
  predictions: readonly DemoPrediction[];
  /** How long to wait for serve to ship the windows and logs (ms). */
  timeoutMs: number;
  /** Writes the HTML report (`trestle monitor report`); returns its path. */
  writeReport(): Promise<string>;
}

const weighted = (ws: DemoMonitoring['windows'], key: 'accuracy' | 'auc'): number | null => {
  const with_ = ws.filter((w) => w[key] !== null && w.labelled > 0);
  const n = with_.reduce((s, w) => s + w.labelled, 0);
  return n === 0 ? null : with_.reduce((s, w) => s + w[key]! * w.labelled, 0) / n;
};

/** Posts the labels, waits until every labelled prediction is in a computed window, and reads the results. */
export async function monitorDemo(o: MonitoringOptions): Promise<DemoMonitoring> {
  const base = `${o.serverUrl.replace(/\/+$/, '')}/api/v1`;
  const auth: Record<string, string> = o.token === undefined ? {} : { authorization: `Bearer ${o.token}` };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined
        ? { headers: auth }
        : { headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    if (!res.ok)
      throw new TrestleError('UNAVAILABLE', `${method} ${path}: ${json.error?.message ?? `answered ${res.status}`}`);
    return json as T;
  };
  const fb = await call<{ matched: number; unknown: number; pending?: number }>('POST', '/feedback', {
    records: o.predictions.map((p) => ({ requestId: p.requestId, label: p.actual })),
  });
  const m = `/monitoring/models/${encodeURIComponent(o.model)}`;
  const want = o.predictions.length;
  let items: MonitorResult[] = [];
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    await call('POST', `${m}/run`);
    items = (
      await call<{ items: MonitorResult[] }>('GET', `${m}/results?alias=champion&since=${o.since - 3_600_000}`)
    ).items.filter((r) => r.end > o.since);
    const rows = items.reduce((s, r) => s + r.rows, 0);
    const labelled = items.reduce((s, r) => s + r.labelled, 0);
    if ((rows >= want && labelled >= want) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const windows = items.map((r) => {
    const d = r.drift as DatasetDrift | null;
    const p = r.performance as Performance | null;
    return {
      start: r.start,
      end: r.end,
      rows: r.rows,
      labelled: r.labelled,
      drifted: d === null ? [] : d.features.filter((f) => f.drifted).map((f) => f.name),
      tested: d === null ? 0 : d.tested,
      accuracy: p === null || p.task === 'regression' ? null : p.accuracy.value,
      auc: p === null || p.task === 'regression' ? null : (p.auc?.value ?? null),
      ...(r.error === undefined ? {} : { error: r.error }),
    };
  });
  let report: string | undefined;
  let reportError: string | undefined;
  try {
    report = await o.writeReport();
  } catch (err) {
    reportError = err instanceof Error ? err.message : String(err);
  }
  return {
    feedback: { matched: fb.matched, unknown: fb.unknown, pending: fb.pending ?? 0 },
    windows,
    rows: windows.reduce((s, w) => s + w.rows, 0),
    labelled: windows.reduce((s, w) => s + w.labelled, 0),
    drifted: [...new Set(windows.flatMap((w) => w.drifted))],
    accuracy: weighted(windows, 'accuracy'),
    auc: weighted(windows, 'auc'),
    report,
    ...(reportError === undefined ? {} : { reportError }),
  };
}

/** Runs `trestle monitor report MODEL@champion --html FILE --json` in this process against the server. */
export async function writeMonitorReport(
  serverUrl: string,
  home: string,
  model: string,
  file: string,
  token: string | undefined,
): Promise<string> {
  const [{ dispatchCaptured }, { registry }] = await Promise.all([
    import('../framework/dispatch.js'),
    import('../registry.js'),
  ]);
  const r = await dispatchCaptured(['monitor', 'report', `${model}@champion`, '--html', file, '--json'], registry, {
    env: {
      TRESTLE_HOME: home,
      TRESTLE_TRACKING_URI: serverUrl,
      ...(token === undefined ? {} : { TRESTLE_TRACKING_TOKEN: token }),
    },
    version: 'quickstart',
  });
  if (r.code !== 0) throw new TrestleError('UNAVAILABLE', `trestle monitor report: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout) as { path: string }).path;
}

const pct = (v: number | null): string => (v === null ? '-' : `${(100 * v).toFixed(1)}%`);

/** The monitoring lines of the demo's closing text. */
export function monitoringReport(m: DemoMonitoring): string {
  const lines = [
    '',
    `Monitoring: the ${m.feedback.matched + m.feedback.unknown} real outcomes went back as late labels (POST /api/v1/feedback: ${m.feedback.matched} joined${m.feedback.pending > 0 ? `, ${m.feedback.pending} held until their prediction is logged` : ''}); ${m.windows.length} window(s) computed, ${m.rows} predictions, ${m.labelled} labelled.`,
  ];
  for (const w of m.windows) {
    const at = new Date(w.start).toISOString().slice(11, 19);
    lines.push(
      `  window ${at}  ${String(w.rows).padStart(4)} predictions  drift: ${w.error !== undefined && w.tested === 0 ? w.error : w.drifted.length === 0 ? `none of ${w.tested} features` : `${w.drifted.join(', ')} (of ${w.tested})`}  accuracy ${pct(w.accuracy)}  AUC ${w.auc === null ? '-' : w.auc.toFixed(3)}`,
    );
  }
  lines.push(
    `  drifted features  ${m.drifted.length === 0 ? 'none (February–June traffic against the January training profile)' : m.drifted.join(', ')}`,
    `  live performance  accuracy ${pct(m.accuracy)}, AUC ${m.auc === null ? '-' : m.auc.toFixed(3)} on ${m.labelled} labelled predictions`,
    `  HTML report       ${m.report ?? `not written: ${m.reportError ?? '?'}`}`,
  );
  return lines.join('\n');
}
