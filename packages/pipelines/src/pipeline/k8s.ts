import { stringify } from 'yaml';
import type { PipelineGraph } from './graph.js';

/** Options of {@link kubernetesManifests}. */
export interface KubernetesExportOptions {
  /** The image with the project checkout and `trestle` on its PATH. */
  image: string;
  namespace?: string;
  /** A PersistentVolumeClaim (ReadWriteMany) holding the project checkout, mounted at `/workspace`. */
  workspaceClaim?: string;
  /** Where stage runs are tracked (a `trestle server` URL); absent: the embedded store on the volume. */
  trackingUri?: string;
  /** Image used by the init containers that wait for upstream Jobs. */
  kubectlImage?: string;
  /** Prefix of every object's name. */
  name?: string;
  cpu?: string;
  memory?: string;
}

type Manifest = Record<string, unknown>;

/** A stage name as a DNS-1123 label fragment (`train@gbdt` → `train-gbdt`). */
export function k8sName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return n.slice(0, 50) || 'stage';
}

/**
 * The pipeline as Kubernetes objects: one Job per stage, each waiting in an init container
 * (`kubectl wait --for=condition=complete`) for the Jobs of the stages it depends on, then
 * running `trestle run STAGE --no-deps` in the shared project volume, so the stage cache and
 * `trestle.lock` work exactly as on one machine; plus the ServiceAccount, Role and RoleBinding
 * that let the init containers read Job status. Pure: objects in, objects out.
 */
export function kubernetesManifests(graph: PipelineGraph, options: KubernetesExportOptions): Manifest[] {
  const prefix = k8sName(options.name ?? 'trestle-pipeline');
  const ns = options.namespace ?? 'default';
  const claim = options.workspaceClaim ?? `${prefix}-workspace`;
  const account = `${prefix}-runner`;
  const labels = { 'app.kubernetes.io/part-of': prefix, 'app.kubernetes.io/managed-by': 'trestle' };
  const jobName = (stage: string): string => `${prefix}-${k8sName(stage)}`.slice(0, 63).replace(/-+$/, '');
  const out: Manifest[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: ns, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: account, namespace: ns, labels },
      rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: account, namespace: ns, labels },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace: ns }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account },
    },
  ];
  const env = [
    { name: 'TRESTLE_HOME', value: '/workspace/.trestle' },
    ...(options.trackingUri === undefined ? [] : [{ name: 'TRESTLE_TRACKING_URI', value: options.trackingUri }]),
  ];
  const security = {
    runAsNonRoot: true,
    runAsUser: 1000,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  };
  for (const stage of graph.order) {
    const ups = [...graph.upstream.get(stage.name)!].map(jobName);
    out.push({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: jobName(stage.name),
        namespace: ns,
        labels: { ...labels, 'trestle.dev/stage': k8sName(stage.name) },
        annotations: { 'trestle.dev/stage': stage.name, 'trestle.dev/after': ups.join(',') },
      },
      spec: {
        backoffLimit: 2,
        ttlSecondsAfterFinished: 86_400,
        template: {
          metadata: { labels: { ...labels, 'trestle.dev/stage': k8sName(stage.name) } },
          spec: {
            serviceAccountName: account,
            restartPolicy: 'Never',
            securityContext: { fsGroup: 1000 },
            ...(ups.length === 0
              ? {}
              : {
                  initContainers: [
                    {
                      name: 'wait-for-upstream',
                      image: options.kubectlImage ?? 'bitnami/kubectl:1.31',
                      command: [
                        'kubectl',
                        'wait',
                        '--for=condition=complete',
                        '--timeout=24h',
                        '-n',
                        ns,
                        ...ups.map((u) => `job/${u}`),
                      ],
                      securityContext: security,
                    },
                  ],
                }),
            containers: [
              {
                name: 'stage',
                image: options.image,
                workingDir: '/workspace',
                command: ['trestle', 'run', stage.name, '--no-deps'],
                env,
                resources: {
                  requests: { cpu: options.cpu ?? '1', memory: options.memory ?? '2Gi' },
                  limits: { memory: options.memory ?? '2Gi' },
                },
                volumeMounts: [{ name: 'workspace', mountPath: '/workspace' }],
                securityContext: security,
              },
            ],
            volumes: [{ name: 'workspace', persistentVolumeClaim: { claimName: claim } }],
          },
        },
      },
    });
  }
  return out;
}

/** Manifests as one multi-document YAML file. */
export function manifestsYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n');
}
