/**
 * `trestle init --ci github|gitlab`: a CI/CD workflow for a Trestle project. Jobs: install and
 * test; run the pipeline against the tracking server; pick the newest run of this job that
 * passes the gate (a `trestle runs search` filter) and register its package; build and push
 * the serving image; on the default branch, point the `champion` alias at the new version,
 * write the manifests and apply them.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TrestleError, parseFilter } from '@trestle/core';
import { stringify } from 'yaml';
import type { GeneratedFile } from '../out-dir.js';

/** CI systems a workflow can be written for. */
export const CI_PROVIDERS = ['github', 'gitlab'] as const;
export type CiProvider = (typeof CI_PROVIDERS)[number];

/** Options of {@link ciWorkflow}. */
export interface CiWorkflowOptions {
  readonly provider: CiProvider;
  /** The registered model's name. */
  readonly model: string;
  /** A run filter the trained run must pass, e.g. `metrics.test_auc > 0.6`. Default that. */
  readonly gate?: string;
  /** The image repository to push (default `ghcr.io/<repository>/serve` or `$CI_REGISTRY_IMAGE/serve`). */
  readonly image?: string;
  /** The run artifact path of the model package (default `model`, where `trestle train` logs it). */
  readonly artifactPath?: string;
  /** Node.js major version (default 20). */
  readonly node?: number;
}

/** The default gate: the metric `trestle train` logs on the holdout. */
export const DEFAULT_GATE = 'metrics.test_auc > 0.6';

/** The workflow's path relative to the project root. */
export function ciWorkflowPath(provider: CiProvider): string {
  return provider === 'github' ? '.github/workflows/trestle.yml' : '.gitlab-ci.yml';
}

/** Parses a provider name; `INVALID_ARGUMENT` names the ones there are. */
export function parseCiProvider(value: string): CiProvider {
  if ((CI_PROVIDERS as readonly string[]).includes(value)) return value as CiProvider;
  throw new TrestleError('INVALID_ARGUMENT', `unknown CI '${value}': choose ${CI_PROVIDERS.join(' or ')}`);
}

/** Shell that finds the gate's run and registers it; sets MODEL_VERSION (and RUN_ID) or stops the pipeline's later jobs. */
function gateAndRegister(o: Required<Omit<CiWorkflowOptions, 'image' | 'node'>>): string {
  return [
    'set -euo pipefail',
    '# The newest run of this job that passes the gate.',
    `RUN_ID=$(npx trestle runs search --filter "$TRESTLE_GATE AND created > $STARTED_MS" \\`,
    `  --order-by "attributes.start_time DESC" --max-results 1 --json | jq -r '.runs[0].info.runId // empty')`,
    'if [ -z "$RUN_ID" ]; then echo "No run of this pipeline passes the gate ($TRESTLE_GATE): nothing registered." >&2; exit 1; fi',
    `BODY=$(jq -nc --arg run "$RUN_ID" '{source: ("runs:/" + $run + "/${o.artifactPath}"), runId: $run, createModel: true, aliases: ["candidate"]}')`,
    'MODEL_VERSION=$(curl -fsS -X POST "$TRESTLE_TRACKING_URI/api/v1/registered-models/$MODEL_NAME/versions" \\',
    '  -H "Authorization: Bearer $TRESTLE_TRACKING_TOKEN" -H "content-type: application/json" -d "$BODY" | jq -r .version)',
    'echo "Registered $MODEL_NAME version $MODEL_VERSION from run $RUN_ID"',
  ].join('\n');
}

const PROMOTE = [
  'set -euo pipefail',
  'curl -fsS -X PUT "$TRESTLE_TRACKING_URI/api/v1/registered-models/$MODEL_NAME/aliases/champion" \\',
  '  -H "Authorization: Bearer $TRESTLE_TRACKING_TOKEN" -H "content-type: application/json" \\',
  '  -d "{\\"version\\": $MODEL_VERSION, \\"reason\\": \\"CI deploy\\"}" > /dev/null',
].join('\n');

function github(o: Required<CiWorkflowOptions>): unknown {
  const node = [
    { uses: 'actions/checkout@v4' },
    { uses: 'actions/setup-node@v4', with: { 'node-version': o.node, cache: 'npm' } },
    { name: 'Install', run: 'npm ci' },
  ];
  return {
    name: 'trestle',
    on: { push: { branches: ['main'] }, pull_request: {}, workflow_dispatch: {} },
    permissions: { contents: 'read', packages: 'write' },
    concurrency: { group: 'trestle-${{ github.ref }}', 'cancel-in-progress': false },
    env: {
      MODEL_NAME: o.model,
      IMAGE: o.image,
      TRESTLE_GATE: o.gate,
      TRESTLE_TRACKING_URI: '${{ secrets.TRESTLE_TRACKING_URI }}',
      TRESTLE_TRACKING_TOKEN: '${{ secrets.TRESTLE_TRACKING_TOKEN }}',
    },
    jobs: {
      test: {
        name: 'Install and test',
        'runs-on': 'ubuntu-latest',
        steps: [...node, { name: 'Test', run: 'npm test' }],
      },
      train: {
        name: 'Run the pipeline and register the model if the gate passes',
        needs: ['test'],
        'runs-on': 'ubuntu-latest',
        outputs: { version: '${{ steps.register.outputs.version }}' },
        steps: [
          ...node,
          { name: 'Run the pipeline', run: 'echo "STARTED_MS=$(date +%s%3N)" >> "$GITHUB_ENV"\nnpx trestle run' },
          {
            name: 'Gate and register',
            id: 'register',
            run: `${gateAndRegister(o)}\necho "version=$MODEL_VERSION" >> "$GITHUB_OUTPUT"`,
          },
        ],
      },
      image: {
        name: 'Build and push the serving image',
        needs: ['train'],
        'runs-on': 'ubuntu-latest',
        env: { MODEL_VERSION: '${{ needs.train.outputs.version }}' },
        steps: [
          ...node,
          { name: 'Build context', run: 'npx trestle build "models:/$MODEL_NAME/$MODEL_VERSION" --out build/serve' },
          {
            uses: 'docker/login-action@v3',
            with: { registry: 'ghcr.io', username: '${{ github.actor }}', password: '${{ secrets.GITHUB_TOKEN }}' },
          },
          {
            uses: 'docker/build-push-action@v6',
            with: { context: 'build/serve', push: true, tags: '${{ env.IMAGE }}:${{ needs.train.outputs.version }}' },
          },
        ],
      },
      deploy: {
        name: 'Deploy (main branch only)',
        needs: ['train', 'image'],
        if: "github.ref == 'refs/heads/main'",
        'runs-on': 'ubuntu-latest',
        environment: 'production',
        env: { MODEL_VERSION: '${{ needs.train.outputs.version }}' },
        steps: [
          ...node,
          { name: 'Promote to champion', run: PROMOTE },
          {
            name: 'Write the manifests',
            run: 'npx trestle deploy k8s "models:/$MODEL_NAME@champion" --out deploy/k8s --force --image "$IMAGE:$MODEL_VERSION"',
          },
          { uses: 'azure/setup-kubectl@v4' },
          {
            name: 'Apply',
            env: { KUBECONFIG_DATA: '${{ secrets.KUBECONFIG }}' },
            run: [
              'printf "%s" "$KUBECONFIG_DATA" > "$RUNNER_TEMP/kubeconfig"',
              'export KUBECONFIG="$RUNNER_TEMP/kubeconfig"',
              'kubectl apply -k deploy/k8s',
              'kubectl rollout status "deployment/$(jq -r .model.name deploy/k8s/trestle-deploy.json | tr "[:upper:]_ " "[:lower:]--")" --timeout=10m',
            ].join('\n'),
          },
        ],
      },
    },
  };
}

function gitlab(o: Required<CiWorkflowOptions>): unknown {
  const nodeImage = `node:${o.node}`;
  const main = [{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }];
  return {
    stages: ['test', 'train', 'build', 'deploy'],
    variables: { MODEL_NAME: o.model, IMAGE: o.image, TRESTLE_GATE: o.gate },
    default: { image: nodeImage, cache: { key: { files: ['package-lock.json'] }, paths: ['.npm/'] } },
    test: { stage: 'test', script: ['npm ci --cache .npm', 'npm test'] },
    train: {
      stage: 'train',
      needs: ['test'],
      before_script: ['apt-get update -qq && apt-get install -y -qq jq > /dev/null'],
      script: [
        'npm ci --cache .npm',
        'export STARTED_MS=$(date +%s%3N)',
        'npx trestle run',
        gateAndRegister(o),
        'echo "MODEL_VERSION=$MODEL_VERSION" > registered.env',
      ],
      artifacts: { reports: { dotenv: 'registered.env' } },
    },
    'build-context': {
      stage: 'build',
      needs: ['train'],
      script: ['npm ci --cache .npm', 'npx trestle build "models:/$MODEL_NAME/$MODEL_VERSION" --out build/serve'],
      artifacts: { paths: ['build/serve/'], expire_in: '1 day' },
    },
    'build-image': {
      stage: 'build',
      needs: ['build-context', 'train'],
      image: { name: 'gcr.io/kaniko-project/executor:debug', entrypoint: [''] },
      script: [
        'echo "{\\"auths\\":{\\"$CI_REGISTRY\\":{\\"username\\":\\"$CI_REGISTRY_USER\\",\\"password\\":\\"$CI_REGISTRY_PASSWORD\\"}}}" > /kaniko/.docker/config.json',
        '/kaniko/executor --context build/serve --dockerfile build/serve/Dockerfile --destination "$IMAGE:$MODEL_VERSION"',
      ],
    },
    manifests: {
      stage: 'deploy',
      needs: ['train', 'build-image'],
      rules: main,
      before_script: ['apt-get update -qq && apt-get install -y -qq jq > /dev/null'],
      script: [
        'npm ci --cache .npm',
        PROMOTE,
        'npx trestle deploy k8s "models:/$MODEL_NAME@champion" --out deploy/k8s --force --image "$IMAGE:$MODEL_VERSION"',
      ],
      artifacts: { paths: ['deploy/k8s/'] },
    },
    apply: {
      stage: 'deploy',
      needs: ['manifests'],
      rules: main,
      environment: { name: 'production' },
      image: { name: 'bitnami/kubectl:latest', entrypoint: [''] },
      script: ['kubectl apply -k deploy/k8s'],
    },
  };
}

/**
 * The workflow file for `options.provider`.
 *
 * @throws TrestleError `INVALID_ARGUMENT` for a gate that is not a valid run filter or an empty model name.
 * @example ciWorkflow({ provider: 'github', model: 'flights-delay' }).path // '.github/workflows/trestle.yml'
 */
export function ciWorkflow(options: CiWorkflowOptions): GeneratedFile {
  const gate = options.gate ?? DEFAULT_GATE;
  parseFilter(gate, 'runs');
  if (!/^[A-Za-z0-9][\w.-]*$/.test(options.model)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `model name '${options.model}' must start with a letter or digit and use only letters, digits, '.', '_' and '-'`,
    );
  }
  const o: Required<CiWorkflowOptions> = {
    provider: options.provider,
    model: options.model,
    gate,
    image:
      options.image ??
      (options.provider === 'github' ? 'ghcr.io/${{ github.repository }}/serve' : '$CI_REGISTRY_IMAGE/serve'),
    artifactPath: options.artifactPath ?? 'model',
    node: options.node ?? 20,
  };
  const header =
    `# Written by 'trestle init --ci ${o.provider}'. Secrets it reads: TRESTLE_TRACKING_URI, TRESTLE_TRACKING_TOKEN,\n` +
    `# KUBECONFIG (deploy). The gate is a 'trestle runs search' filter: ${gate}\n`;
  const doc = o.provider === 'github' ? github(o) : gitlab(o);
  return { path: ciWorkflowPath(o.provider), content: header + stringify(doc, { lineWidth: 0 }) };
}

/** Options of {@link writeCiWorkflow}. */
export interface WriteCiWorkflowOptions extends CiWorkflowOptions {
  /** The project root (the workflow goes under it). */
  readonly dir: string;
  /** Replace an existing workflow file (default false: refuse). */
  readonly force?: boolean;
}

/**
 * Writes the workflow under `dir` (a temporary file renamed into place).
 *
 * @throws TrestleError `ALREADY_EXISTS` when the file exists and `force` is not set.
 * @example await writeCiWorkflow({ provider: 'gitlab', model: 'flights-delay', dir: '.' });
 */
export async function writeCiWorkflow(options: WriteCiWorkflowOptions): Promise<{ path: string; content: string }> {
  const file = ciWorkflow(options);
  const path = join(options.dir, file.path);
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists && options.force !== true) {
    throw new TrestleError('ALREADY_EXISTS', `${path} exists: pass --force to replace it`, { path });
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, file.content);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { path, content: file.content };
}
