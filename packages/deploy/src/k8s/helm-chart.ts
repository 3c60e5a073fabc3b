/**
 * `trestle deploy helm --out DIR`: a Helm chart for the control plane: the tracking server
 * (REST API, MLflow API and the web UI it serves at /), pipeline workers and a model server,
 * on PostgreSQL, S3 and Redis given as values.
 *
 * The templates use a small part of Helm's template language on purpose: `.Values.…`,
 * `.Release.Name`, `.Release.Namespace`, `.Chart.Version`, `| quote`, and `if` / `else` / `end`
 * (no helpers, no `include`), so the tests can render them without Helm (Debian has no `helm`
 * package) and validate the output against the Kubernetes schemas.
 */
import { writeOutputFolder, type GeneratedFile } from '../out-dir.js';

const CHART = `apiVersion: v2
name: trestle
description: Trestle MLOps platform - tracking server and UI, pipeline workers, model serving
type: application
version: 0.1.0
appVersion: "0.1.0"
`;

const VALUES = `# Values of the Trestle chart. Install: helm install trestle ./trestle -f my-values.yaml
image:
  server: trestle-server:latest     # trestle build --server
  worker: trestle-worker:latest     # trestle build --worker
  serving: trestle-serve:latest     # trestle build MODEL_URI [--pull-at-start]
  pullPolicy: IfNotPresent

server:
  replicas: 2
  auth: false                        # true: API tokens required (trestle tokens create)

# PostgreSQL of the metadata store: a URL (the chart writes a Secret) or an existing Secret
# holding the URL under the key TRESTLE_DB.
postgresql:
  url: "postgres://trestle:change-me@postgresql:5432/trestle"
  existingSecret: ""

# Artifacts (run files, model packages). credentialsSecret holds AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY; endpoint is for S3-compatible stores (MinIO, Cloud Storage).
s3:
  bucket: trestle-artifacts
  prefix: artifacts
  endpoint: ""
  region: us-east-1
  credentialsSecret: trestle-s3

# The pipeline queue the workers take stages from.
redis:
  url: "redis://redis:6379"

workers:
  enabled: true
  replicas: 2

serving:
  enabled: true
  replicas: 2
  modelUri: "models:/flights-delay@champion"
`;

const LABELS = (component: string): string => `    app.kubernetes.io/name: trestle-${component}
    app.kubernetes.io/instance: {{ .Release.Name }}
    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
    app.kubernetes.io/managed-by: Helm`;

const POD_SECURITY = `      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault`;

const CONTAINER_SECURITY = `          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]`;

function deployment(component: string, replicas: string, image: string, port: number, body: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-${component}
  namespace: {{ .Release.Namespace }}
  labels:
${LABELS(component)}
spec:
  replicas: {{ ${replicas} }}
  selector:
    matchLabels:
      app.kubernetes.io/name: trestle-${component}
      app.kubernetes.io/instance: {{ .Release.Name }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
${LABELS(component).replace(/^ {4}/gm, '        ')}
    spec:
      automountServiceAccountToken: false
${POD_SECURITY}
      containers:
        - name: ${component}
          image: {{ ${image} | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: ${port}
          envFrom:
            - configMapRef:
                name: {{ .Release.Name }}-config
${body}
${CONTAINER_SECURITY}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
`;
}

function service(component: string, port: number, target: number): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-${component}
  namespace: {{ .Release.Namespace }}
  labels:
${LABELS(component)}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: trestle-${component}
    app.kubernetes.io/instance: {{ .Release.Name }}
  ports:
    - name: http
      port: ${port}
      targetPort: ${target}
`;
}

const probes = (live: string, ready: string): string => `          livenessProbe:
            httpGet:
              path: ${live}
              port: http
            periodSeconds: 10
          readinessProbe:
            httpGet:
              path: ${ready}
              port: http
            periodSeconds: 5
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
            limits:
              memory: 1Gi`;

const TEMPLATES: Record<string, string> = {
  'configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  namespace: {{ .Release.Namespace }}
  labels:
${LABELS('config')}
data:
  TRESTLE_ARTIFACTS: "s3://{{ .Values.s3.bucket }}/{{ .Values.s3.prefix }}"
  TRESTLE_S3_ENDPOINT: {{ .Values.s3.endpoint | quote }}
  AWS_REGION: {{ .Values.s3.region | quote }}
  TRESTLE_TRACKING_URI: "http://{{ .Release.Name }}-server:5000"
  TRESTLE_QUEUE: {{ .Values.redis.url | quote }}
  TRESTLE_HOME: /tmp/trestle
{{- if .Values.server.auth }}
  TRESTLE_AUTH: "1"
{{- end }}
`,
  'secret.yaml': `{{- if .Values.postgresql.existingSecret }}
{{- else }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-db
  namespace: {{ .Release.Namespace }}
  labels:
${LABELS('db')}
type: Opaque
stringData:
  TRESTLE_DB: {{ .Values.postgresql.url | quote }}
{{- end }}
`,
  'server-deployment.yaml': deployment(
    'server',
    '.Values.server.replicas',
    '.Values.image.server',
    5000,
    `            - secretRef:
{{- if .Values.postgresql.existingSecret }}
                name: {{ .Values.postgresql.existingSecret }}
{{- else }}
                name: {{ .Release.Name }}-db
{{- end }}
            - secretRef:
                name: {{ .Values.s3.credentialsSecret }}
${probes('/health', '/ready')}`,
  ),
  'server-service.yaml': service('server', 5000, 5000),
  'worker-deployment.yaml': `{{- if .Values.workers.enabled }}
${deployment(
  'worker',
  '.Values.workers.replicas',
  '.Values.image.worker',
  8080,
  `          resources:
            requests:
              cpu: 500m
              memory: 512Mi`,
)}{{- end }}
`,
  'serving-deployment.yaml': `{{- if .Values.serving.enabled }}
${deployment(
  'serving',
  '.Values.serving.replicas',
  '.Values.image.serving',
  8080,
  `          env:
            - name: TRESTLE_MODEL_URI
              value: {{ .Values.serving.modelUri | quote }}
${probes('/v2/health/live', '/v2/health/ready')}`,
)}{{- end }}
`,
  'serving-service.yaml': `{{- if .Values.serving.enabled }}
${service('serving', 80, 8080)}{{- end }}
`,
  'NOTES.txt': `Trestle {{ .Chart.AppVersion }} is installed as {{ .Release.Name }} in {{ .Release.Namespace }}.
  Tracking server and UI: kubectl port-forward svc/{{ .Release.Name }}-server 5000:5000, then http://localhost:5000
`,
};

/**
 * The chart's files (`Chart.yaml`, `values.yaml`, `templates/…`).
 *
 * @example helmChart().map((f) => f.path) // ['Chart.yaml', 'values.yaml', 'templates/configmap.yaml', …]
 */
export function helmChart(): GeneratedFile[] {
  return [
    { path: 'Chart.yaml', content: CHART },
    { path: 'values.yaml', content: VALUES },
    ...Object.entries(TEMPLATES).map(([name, content]) => ({ path: `templates/${name}`, content })),
  ];
}

/** Writes the chart into `out` at once (refused when `out` is not empty, unless `force`). */
export async function writeHelmChart(o: { out: string; force?: boolean }): Promise<{ out: string; files: string[] }> {
  const files = helmChart();
  await writeOutputFolder(o.out, files, { force: o.force ?? false });
  return { out: o.out, files: files.map((f) => f.path) };
}
