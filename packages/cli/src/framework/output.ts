import { currentTerminalStyle, paint } from './terminal.js';

/**
 * Where commands write: human tables by default, JSON with `--json`. Keeps stdout for results
 * and stderr for progress, so `trestle … --json | jq` works.
 */
export interface Output {
  readonly json: boolean;
  /** Writes a result: `value` as JSON in `--json` mode, otherwise the `human` text. */
  result(value: unknown, human: () => string): void;
  /** Progress and hints for people, on stderr (silent in JSON mode). */
  info(message: string): void;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Output {
  return {
    json,
    result(value, human) {
      stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    info(message) {
      if (!json) stderr.write(`${message}\n`);
    },
  };
}

/** Colour of a run status in tables on a terminal. */
const STATUS_COLORS: Readonly<Record<string, 'green' | 'red' | 'yellow' | 'cyan'>> = {
  FINISHED: 'green',
  FAILED: 'red',
  KILLED: 'yellow',
  RUNNING: 'cyan',
};

/** Narrowest a column is cut to when a table must fit the terminal. */
const MIN_COLUMN = 6;

/**
 * Column widths that fit `width` (two spaces between columns): the widest column loses a
 * character until the table fits or every column is down to {@link MIN_COLUMN} (or its header).
 */
function fitWidths(widths: number[], headers: string[], width: number): number[] {
  const fitted = [...widths];
  const floor = headers.map((h, i) => Math.min(widths[i] ?? 0, Math.max(MIN_COLUMN, h.length)));
  let total = fitted.reduce((a, b) => a + b, 0) + 2 * (fitted.length - 1);
  while (total > width) {
    let widest = -1;
    for (let i = 0; i < fitted.length; i++) {
      if (fitted[i]! > floor[i]! && (widest < 0 || fitted[i]! > fitted[widest]!)) widest = i;
    }
    if (widest < 0) break;
    fitted[widest]!--;
    total--;
  }
  return fitted;
}

/**
 * Renders rows as an aligned text table; `undefined`/`null` cells show as '-'. Headers are
 * upper-cased unless `keepHeaderCase` (headers that are names, such as run names). On a terminal
 * (see `terminal.ts`) the table fits its width, cells cut with '…' (`--wide` shows them whole),
 * and a STATUS column is coloured.
 *
 * @example table(['id', 'name'], [['1', 'flights']])
 */
export function table(
  headers: string[],
  rows: (string | number | null | undefined)[][],
  options: { keepHeaderCase?: boolean } = {},
): string {
  const style = currentTerminalStyle();
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === null || c === '' ? '-' : String(c))));
  const full = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const widths = style.width === undefined ? full : fitWidths(full, headers, style.width);
  const statusColumn = headers.findIndex((h) => h.toLowerCase() === 'status');
  const cut = (c: string, w: number): string => (c.length > w ? `${c.slice(0, Math.max(0, w - 1))}…` : c);
  const line = (r: string[], header: boolean): string =>
    r
      .map((c, i) => {
        const w = widths[i] ?? 0;
        const padded = cut(c, w).padEnd(w);
        if (header) return paint(padded, 'bold');
        const color = i === statusColumn ? STATUS_COLORS[c.split(' ')[0] ?? ''] : undefined;
        return color === undefined ? padded : paint(padded, color);
      })
      .join('  ')
      .trimEnd();
  return [
    line(options.keepHeaderCase === true ? headers : headers.map((h) => h.toUpperCase()), true),
    ...cells.map((r) => line(r, false)),
  ].join('\n');
}

/** Formats epoch ms as local `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Formats a duration in ms as `1.2s`, `3m04s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** Formats a metric value compactly (4 significant digits). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  return Number(v.toPrecision(4)).toString();
}
