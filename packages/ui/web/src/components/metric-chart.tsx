/**
 * A metric's history as a uPlot line chart, one series per run. Points come from the server's
 * downsampled history (first, min, max and last per step bucket, so spikes survive): about
 * 1,000 points whatever the history's length, so a 1,000,000-point metric draws at once.
 * Dragging across the chart zooms in and fetches finer points for that step range;
 * double-click (or "Reset") goes back to the whole history.
 */
import { useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import uPlot from 'uplot';
import { api, metricNumber } from '../api';
import { formatNumber } from '../format';
import { mark } from '../marks';
import { ThemeContext } from '../theme-context';
import { cssVar } from '../theme';

export const PALETTE = [
  '#3563e9',
  '#e5534b',
  '#2da44e',
  '#bf8700',
  '#8250df',
  '#1b7c83',
  '#cf222e',
  '#6e7781',
  '#d4a72c',
  '#0969da',
];
const POINTS = 1000;

interface ChartSeries {
  runId: string;
  label: string;
}

interface Props {
  metricKey: string;
  series: readonly ChartSeries[];
  height?: number;
  /** Changes when new points may exist (a live run's latest step): the chart fetches again unless zoomed in. */
  version?: string | number;
}

type Range = { startStep: number; endStep: number } | undefined;

/** Series of (step, value) merged on their steps, as uPlot wants: one x array, one y array per series. */
function alignSeries(histories: readonly { step: number; value: number }[][]): uPlot.AlignedData {
  if (histories.length === 1) {
    const h = histories[0] ?? [];
    return [Float64Array.from(h, (p) => p.step), h.map((p) => (Number.isFinite(p.value) ? p.value : null))];
  }
  const steps = [...new Set(histories.flatMap((h) => h.map((p) => p.step)))].sort((a, b) => a - b);
  const index = new Map(steps.map((s, i) => [s, i]));
  const ys = histories.map((h) => {
    const y: (number | null)[] = new Array<number | null>(steps.length).fill(null);
    for (const p of h) y[index.get(p.step) ?? 0] = Number.isFinite(p.value) ? p.value : null;
    return y;
  });
  return [Float64Array.from(steps), ...ys];
}

async function fetchData(
  props: Props,
  range: Range,
  signal: AbortSignal,
): Promise<{ data: uPlot.AlignedData; count: number }> {
  const histories = await Promise.all(
    props.series.map(async (s) => {
      const page = await api.downsampled(s.runId, props.metricKey, { points: POINTS, ...(range ?? {}) }, signal);
      return page.items.map((m) => ({ step: m.step, value: metricNumber(m.value) }));
    }),
  );
  return { data: alignSeries(histories), count: histories.reduce((n, h) => n + h.length, 0) };
}

export function MetricChart(props: Props): ReactNode {
  const { metricKey, series, height = 220, version } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const range = useRef<Range>(undefined);
  const full = useRef<uPlot.AlignedData | null>(null);
  const theme = useContext(ThemeContext);
  const [status, setStatus] = useState<{ points: number; zoomed: boolean; error?: string; single?: number | null }>({
    points: 0,
    zoomed: false,
  });
  const seriesKey = series.map((s) => s.runId).join(',');

  // Build the chart once per metric, run set and theme; data arrives after.
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const abort = new AbortController();
    const axis = cssVar('--muted');
    const grid = cssVar('--grid');
    let drawn = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: true, y: false, setScale: true }, bind: { dblclick: () => () => null } },
      scales: { x: { time: false } },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 60,
          values: (_u, vals) => vals.map((v) => formatNumber(v)),
        },
      ],
      series: [
        { label: 'step' },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length] ?? '#3563e9',
          width: 1.5,
          spanGaps: true,
          // Markers only where there are few points (a short history, or one value).
          points: { show: (u: uPlot) => u.data[0].length <= 60, size: 6 },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatNumber(v)),
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            if (!drawn && u.data[0].length > 0) {
              drawn = true;
              mark(`chart:${metricKey}`);
              el.dataset['drawn'] = String(u.data[0].length);
            }
          },
        ],
        setSelect: [],
        setScale: [
          (u, key) => {
            if (key !== 'x' || full.current === null) return;
            const min = u.scales.x?.min;
            const max = u.scales.x?.max;
            if (min === undefined || max === undefined || min === null || max === null) return;
            const xs = full.current[0];
            const whole = xs.length > 0 && min <= (xs[0] ?? 0) && max >= (xs[xs.length - 1] ?? 0);
            if (whole) return;
            // Zoomed in: ask for finer points of just this step range, once the drag has settled.
            clearTimeout(timer);
            timer = setTimeout(() => {
              const wanted = { startStep: Math.floor(min), endStep: Math.ceil(max) };
              range.current = wanted;
              fetchData(props, wanted, abort.signal).then(
                ({ data, count }) => {
                  u.setData(data, false);
                  u.setScale('x', { min, max });
                  setStatus({ points: count, zoomed: true });
                },
                () => undefined,
              );
            }, 120);
          },
        ],
      },
    };
    const u = new uPlot(opts, [[], ...series.map(() => [])], el);
    plot.current = u;
    const observer = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    observer.observe(el);
    return () => {
      abort.abort();
      clearTimeout(timer);
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [metricKey, seriesKey, theme, height]);

  // (Re)load the data: on first draw, and when a live run has new points (unless zoomed in).
  useEffect(() => {
    if (range.current !== undefined) return;
    const abort = new AbortController();
    fetchData(props, undefined, abort.signal).then(
      ({ data, count }) => {
        full.current = data;
        plot.current?.setData(data);
        // One run and one point: a value, not a line; shown as a number.
        const single = series.length === 1 && data[0].length === 1 ? (data[1]?.[0] ?? null) : undefined;
        setStatus({ points: count, zoomed: false, ...(single === undefined ? {} : { single }) });
      },
      (e: unknown) => {
        if (!abort.signal.aborted)
          setStatus({ points: 0, zoomed: false, error: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => abort.abort();
  }, [metricKey, seriesKey, theme, version]);

  const reset = (): void => {
    range.current = undefined;
    if (full.current !== null) plot.current?.setData(full.current);
    setStatus((s) => ({ ...s, zoomed: false }));
  };

  return (
    <div className="chart">
      <div className="chart-head">
        <span className="chart-title" title={metricKey}>
          {metricKey}
        </span>
        <span className="muted small">
          {status.error ?? `${status.points.toLocaleString()} pts`}
          {status.zoomed && (
            <button className="link" onClick={reset}>
              Reset zoom
            </button>
          )}
        </span>
      </div>
      {status.single !== undefined && (
        <div className="single-value" style={{ height }}>
          {status.single === null ? '–' : formatNumber(status.single)}
          <div className="muted small">one value (step {String(full.current?.[0][0] ?? 0)})</div>
        </div>
      )}
      <div
        ref={box}
        className="chart-box"
        data-metric={metricKey}
        onDoubleClick={reset}
        style={status.single === undefined ? undefined : { display: 'none' }}
      />
    </div>
  );
}
