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

/**
 * Renders rows as an aligned text table; `undefined`/`null` cells show as '-'. Headers are
 * upper-cased unless `keepHeaderCase` (headers that are names, such as run names).
 *
 * @example table(['id', 'name'], [['1', 'flights']])
 */
export function table(
  headers: string[],
  rows: (string | number | null | undefined)[][],
  options: { keepHeaderCase?: boolean } = {},
): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === null || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(options.keepHeaderCase === true ? headers : headers.map((h) => h.toUpperCase())),
    ...cells.map(line),
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
