import { basename, resolve } from 'node:path';
import { UsageError, type Command } from '../framework/command.js';

/**
 * `trestle init --ci github|gitlab`: writes the project's CI/CD workflow.
 *
 * @example trestle init --ci github --model flights-delay --gate "metrics.test_auc > 0.62"
 */
export const init: Command = {
  name: 'init',
  summary: 'Write a CI/CD workflow (GitHub Actions or GitLab CI) for the project',
  description: [
    'The workflow installs and tests, runs the pipeline (trestle run) against the tracking server,',
    "registers the newest run that passes the gate (a 'trestle runs search' filter), builds and pushes",
    'the serving image, and on the main branch moves the champion alias and deploys to Kubernetes.',
    'Set the secrets TRESTLE_TRACKING_URI, TRESTLE_TRACKING_TOKEN and KUBECONFIG in the CI.',
  ].join('\n'),
  options: {
    ci: { type: 'string', valueName: 'github|gitlab', description: 'the CI system to write a workflow for' },
    model: { type: 'string', valueName: 'NAME', description: "registered model name (default: the folder's name)" },
    gate: {
      type: 'string',
      valueName: 'FILTER',
      description: "run filter to register (default 'metrics.test_auc > 0.6')",
    },
    image: { type: 'string', valueName: 'IMAGE', description: 'image repository to push (default the CI registry)' },
    dir: { type: 'string', valueName: 'DIR', description: 'project root (default the working directory)' },
    force: { type: 'boolean', description: 'replace an existing workflow file' },
  },
  positionals: { max: 0 },
  run: async (ctx) => {
    const v = ctx.values;
    const str = (name: string): string | undefined => (typeof v[name] === 'string' ? v[name] : undefined);
    const ci = str('ci');
    if (ci === undefined) throw new UsageError('--ci github|gitlab is required');
    const { writeCiWorkflow, parseCiProvider, dnsLabel } = await import('@trestle/deploy');
    const { isTrestleError, parseFilter } = await import('@trestle/core');
    let provider;
    try {
      provider = parseCiProvider(ci);
      if (str('gate') !== undefined) parseFilter(str('gate'), 'runs');
    } catch (err) {
      if (isTrestleError(err, 'INVALID_ARGUMENT')) throw new UsageError(err.message);
      throw err;
    }
    const dir = resolve(str('dir') ?? process.cwd());
    const model = str('model') ?? dnsLabel(basename(dir));
    const written = await writeCiWorkflow({
      provider,
      model,
      dir,
      force: v['force'] === true,
      ...(str('gate') === undefined ? {} : { gate: str('gate')! }),
      ...(str('image') === undefined ? {} : { image: str('image')! }),
    });
    ctx.out.result({ path: written.path, provider, model }, () =>
      [
        `Wrote ${written.path} (${provider}, model ${model}).`,
        'Set the CI secrets TRESTLE_TRACKING_URI, TRESTLE_TRACKING_TOKEN and KUBECONFIG, then push.',
      ].join('\n'),
    );
  },
};
