import { PassThrough } from 'node:stream';
import { dispatch } from '../../packages/cli/src/framework/dispatch.js';
import { registry } from '../../packages/cli/src/registry.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in process against `env` (e.g. `TRESTLE_HOME` of a temp folder) and captures its output. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { cwd?: string } = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const code = await dispatch(args, registry, {
    stdout,
    stderr,
    env,
    version: '0.0.0-test',
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
