/** Small inline-SVG charts for the HTML report: no script, no external resource. */

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmt = (v: number): string =>
  Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(Math.abs(v) < 1 ? 3 : 1);

/** Side-by-side bars of two distributions over the same labelled buckets (shares). */
export function histogramSvg(labels: string[], reference: number[], current: number[], title: string): string {
  const W = 460;
  const H = 180;
  const pad = { l: 36, r: 8, t: 18, b: 38 };
  const n = labels.length;
  const max = Math.max(1e-9, ...reference, ...current);
  const bw = (W - pad.l - pad.r) / Math.max(1, n);
  const y = (v: number): number => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  let bars = '';
  labels.forEach((label, i) => {
    const x = pad.l + i * bw;
    const w = Math.max(1, bw / 2 - 1);
    bars += `<rect class="ref" x="${(x + 1).toFixed(1)}" y="${y(reference[i]!).toFixed(1)}" width="${w.toFixed(1)}" height="${(H - pad.b - y(reference[i]!)).toFixed(1)}"><title>${esc(label)} reference ${(reference[i]! * 100).toFixed(1)}%</title></rect>`;
    bars += `<rect class="cur" x="${(x + 1 + w).toFixed(1)}" y="${y(current[i]!).toFixed(1)}" width="${w.toFixed(1)}" height="${(H - pad.b - y(current[i]!)).toFixed(1)}"><title>${esc(label)} current ${(current[i]! * 100).toFixed(1)}%</title></rect>`;
    if (n <= 12 || i % Math.ceil(n / 12) === 0) {
      bars += `<text class="tick" x="${(x + bw / 2).toFixed(1)}" y="${H - pad.b + 12}" text-anchor="end" transform="rotate(-30 ${(x + bw / 2).toFixed(1)} ${H - pad.b + 12})">${esc(label.length > 12 ? `${label.slice(0, 11)}…` : label)}</text>`;
    }
  });
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}"><text class="title" x="${pad.l}" y="12">${esc(title)}</text><line class="axis" x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}"/><text class="tick" x="${pad.l - 4}" y="${pad.t + 8}" text-anchor="end">${(max * 100).toFixed(0)}%</text>${bars}</svg>`;
}

export interface Series {
  name: string;
  points: { x: number; y: number | null; lo?: number | null; hi?: number | null }[];
  cls: string;
}

/** A time series chart (x in epoch ms) with optional confidence bands and a threshold line. */
export function lineSvg(
  series: Series[],
  title: string,
  options: { threshold?: number; yMin?: number; yMax?: number } = {},
): string {
  const W = 940;
  const H = 220;
  const pad = { l: 48, r: 12, t: 20, b: 30 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all
    .flatMap((p) => [p.y, p.lo, p.hi])
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (options.threshold !== undefined) ys.push(options.threshold);
  if (xs.length === 0 || ys.length === 0) return `<p class="empty">${esc(title)}: no data yet</p>`;
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  const y0 = options.yMin ?? Math.min(...ys);
  const y1 = Math.max(options.yMax ?? Math.max(...ys), y0 + 1e-9);
  const X = (v: number): number => pad.l + ((W - pad.l - pad.r) * (v - x0)) / (x1 - x0);
  const Y = (v: number): number => pad.t + (H - pad.t - pad.b) * (1 - (v - y0) / (y1 - y0));
  let body = '';
  for (const s of series) {
    const band = s.points.filter((p) => typeof p.lo === 'number' && typeof p.hi === 'number');
    if (band.length > 1) {
      const top = band.map((p) => `${X(p.x).toFixed(1)},${Y(p.hi!).toFixed(1)}`);
      const bottom = band.map((p) => `${X(p.x).toFixed(1)},${Y(p.lo!).toFixed(1)}`).reverse();
      body += `<polygon class="band ${s.cls}" points="${[...top, ...bottom].join(' ')}"/>`;
    }
    const pts = s.points.filter((p) => typeof p.y === 'number');
    if (pts.length > 1)
      body += `<polyline class="line ${s.cls}" points="${pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.y!).toFixed(1)}`).join(' ')}"/>`;
    for (const p of pts)
      body += `<circle class="dot ${s.cls}" cx="${X(p.x).toFixed(1)}" cy="${Y(p.y!).toFixed(1)}" r="3"><title>${esc(s.name)} ${fmt(p.y!)} at ${new Date(p.x).toISOString()}</title></circle>`;
  }
  if (options.threshold !== undefined) {
    body += `<line class="threshold" x1="${pad.l}" x2="${W - pad.r}" y1="${Y(options.threshold).toFixed(1)}" y2="${Y(options.threshold).toFixed(1)}"/>`;
  }
  const legend = series
    .map(
      (s, i) =>
        `<text class="legend ${s.cls}" x="${W - pad.r - 160 * (series.length - i)}" y="12">● ${esc(s.name)}</text>`,
    )
    .join('');
  const ticks = [y0, (y0 + y1) / 2, y1]
    .map((v) => `<text class="tick" x="${pad.l - 4}" y="${(Y(v) + 3).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`)
    .join('');
  const xt = [x0, x1]
    .map(
      (v, i) =>
        `<text class="tick" x="${X(v).toFixed(1)}" y="${H - 10}" text-anchor="${i === 0 ? 'start' : 'end'}">${new Date(v).toISOString().slice(0, 16).replace('T', ' ')}</text>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" height="${H}" role="img" aria-label="${esc(title)}"><text class="title" x="${pad.l}" y="12">${esc(title)}</text>${legend}<line class="axis" x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}"/>${ticks}${xt}${body}</svg>`;
}
