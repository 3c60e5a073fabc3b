/**
 * A self-contained HTML monitoring report: one file, inline CSS and SVG, no script and no
 * external resource, so it opens anywhere (and renders with no console errors). Drift and
 * performance over time, then reference vs current histograms per feature for the latest window.
 */
import type { DatasetDrift, FeatureDrift } from '../drift/result.js';
import type { Performance } from '../performance/performance.js';
import type { WindowQuality } from '../quality/window-quality.js';
import type { FeatureProfile, ReferenceProfile, WindowFeature, WindowSummary } from '../profile/schema.js';
import { esc, histogramSvg, lineSvg } from './svg.js';

/** One window's result as the report needs it (the store's `MonitorResult` fits). */
export interface ReportWindow {
  version: string;
  alias: string | null;
  start: number;
  end: number;
  rows: number;
  labelled: number;
  driftShare: number | null;
  datasetDrift: boolean;
  drift: unknown;
  quality: unknown;
  performance: unknown;
  error?: string;
}

export interface ReportInput {
  model: string;
  /** What was asked for: a version, an alias, or the whole model. */
  target: string;
  /** Results, oldest first. */
  windows: ReportWindow[];
  /** The reference profile and merged summary of the latest window, for the histograms. */
  profile?: ReferenceProfile;
  latest?: WindowSummary;
  generated: Date;
}

const pct = (v: number | null | undefined): string =>
  v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`;
const num = (v: number | null | undefined, d = 3): string => (v === null || v === undefined ? '–' : v.toFixed(d));
const time = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function buckets(p: FeatureProfile, w: WindowFeature | undefined): { labels: string[]; ref: number[]; cur: number[] } {
  const share = (a: number[]): number[] => {
    const t = a.reduce((x, y) => x + y, 0);
    return a.map((v) => (t > 0 ? v / t : 0));
  };
  if (p.kind === 'numeric') {
    const lower = [p.min ?? 0, ...p.cuts];
    const labels = ['< min', ...lower.map((v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3))), '> max'];
    const ref = [0, ...p.counts, 0];
    const cur = w?.kind === 'numeric' ? [w.under, ...w.counts, w.over] : ref.map(() => 0);
    return { labels, ref: share(ref), cur: share(cur) };
  }
  const labels = [...p.categories, 'other', 'unseen'];
  const ref = [...p.counts, p.otherCount, 0];
  const cur = w?.kind === 'categorical' ? [...w.counts, w.other, w.unseen] : ref.map(() => 0);
  return { labels, ref: share(ref), cur: share(cur) };
}

function perfMetric(
  p: Performance | null,
): { name: string; value: number | null; lo: number | null; hi: number | null } | undefined {
  if (p === null) return undefined;
  if (p.task === 'regression') return { name: 'RMSE', value: p.rmse.value, lo: p.rmse.lower, hi: p.rmse.upper };
  const m =
    p.task === 'binary-classification' && p.auc !== undefined && p.auc.value !== null
      ? { name: 'AUC', ...p.auc }
      : { name: 'accuracy', ...p.accuracy };
  return { name: m.name, value: m.value, lo: m.lower, hi: m.upper };
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:980px;color:#1c2430;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e7ee;padding-bottom:4px}
.muted{color:#6b7686}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #e3e7ee;border-radius:8px;padding:10px 14px;min-width:150px}.card b{display:block;font-size:20px}
.bad{color:#c0392b}.good{color:#1e8449}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eef1f5;padding:4px 8px;text-align:left;font-variant-numeric:tabular-nums}
.features{display:grid;grid-template-columns:repeat(2,1fr);gap:12px}.feature{border:1px solid #e3e7ee;border-radius:8px;padding:8px}
svg text{font-size:10px;fill:#4a5565}svg .title{font-size:12px;font-weight:600;fill:#1c2430}
.axis{stroke:#b8c0cc}.ref{fill:#8fa8c8}.cur{fill:#e67e22}.line{fill:none;stroke-width:2}.band{opacity:.18}
.line.drift{stroke:#c0392b}.dot.drift,.band.drift,.legend.drift{fill:#c0392b}.line.perf{stroke:#2471a3}.dot.perf,.band.perf,.legend.perf{fill:#2471a3}
.threshold{stroke:#7f8c8d;stroke-dasharray:4 3}.empty{color:#6b7686}
`;

/**
 * @example
 * writeFileSync('report.html', renderHtmlReport({ model: 'flights', target: 'flights@champion', windows, profile, latest, generated: new Date() }));
 */
export function renderHtmlReport(input: ReportInput): string {
  const last = input.windows.at(-1);
  const drift = (last?.drift ?? null) as DatasetDrift | null;
  const quality = (last?.quality ?? null) as WindowQuality | null;
  const perf = perfMetric((last?.performance ?? null) as Performance | null);
  const cards = [
    ['Latest window', last === undefined ? '–' : `${time(last.start)} – ${time(last.end).slice(11)}`],
    ['Predictions', last === undefined ? '–' : last.rows.toLocaleString('en-US')],
    [
      'Dataset drift',
      drift === null
        ? '–'
        : `<span class="${drift.datasetDrift ? 'bad' : 'good'}">${drift.datasetDrift ? 'yes' : 'no'}</span> (${drift.drifted}/${drift.tested})`,
    ],
    [
      'Data quality',
      quality === null
        ? '–'
        : `<span class="${quality.passed ? 'good' : 'bad'}">${quality.passed ? 'passed' : 'failed'}</span>`,
    ],
    [
      perf === undefined ? 'Performance' : perf.name,
      perf === undefined
        ? 'no labels yet'
        : `${num(perf.value)} <span class="muted">[${num(perf.lo)}, ${num(perf.hi)}]</span>`,
    ],
  ]
    .map(([k, v]) => `<div class="card"><span class="muted">${esc(k!)}</span><b>${v}</b></div>`)
    .join('');

  const driftChart = lineSvg(
    [
      {
        name: 'share of drifted features',
        cls: 'drift',
        points: input.windows.map((w) => ({ x: w.start, y: w.driftShare })),
      },
    ],
    'Drift over time',
    { threshold: drift?.driftShare ?? 0.5, yMin: 0, yMax: 1 },
  );
  const perfPoints = input.windows.map((w) => {
    const m = perfMetric((w.performance ?? null) as Performance | null);
    return { x: w.start, y: m?.value ?? null, lo: m?.lo ?? null, hi: m?.hi ?? null };
  });
  const perfChart = lineSvg(
    [{ name: perf?.name ?? 'performance', cls: 'perf', points: perfPoints }],
    `Performance over time${perf === undefined ? '' : ` (${perf.name}, ${'confidence band'})`}`,
  );

  const rows = (list: FeatureDrift[]): string =>
    list
      .map(
        (f) =>
          `<tr><td>${esc(f.name)}</td><td>${f.kind}</td><td>${f.method}</td><td>${f.score === null ? esc(f.skipped ?? '–') : num(f.score, 4)}</td><td>${f.threshold}</td><td class="${f.drifted ? 'bad' : 'good'}">${f.skipped !== undefined ? 'not tested' : f.drifted ? 'drifted' : 'ok'}</td></tr>`,
      )
      .join('');
  const table =
    drift === null
      ? `<p class="empty">${esc(last?.error ?? 'no drift computed yet')}</p>`
      : `<table><thead><tr><th>feature</th><th>kind</th><th>test</th><th>score</th><th>threshold</th><th></th></tr></thead><tbody>${rows(drift.features)}${rows(drift.prediction)}</tbody></table>`;

  let histograms = '';
  if (input.profile !== undefined) {
    const all = [
      ...input.profile.features.map((p, i) => [p, input.latest?.features[i]] as const),
      ...(input.profile.prediction?.outputs ?? []).map((p, i) => [p, input.latest?.outputs[i]] as const),
    ];
    histograms = all
      .map(([p, w]) => {
        const b = buckets(p, w);
        const d = [...(drift?.features ?? []), ...(drift?.prediction ?? [])].find((f) => f.name === p.name);
        const title = `${p.name}${d === undefined || d.score === null ? '' : ` — ${d.method} ${num(d.score, 3)}${d.drifted ? ' (drifted)' : ''}`}`;
        return `<div class="feature">${histogramSvg(b.labels, b.ref, b.cur, title)}</div>`;
      })
      .join('');
  }
  const qualityRows =
    quality === null
      ? ''
      : `<table><thead><tr><th>check</th><th>result</th><th>worst</th><th>limit</th><th>features</th></tr></thead><tbody>${quality.checks
          .map(
            (c) =>
              `<tr><td>${c.name}</td><td class="${c.passed ? 'good' : 'bad'}">${c.passed ? 'passed' : 'failed'}</td><td>${pct(c.value)}</td><td>${pct(c.limit)}</td><td>${esc(c.features.join(', '))}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Monitoring report: ${esc(input.target)}</title><style>${CSS}</style></head>
<body>
<h1>Monitoring report: ${esc(input.target)}</h1>
<div class="muted">${input.windows.length} windows · generated ${esc(input.generated.toISOString())} by Trestle</div>
<div class="cards">${cards}</div>
<h2>Drift and performance over time</h2>
${driftChart}
${perfChart}
<h2>Drift per feature (latest window)</h2>
${table}
<h2>Reference vs current (latest window)</h2>
<p class="muted"><span style="color:#8fa8c8">■</span> reference (training) · <span style="color:#e67e22">■</span> current window; shares per reference bin</p>
<div class="features">${histograms || '<p class="empty">no reference profile</p>'}</div>
<h2>Data quality (latest window)</h2>
${qualityRows || '<p class="empty">no quality computed yet</p>'}
</body></html>
`;
}
