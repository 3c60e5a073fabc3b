import { UsageError, type Command, type CommandContext, type CommandGroup } from '../framework/command.js';

const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function intOption(values: CommandContext['values'], name: string, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} expects a whole number from ${min} to ${max}, got '${shown(v)}'`);
  }
  return n;
}

function str(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function outOption(values: CommandContext['values']): string {
  const out = str(values, 'out');
  if (out === undefined || out === '') throw new UsageError('--out DIR is required (the folder to write)');
  return out;
}

function cluster(values: CommandContext['values']): { kubeconfig?: string; context?: string } {
  return {
    ...(str(values, 'kubeconfig') === undefined ? {} : { kubeconfig: str(values, 'kubeconfig')! }),
    ...(str(values, 'context') === undefined ? {} : { context: str(values, 'context')! }),
  };
}

const OUT = {
  type: 'string',
  valueName: 'DIR',
  description: 'folder to write (refused if not empty, unless --force)',
} as const;
const FORCE = { type: 'boolean', description: 'replace the --out folder if it is not empty' } as const;

/**
 * `trestle deploy k8s MODEL_URI --out DIR`: Kubernetes manifests for a registered model.
 *
 * @example trestle deploy k8s models:/flights-delay@champion --out deploy/k8s --image registry.example/flights:3
 */
const k8s: Command = {
  name: 'k8s',
  summary: 'Write Kubernetes manifests (Deployment, Service, HPA, PDB, ConfigMap, canary) for a model',
  usage: 'MODEL_URI',
  description: [
    'MODEL_URI is models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN_ID/PATH. The manifests pin the',
    "version and package digest the URI resolves to now; 'trestle deploy sync --out DIR' rewrites them",
    'when the alias moves. Every object is validated against the Kubernetes schemas before writing.',
    'A canary is a second Deployment behind the same Service with --canary-weight percent of the pods.',
  ].join('\n'),
  options: {
    out: OUT,
    image: { type: 'string', valueName: 'IMAGE', description: 'serving image (default trestle-serve:latest)' },
    replicas: { type: 'string', valueName: 'N', description: 'pods in total and the autoscaler minimum (default 2)' },
    'max-replicas': { type: 'string', valueName: 'N', description: 'autoscaler maximum (default 4 × replicas)' },
    namespace: { type: 'string', valueName: 'NS', description: 'namespace written into the objects' },
    'tracking-uri': {
      type: 'string',
      valueName: 'URL',
      description: 'control plane the pods fetch the model from (default http://trestle:5000)',
    },
    canary: { type: 'string', valueName: 'MODEL_URI', description: 'a canary model (e.g. models:/NAME@challenger)' },
    'canary-weight': {
      type: 'string',
      valueName: 'PERCENT',
      description: "the canary's share of pods, 1-99 (default 10)",
    },
    force: FORCE,
    apply: { type: 'boolean', description: 'also apply to the cluster (server-side apply) and wait for the rollout' },
    kubeconfig: {
      type: 'string',
      valueName: 'FILE',
      description: 'kubeconfig for --apply (default KUBECONFIG, ~/.kube/config)',
    },
    context: { type: 'string', valueName: 'NAME', description: 'kubeconfig context for --apply' },
    timeout: {
      type: 'string',
      valueName: 'SECONDS',
      description: 'how long --apply waits for the rollout (default 300)',
    },
  },
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    const v = ctx.values;
    const out = outOption(v);
    const replicas = intOption(v, 'replicas', 1, 1000);
    const maxReplicas = intOption(v, 'max-replicas', 1, 10000);
    const canaryUri = str(v, 'canary');
    const weight = intOption(v, 'canary-weight', 1, 99);
    if (weight !== undefined && canaryUri === undefined)
      throw new UsageError('--canary-weight needs --canary MODEL_URI');
    if (canaryUri !== undefined && (replicas ?? 2) < 2) {
      throw new UsageError('--canary needs --replicas of at least 2 (one stable pod, one canary pod)');
    }
    const { writeKubernetesFolder, registryResolver, loadKubeConfig } = await import('@trestle/deploy');
    // A kubeconfig that does not parse is refused before anything is written.
    if (v['apply'] === true) await loadKubeConfig(cluster(v));
    const resolver = registryResolver(ctx.config);
    try {
      const r = await writeKubernetesFolder({
        modelUri: ctx.positionals[0]!,
        out,
        resolver,
        force: v['force'] === true,
        ...(replicas === undefined ? {} : { replicas }),
        ...(maxReplicas === undefined ? {} : { maxReplicas }),
        ...(str(v, 'image') === undefined ? {} : { image: str(v, 'image')! }),
        ...(str(v, 'namespace') === undefined ? {} : { namespace: str(v, 'namespace')! }),
        ...(str(v, 'tracking-uri') === undefined ? {} : { trackingUri: str(v, 'tracking-uri')! }),
        ...(canaryUri === undefined ? {} : { canaryUri, canaryWeight: weight ?? 10 }),
      });
      const at = (m: { name: string; version?: string; digest: string }): string =>
        `${m.name}${m.version === undefined ? '' : ` version ${m.version}`} (${m.digest.slice(0, 19)}…)`;
      const timeout = intOption(v, 'timeout', 1, 86_400);
      const rollout =
        v['apply'] === true
          ? await (
              await import('@trestle/deploy')
            ).applyFolder({
              dir: out,
              ...cluster(v),
              ...(str(v, 'namespace') === undefined ? {} : { namespace: str(v, 'namespace')! }),
              ...(timeout === undefined ? {} : { timeoutMs: timeout * 1000 }),
              log: (line) => ctx.out.info(line),
            })
          : undefined;
      ctx.out.result({ ...r, ...(rollout === undefined ? {} : { rollout }) }, () =>
        [
          `Wrote ${r.files.length} files to ${out} for ${at(r.model)}${r.canary === undefined ? '' : `, canary ${at(r.canary)}`}:`,
          ...r.objects.map((o) => `  ${o.kind.padEnd(24)} ${o.name}`),
          '',
          rollout === undefined
            ? `Apply with: kubectl apply -k ${out} (or --apply)`
            : `Applied ${rollout.applied.length} objects; rolled out ${rollout.rollouts.map((x) => x.name).join(', ')}.`,
          `After moving the alias: trestle deploy sync --out ${out}`,
        ].join('\n'),
      );
    } finally {
      await resolver.close();
    }
  },
};

/**
 * `trestle deploy sync --out DIR`: rewrites a manifests folder when its aliases moved.
 *
 * @example trestle deploy sync --out deploy/k8s && git -C deploy commit -am 'follow the registry'
 */
const sync: Command = {
  name: 'sync',
  summary: 'Rewrite a manifests folder when the registry moved (GitOps): nothing changes if nothing moved',
  description: [
    'Resolves the model URIs recorded in DIR/trestle-deploy.json again and rewrites the files that',
    'differ: the ConfigMap and Deployment pin the new version and digest, so the pods roll.',
  ].join('\n'),
  options: { out: { type: 'string', valueName: 'DIR', description: "folder written by 'trestle deploy k8s'" } },
  positionals: { max: 0 },
  run: async (ctx) => {
    const out = outOption(ctx.values);
    const { syncKubernetesFolder, registryResolver } = await import('@trestle/deploy');
    const resolver = registryResolver(ctx.config);
    try {
      const r = await syncKubernetesFolder(out, resolver);
      ctx.out.result(r, () =>
        r.changed.length === 0
          ? `${out} is up to date with the registry: nothing changed.`
          : [
              ...r.moves.map(
                (m) =>
                  `${m.uri} moved: version ${m.from.version ?? '-'} → ${m.to.version ?? '-'} (${m.to.digest.slice(0, 19)}…)`,
              ),
              `Rewrote ${r.changed.join(', ')} in ${out}.`,
            ].join('\n'),
      );
    } finally {
      await resolver.close();
    }
  },
};

/**
 * `trestle deploy terraform --cloud aws|gcp|azure --out DIR`: a Terraform module for the platform.
 *
 * @example trestle deploy terraform --cloud aws --out infra && cd infra && terraform init
 */
const terraform: Command = {
  name: 'terraform',
  summary: 'Write a Terraform module: artifact storage, managed PostgreSQL, Trestle on Kubernetes',
  description: [
    'aws: S3 + RDS; gcp: Cloud Storage (S3 API, HMAC key) + Cloud SQL; azure: Azure Files + PostgreSQL',
    'flexible server. Server, workers and serving run on an existing cluster (kubernetes provider).',
    'You run terraform init, plan and apply; see terraform.tfvars.example for the inputs.',
  ].join('\n'),
  options: {
    cloud: { type: 'string', valueName: 'aws|gcp|azure', description: 'the cloud to write the module for' },
    out: OUT,
    force: FORCE,
  },
  positionals: { max: 0 },
  run: async (ctx) => {
    const cloudName = str(ctx.values, 'cloud');
    if (cloudName === undefined) throw new UsageError('--cloud aws|gcp|azure is required');
    const out = outOption(ctx.values);
    const { writeTerraformModule, parseCloud } = await import('@trestle/deploy');
    const { isTrestleError } = await import('@trestle/core');
    try {
      parseCloud(cloudName);
    } catch (err) {
      if (isTrestleError(err, 'INVALID_ARGUMENT')) throw new UsageError(err.message);
      throw err;
    }
    const r = await writeTerraformModule({ cloud: cloudName, out, force: ctx.values['force'] === true });
    ctx.out.result(r, () =>
      [
        `Wrote a Terraform module for ${r.cloud} to ${out}: ${r.files.join(', ')}.`,
        `Next (you run): cd ${out} && cp terraform.tfvars.example terraform.tfvars && terraform init && terraform apply`,
      ].join('\n'),
    );
  },
};

/**
 * `trestle deploy status --out DIR`: the rollout of the folder's Deployments in the cluster.
 *
 * @example trestle deploy status --out deploy/k8s --context prod
 */
const status: Command = {
  name: 'status',
  summary: "Show the rollout of a manifests folder's Deployments in the cluster",
  options: {
    out: { type: 'string', valueName: 'DIR', description: "folder written by 'trestle deploy k8s'" },
    kubeconfig: { type: 'string', valueName: 'FILE', description: 'kubeconfig (default KUBECONFIG, ~/.kube/config)' },
    context: { type: 'string', valueName: 'NAME', description: 'kubeconfig context' },
    namespace: { type: 'string', valueName: 'NS', description: 'namespace of objects that name none' },
  },
  positionals: { max: 0 },
  run: async (ctx) => {
    const out = outOption(ctx.values);
    const { deploymentStatus } = await import('@trestle/deploy');
    const ns = str(ctx.values, 'namespace');
    const states = await deploymentStatus({
      dir: out,
      ...cluster(ctx.values),
      ...(ns === undefined ? {} : { namespace: ns }),
    });
    ctx.out.result({ deployments: states }, () =>
      states
        .map(
          (s) =>
            `${s.name.padEnd(30)} ${s.ready ? 'ready     ' : 'rolling   '} ${s.updated}/${s.desired} updated, ${s.available} available${s.modelVersion === undefined ? '' : `, model version ${s.modelVersion}`}`,
        )
        .join('\n'),
    );
  },
};

/**
 * `trestle deploy helm --out DIR`: the control plane's Helm chart.
 *
 * @example trestle deploy helm --out charts/trestle && helm install trestle charts/trestle -f values.prod.yaml
 */
const helm: Command = {
  name: 'helm',
  summary: 'Write a Helm chart for the control plane (server + UI, workers, serving; PostgreSQL, S3, Redis as values)',
  options: { out: OUT, force: FORCE },
  positionals: { max: 0 },
  run: async (ctx) => {
    const out = outOption(ctx.values);
    const { writeHelmChart } = await import('@trestle/deploy');
    const r = await writeHelmChart({ out, force: ctx.values['force'] === true });
    ctx.out.result(r, () =>
      [
        `Wrote the Helm chart to ${out} (${r.files.length} files).`,
        `Next (you run): helm install trestle ${out} --set postgresql.url=… --set s3.bucket=…`,
      ].join('\n'),
    );
  },
};

/** `trestle deploy …`: Kubernetes manifests, GitOps sync, Terraform. */
export const deploy: CommandGroup = {
  name: 'deploy',
  summary: 'Deploy a registered model: Kubernetes manifests, GitOps sync, Helm chart, Terraform',
  commands: [k8s, sync, status, helm, terraform],
};
