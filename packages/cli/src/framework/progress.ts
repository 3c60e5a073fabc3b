import type { ProgressSink, ProgressTask } from '@trestle/pipelines';

const SILENT_TASK: ProgressTask = { tick: () => undefined, done: () => undefined };

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Progress bars on a terminal: `label [=====>    ] 52% 5,200/10,000 files 180 MB/s ETA 0:03`,
 * redrawn at most 10 times a second, shown only once a task has run for 0.5 s (short
 * tasks print nothing), erased when it ends. Nothing at all when `stream` is not a terminal
 * or in `--json` mode, so piped output stays clean.
 *
 * @example const progress = terminalProgress(process.stderr, ctx.out.json);
 */
export function terminalProgress(stream: NodeJS.WriteStream, json: boolean): ProgressSink {
  if (json || stream.isTTY !== true) return { start: () => SILENT_TASK };
  return {
    start(label, totalItems, totalBytes) {
      const started = Date.now();
      let items = 0;
      let done = 0;
      let lastDraw = 0;
      let drawn = false;
      const draw = (): void => {
        const now = Date.now();
        const secs = (now - started) / 1000;
        if (secs < 0.5 || now - lastDraw < 100) return;
        lastDraw = now;
        const frac =
          totalBytes !== undefined && totalBytes > 0 ? done / totalBytes : totalItems ? items / totalItems : 0;
        const width = 24;
        const fill = Math.min(width, Math.round(frac * width));
        const rate =
          totalBytes !== undefined
            ? `${bytes(done / Math.max(secs, 0.001))}/s`
            : `${Math.round(items / Math.max(secs, 0.001))}/s`;
        const eta = frac > 0 ? clock((secs * (1 - frac)) / frac) : '--:--';
        const count =
          totalItems !== undefined ? `${items.toLocaleString('en-US')}/${totalItems.toLocaleString('en-US')}` : '';
        const line = `${label} [${'='.repeat(fill)}${fill < width ? '>' : ''}${' '.repeat(Math.max(0, width - fill - 1))}] ${Math.floor(frac * 100)}% ${count} ${rate} ETA ${eta}`;
        stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 120) - 1)}`);
        drawn = true;
      };
      return {
        tick(n, b = 0) {
          items += n;
          done += b;
          draw();
        },
        done() {
          if (drawn) stream.write('\r\x1b[2K');
        },
      };
    },
  };
}

const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Runs `work` with a spinner on a terminal: `⠋ label… 1.4s`, shown only once the work has
 * taken `afterMs` (default 1 s: quick calls print nothing), redrawn every 100 ms, erased when
 * the work settles. Nothing at all when `stream` is not a terminal or in `--json` mode.
 *
 * @example const page = await withSpinner(process.stderr, ctx.out.json, 'searching runs', () => backend.searchRuns(o));
 */
export async function withSpinner<T>(
  stream: NodeJS.WriteStream,
  json: boolean,
  label: string,
  work: () => Promise<T>,
  afterMs = 1000,
): Promise<T> {
  if (json || stream.isTTY !== true) return work();
  const started = Date.now();
  let frame = 0;
  let drawn = false;
  const timer = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed < afterMs) return;
    const line = `${SPINNER_FRAMES[frame++ % SPINNER_FRAMES.length]} ${label}… ${(elapsed / 1000).toFixed(1)}s`;
    stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 120) - 1)}`);
    drawn = true;
  }, 100);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    if (drawn) stream.write('\r\x1b[2K');
  }
}
