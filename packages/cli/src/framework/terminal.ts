import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How the running command's human output is laid out, decided once per CLI call by `dispatch`
 * from where stdout goes: a terminal gets tables cut to its width and colour; a pipe, a file,
 * `--wide`, `--json` or `NO_COLOR` get neither. Scoped to the call (not module state), so two
 * calls in one process (tests) never see each other's.
 */
export interface TerminalStyle {
  /** Columns tables must fit in; `undefined`: no limit (not a terminal, or `--wide`). */
  readonly width: number | undefined;
  /** Whether ANSI colour may be written. */
  readonly color: boolean;
}

const PLAIN: TerminalStyle = { width: undefined, color: false };
const current = new AsyncLocalStorage<TerminalStyle>();

/**
 * The style for output to `stdout`: a terminal (`isTTY`) gets its width (`COLUMNS` overrides)
 * unless `wide`, and colour unless `NO_COLOR` is set (https://no-color.org), `TERM=dumb` or `json`.
 *
 * @example terminalStyle(process.stdout, process.env, { wide: false, json: false }) // { width: 120, color: true }
 */
export function terminalStyle(
  stdout: NodeJS.WritableStream,
  env: Record<string, string | undefined>,
  flags: { wide: boolean; json: boolean },
): TerminalStyle {
  const tty = stdout as Partial<NodeJS.WriteStream>;
  if (tty.isTTY !== true || flags.json) return PLAIN;
  const fromEnv = Number(env['COLUMNS']);
  const columns = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : (tty.columns ?? 80);
  const noColor = (env['NO_COLOR'] ?? '') !== '' || env['TERM'] === 'dumb';
  return { width: flags.wide ? undefined : Math.max(20, columns), color: !noColor };
}

/** The style of the process's own CLI call (`processWide`), under any scoped one. */
let processStyle: TerminalStyle | undefined;

/**
 * Runs `fn` with `style` as the layout of every table it prints: scoped to `fn`'s asynchronous
 * work, or for the whole process when `processWide` (the process's only CLI call, which then
 * never turns AsyncLocalStorage's promise hooks on).
 */
export function withTerminalStyle<T>(style: TerminalStyle, fn: () => T, processWide = false): T {
  if (!processWide) return current.run(style, fn);
  processStyle = style;
  return fn();
}

/** The style of the command running now; plain outside one. */
export function currentTerminalStyle(): TerminalStyle {
  return current.getStore() ?? processStyle ?? PLAIN;
}

const COLORS = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;

/** Wraps `text` in an ANSI colour when the running command may use colour, else returns it unchanged. */
export function paint(text: string, color: keyof typeof COLORS): string {
  return currentTerminalStyle().color ? `\x1b[${COLORS[color]}m${text}\x1b[0m` : text;
}
