import type { TrestleConfig } from '@trestle/core';
import type { Output } from './output.js';

/** One option of a command. Booleans are flags; strings take a value (`--name VALUE` or `--name=VALUE`). */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in `--help`, e.g. 'metadata store URI'. */
  description: string;
  /** Value placeholder in `--help`, e.g. 'URI'. */
  valueName?: string;
  /** The option may be given several times (values collected in order). */
  multiple?: boolean;
}

/** What a command receives: parsed flags and positionals, configuration and an output sink. */
export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  config: TrestleConfig;
  out: Output;
}

/**
 * A CLI command (a leaf such as `runs show`). One file per command group under `commands/`.
 *
 * @example
 * export const show: Command = { name: 'show', summary: 'Show a run', usage: 'RUN_ID',
 *   options: {}, run: async (ctx) => { … } };
 */
export interface Command {
  name: string;
  summary: string;
  /** Positional part of the usage line, e.g. 'RUN_ID [RUN_ID...]'. */
  usage?: string;
  /** Longer help text printed under the usage. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Bounds on positionals; checked before `run`. */
  positionals?: { min?: number; max?: number };
  run(ctx: CommandContext): Promise<void>;
}

/** A named group of commands (`trestle runs …`). */
export interface CommandGroup {
  name: string;
  summary: string;
  commands: Command[];
}

/** A usage error: exit code 2 with one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
