/**
 * Parallel coordinates: one vertical axis per param (numeric when every value parses as a
 * number, else categorical) and a last axis for the chosen metric; one line per run, coloured
 * by that metric (low blue → high red), so which settings lead to good values shows at a glance.
 */
import type { ReactNode } from 'react';
import { formatNumber } from '../format';

interface Axis {
  name: string;
  /** One value per run; null where the run lacks it. */
  values: readonly (string | number | null)[];
}

interface Props {
  axes: readonly Axis[];
  runLabels: readonly string[];
  colorBy: readonly (number | null)[];
}

const H = 300;
const PAD_TOP = 34;
const PAD_BOTTOM = 24;

function scaleOf(values: readonly (string | number | null)[]): {
  pos(v: string | number | null): number | null;
  ticks: { y: number; label: string }[];
} {
  const present = values.filter((v): v is string | number => v !== null);
  const numeric =
    present.length > 0 &&
    present.every((v) => typeof v === 'number' || (v.trim() !== '' && Number.isFinite(Number(v))));
  const inner = H - PAD_TOP - PAD_BOTTOM;
  if (numeric) {
    const nums = present.map(Number);
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    const span = max - min || 1;
    const y = (n: number): number => PAD_TOP + inner - ((n - min) / span) * inner;
    return {
      pos: (v) => (v === null ? null : y(Number(v))),
      ticks: (max === min ? [min] : [min, min + span / 2, max]).map((n) => ({ y: y(n), label: formatNumber(n) })),
    };
  }
  const cats = [...new Set(present.map(String))].sort();
  const y = (i: number): number =>
    cats.length === 1 ? PAD_TOP + inner / 2 : PAD_TOP + (i / (cats.length - 1)) * inner;
  return {
    pos: (v) => (v === null ? null : y(cats.indexOf(String(v)))),
    ticks: cats.slice(0, 12).map((c, i) => ({ y: y(i), label: c })),
  };
}

function color(t: number): string {
  // blue (low) → red (high), through a neutral middle
  const hue = 220 - 220 * Math.max(0, Math.min(1, t));
  return `hsl(${hue} 70% 50%)`;
}

export function ParallelCoords({ axes, runLabels, colorBy }: Props): ReactNode {
  const width = Math.max(480, axes.length * 150);
  const x = (i: number): number => 60 + (i * (width - 120)) / Math.max(1, axes.length - 1);
  const scales = axes.map((a) => scaleOf(a.values));
  const finite = colorBy.filter((v): v is number => v !== null && Number.isFinite(v));
  const cmin = Math.min(...finite);
  const cmax = Math.max(...finite);
  return (
    <svg
      className="parallel"
      viewBox={`0 0 ${width} ${H}`}
      width="100%"
      height={H}
      role="img"
      aria-label="parallel coordinates"
    >
      {runLabels.map((label, r) => {
        const pts = scales.map((s, i) => {
          const y = s.pos(axes[i]?.values[r] ?? null);
          return y === null ? null : `${x(i)},${y}`;
        });
        const c = colorBy[r];
        const stroke =
          c === null || c === undefined || !Number.isFinite(c)
            ? 'var(--muted)'
            : color(cmax === cmin ? 0.5 : (c - cmin) / (cmax - cmin));
        // A run missing a value breaks its line there.
        const segments: string[][] = [[]];
        for (const p of pts) {
          if (p === null) segments.push([]);
          else segments[segments.length - 1]?.push(p);
        }
        return (
          <g key={r} className="pc-line">
            <title>{label}</title>
            {segments
              .filter((s) => s.length > 1)
              .map((s, i) => (
                <polyline
                  key={i}
                  points={s.join(' ')}
                  fill="none"
                  stroke={stroke}
                  strokeWidth={1.8}
                  strokeOpacity={0.85}
                />
              ))}
          </g>
        );
      })}
      {axes.map((a, i) => (
        <g key={a.name} className="pc-axis">
          <line x1={x(i)} x2={x(i)} y1={PAD_TOP} y2={H - PAD_BOTTOM} stroke="var(--border-strong)" />
          <text x={x(i)} y={16} textAnchor="middle" className="pc-name">
            {a.name.length > 22 ? `${a.name.slice(0, 21)}…` : a.name}
          </text>
          {scales[i]?.ticks.map((t, j) => (
            <text key={j} x={x(i) + 5} y={t.y + 4} className="pc-tick">
              {t.label.length > 14 ? `${t.label.slice(0, 13)}…` : t.label}
            </text>
          ))}
        </g>
      ))}
    </svg>
  );
}
