import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import { isTrestleError, loadConfig } from '@trestle/core';
import { findWorkspace } from '@trestle/store/workspace';
import { UsageError, type Command, type CommandGroup, type OptionSpec } from './command.js';
import { createOutput } from './output.js';
import { systemErrorMessage } from './system-errors.js';
import { terminalStyle, withTerminalStyle } from './terminal.js';

/** A top-level entry: loaded only when invoked, so `trestle --version` loads no store driver. */
export interface RegistryEntry {
  name: string;
  summary: string;
  load(): Promise<Command | CommandGroup>;
}

/** Options every command takes. */
const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print machine-readable JSON' },
  wide: { type: 'boolean', description: 'show tables in full (on a terminal they fit its width, cells cut with …)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
  db: {
    type: 'string',
    valueName: 'URI',
    description: 'metadata store: SQLite file or postgres:// URI (env TRESTLE_DB)',
  },
  artifacts: {
    type: 'string',
    valueName: 'URI',
    description: 'artifact store: folder or s3://bucket/prefix (env TRESTLE_ARTIFACTS)',
  },
};

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  version: string;
  /** Working directory the store is searched from; default `process.cwd()`. */
  cwd?: string;
  /**
   * This call is the process's only one (`main.ts`): its terminal style is process-wide rather
   * than scoped with AsyncLocalStorage, whose promise hooks (Node 20) would stay on for the whole
   * of a long-running `trestle serve` or `trestle server` and cost every request a few µs.
   */
  ownsProcess?: boolean;
}

/**
 * Runs the CLI on `argv` in this process with its output captured: for tests, and for a command
 * that runs another (the quickstart's monitoring report).
 *
 * @example const { code, stdout } = await dispatchCaptured(['runs', 'list', '--json'], registry, { env: {}, version: 'x' });
 */
export async function dispatchCaptured(
  argv: string[],
  registry: RegistryEntry[],
  io: Omit<Io, 'stdout' | 'stderr'>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const code = await dispatch(argv, registry, { ...io, stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code:
 * 0 ok, 1 failure, 2 usage error. Never throws.
 */
export async function dispatch(argv: string[], registry: RegistryEntry[], io: Io): Promise<number> {
  const say = (s: string): void => void io.stderr.write(`${s}\n`);
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-V') {
    io.stdout.write(`trestle ${io.version}\n`);
    return 0;
  }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(`${topHelp(registry, io.version)}\n`);
    return first === undefined ? 2 : 0;
  }
  const entry = registry.find((e) => e.name === first);
  if (entry === undefined) {
    say(
      `trestle: unknown command '${first}'. Commands: ${registry.map((e) => e.name).join(', ')}. See 'trestle --help'.`,
    );
    return 2;
  }
  const loaded = await entry.load();
  let command: Command;
  let path = `trestle ${entry.name}`;
  let args = rest;
  if ('commands' in loaded) {
    const [sub, ...subRest] = rest;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      io.stdout.write(`${groupHelp(loaded)}\n`);
      return sub === undefined ? 2 : 0;
    }
    const found = loaded.commands.find((c) => c.name === sub);
    if (found === undefined) {
      say(`trestle: unknown command '${entry.name} ${sub}'. Try: ${loaded.commands.map((c) => c.name).join(', ')}.`);
      return 2;
    }
    command = found;
    path = `${path} ${sub}`;
    args = subRest;
  } else {
    command = loaded;
  }

  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: toParseArgs(options), allowPositionals: true, strict: true });
  } catch (err) {
    say(`${path}: ${optionError(err, args)}. See '${path} --help'.`);
    return 2;
  }
  if (parsed.values['help'] === true) {
    io.stdout.write(`${commandHelp(path, command)}\n`);
    return 0;
  }
  const json = parsed.values['json'] === true;
  try {
    const { min = 0, max = Infinity } = command.positionals ?? {};
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new UsageError(`expected ${command.usage ?? 'no arguments'}, got ${parsed.positionals.length} argument(s)`);
    }
    const config = loadConfig(
      {
        // Like git finds .git: the nearest .trestle at or above the working directory, unless TRESTLE_HOME says.
        home: io.env['TRESTLE_HOME'] ? undefined : findWorkspace(io.cwd ?? process.cwd()).home,
        db: parsed.values['db'] as string | undefined,
        artifacts: parsed.values['artifacts'] as string | undefined,
      },
      io.env,
    );
    const style = terminalStyle(io.stdout, io.env, { wide: parsed.values['wide'] === true, json });
    await withTerminalStyle(
      style,
      () =>
        command.run({
          values: parsed.values as Record<string, string | boolean | string[] | undefined>,
          positionals: parsed.positionals,
          config,
          out: createOutput(json, io.stdout, io.stderr),
        }),
      io.ownsProcess === true,
    );
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      say(`${path}: ${err.message}. See '${path} --help'.`);
      return 2;
    }
    if (json && isTrestleError(err)) io.stdout.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
    const message = isTrestleError(err)
      ? err.message
      : (systemErrorMessage(err) ?? String((err as Error)?.message ?? err));
    say(`${path}: error: ${message}`);
    if (!isTrestleError(err) && io.env['TRESTLE_DEBUG'] !== undefined) say(String((err as Error)?.stack));
    return 1;
  }
}

/** Node's option-parser errors, said in one short line instead of its paragraph. */
function optionError(err: unknown, args: string[]): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-{1,2}[^'\s]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) {
    const positional = args.some((a) => a === '--') ? '' : ` (a value starting with '-' goes after '--')`;
    return `unknown option ${option}${positional}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    return /argument missing/.test(message) ? `option ${option} needs a value` : `option ${option} takes no value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return 'unexpected argument';
  return message.split('\n')[0]!.replace(/\.$/, '');
}

function toParseArgs(options: Record<string, OptionSpec>): NonNullable<Parameters<typeof parseArgs>[0]>['options'] {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.short === undefined ? {} : { short: o.short }),
        ...(o.multiple === true ? { multiple: true } : {}),
      },
    ]),
  );
}

function topHelp(registry: RegistryEntry[], version: string): string {
  const w = Math.max(...registry.map((e) => e.name.length));
  return [
    `trestle ${version}: track, version, serve and monitor machine-learning models`,
    '',
    'Usage: trestle COMMAND [SUBCOMMAND] [OPTIONS]',
    '',
    'Commands:',
    ...registry.map((e) => `  ${e.name.padEnd(w)}  ${e.summary}`),
    '',
    'Every command takes --help and --json. Exit codes: 0 ok, 1 failure, 2 usage error.',
    'Start with: trestle quickstart',
  ].join('\n');
}

function groupHelp(group: CommandGroup): string {
  const w = Math.max(...group.commands.map((c) => c.name.length));
  return [
    `trestle ${group.name}: ${group.summary}`,
    '',
    `Usage: trestle ${group.name} COMMAND [OPTIONS]`,
    '',
    'Commands:',
    ...group.commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    `See 'trestle ${group.name} COMMAND --help'.`,
  ].join('\n');
}

function commandHelp(path: string, command: Command): string {
  const opts = Object.entries({ ...command.options, ...GLOBAL_OPTIONS }).map(([name, o]) => {
    const flag = `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
    return [flag, `${o.description}${o.multiple === true ? ' (repeatable)' : ''}`] as const;
  });
  const w = Math.max(...opts.map(([f]) => f.length));
  return [
    `${command.summary}`,
    '',
    `Usage: ${path}${command.usage === undefined ? '' : ` ${command.usage}`} [OPTIONS]`,
    ...(command.description === undefined ? [] : ['', command.description]),
    '',
    'Options:',
    ...opts.map(([f, d]) => `  ${f.padEnd(w)}  ${d}`),
  ].join('\n');
}
