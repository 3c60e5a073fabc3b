/**
 * The Kubernetes objects that serve one registered model: ConfigMap, Deployment, Service,
 * HorizontalPodAutoscaler, PodDisruptionBudget, and optionally a canary Deployment.
 *
 * The canary is a replica-ratio split: both Deployments carry the Service's selector label, so
 * the Service spreads connections over all ready pods and the canary's share is its share of
 * the pods (e.g. 1 canary pod of 10 is 10 %). This needs only core Kubernetes objects (no mesh,
 * no Gateway API) and is validated like the rest; its precision is one pod, and HTTP keep-alive
 * connections make the split per connection, not per request. A weighted HTTPRoute (Gateway
 * API) is the exact alternative where a Gateway controller runs.
 */
import type { ResolvedModel } from './resolve-model.js';
import type { KubeObject } from './validate.js';

/** Options of {@link kubernetesManifests}. */
export interface KubernetesDeployOptions {
  readonly model: ResolvedModel;
  /** A second model taking `weight` percent of the pods. */
  readonly canary?: { readonly model: ResolvedModel; readonly weight: number };
  /** The serving image (from `trestle build`); default `trestle-serve:latest`. */
  readonly image?: string;
  /** Pods in total (stable + canary), and the autoscaler's minimum; default 2. */
  readonly replicas?: number;
  /** The autoscaler's maximum; default 4 × replicas. */
  readonly maxReplicas?: number;
  /** Namespace written into every object; default none (the one kubectl or --apply uses). */
  readonly namespace?: string;
  /** Where the pods fetch the pinned model and send inference logs; default `http://trestle:5000`. */
  readonly trackingUri?: string;
}

/** The default image: what `trestle build MODEL_URI --pull-at-start` is tagged in the README. */
export const DEFAULT_IMAGE = 'trestle-serve:latest';
/** The control plane's Service in the Helm chart. */
export const DEFAULT_TRACKING_URI = 'http://trestle:5000';
const PORT = 8080;

/** A DNS-1123 label (lower case, digits, '-', at most `max` characters) from any name. */
export function dnsLabel(name: string, max = 63): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return s === '' ? 'model' : s;
}

/** A label value (at most 63 of `[A-Za-z0-9_.-]`, alphanumeric at both ends). */
function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** How many of `total` pods the canary gets for `weight` percent: at least 1, leaving at least 1 stable. */
export function canaryReplicas(total: number, weight: number): number {
  return Math.min(total - 1, Math.max(1, Math.round((total * weight) / 100)));
}

/** The app name every object is named after: the model's name as a DNS label (room left for '-canary'). */
function appName(model: ResolvedModel): string {
  return dnsLabel(model.name, 45);
}

/**
 * The objects for `options`, in apply order (ConfigMaps first).
 *
 * @example
 * kubernetesManifests({ model, replicas: 3, image: 'registry.example/flights:3' }).map((o) => o.kind)
 * // ['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']
 */
export function kubernetesManifests(options: KubernetesDeployOptions): KubeObject[] {
  const app = appName(options.model);
  const total = options.replicas ?? 2;
  const canary = options.canary;
  const canaryCount = canary === undefined ? 0 : canaryReplicas(total, canary.weight);
  const ns = options.namespace === undefined ? {} : { namespace: options.namespace };
  const common = { 'app.kubernetes.io/name': app, 'app.kubernetes.io/managed-by': 'trestle' };
  const meta = (name: string, labels: Record<string, string> = {}): KubeObject['metadata'] => ({
    name,
    ...ns,
    labels: { ...common, 'app.kubernetes.io/component': 'model-serving', ...labels },
  });
  const objects: KubeObject[] = [];
  const track = (role: 'stable' | 'canary', model: ResolvedModel, replicas: number): void => {
    const suffix = role === 'canary' ? '-canary' : '';
    const modelLabels = {
      'trestle.dev/track': role,
      'trestle.dev/model': labelValue(model.name) || 'model',
      ...(model.version === undefined ? {} : { 'trestle.dev/model-version': model.version }),
    };
    const annotations = {
      'trestle.dev/model-uri': model.pinnedUri,
      'trestle.dev/follows': model.uri,
      'trestle.dev/model-digest': model.digest,
    };
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { ...meta(`${app}${suffix}-config`, modelLabels), annotations },
      data: {
        TRESTLE_MODEL_URI: model.pinnedUri,
        TRESTLE_MODEL_DIGEST: model.digest,
        TRESTLE_TRACKING_URI: options.trackingUri ?? DEFAULT_TRACKING_URI,
        TRESTLE_HOST: '0.0.0.0',
        TRESTLE_PORT: String(PORT),
        TRESTLE_HOME: '/tmp/trestle',
      },
    });
    const selector = { 'app.kubernetes.io/name': app, 'trestle.dev/track': role };
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { ...meta(`${app}${suffix}`, modelLabels), annotations },
      spec: {
        replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: {
            labels: { ...common, 'app.kubernetes.io/component': 'model-serving', ...modelLabels },
            // A new digest changes the pod template, so moving the alias rolls the pods.
            annotations,
          },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 40,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              runAsGroup: 10001,
              fsGroup: 10001,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'serve',
                image: options.image ?? DEFAULT_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
                envFrom: [{ configMapRef: { name: `${app}${suffix}-config` } }],
                startupProbe: {
                  httpGet: { path: '/v2/health/live', port: 'http' },
                  periodSeconds: 2,
                  failureThreshold: 60,
                },
                livenessProbe: {
                  httpGet: { path: '/v2/health/live', port: 'http' },
                  periodSeconds: 10,
                  timeoutSeconds: 2,
                  failureThreshold: 3,
                },
                readinessProbe: {
                  httpGet: { path: '/v2/health/ready', port: 'http' },
                  periodSeconds: 5,
                  timeoutSeconds: 2,
                  failureThreshold: 2,
                },
                resources: {
                  requests: { cpu: '250m', memory: '256Mi' },
                  limits: { cpu: '1', memory: '512Mi' },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }],
          },
        },
      },
    });
  };
  track('stable', options.model, total - canaryCount);
  if (canary !== undefined) track('canary', canary.model, canaryCount);
  objects.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(app),
    spec: {
      type: 'ClusterIP',
      // Both tracks: the split is the ratio of their ready pods.
      selector: { 'app.kubernetes.io/name': app },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  });
  const stableReplicas = total - canaryCount;
  objects.push({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(app),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: app },
      minReplicas: stableReplicas,
      maxReplicas: Math.max(stableReplicas, options.maxReplicas ?? stableReplicas * 4),
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
  });
  objects.push({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(app),
    spec: {
      // One pod may go at a time (a drain never takes the model offline while 2+ pods run).
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': app } },
    },
  });
  return objects;
}
