import { dispatchCaptured } from '../../packages/cli/src/framework/dispatch.js';
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
  return dispatchCaptured(args, registry, {
    env,
    version: '0.0.0-test',
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
}
