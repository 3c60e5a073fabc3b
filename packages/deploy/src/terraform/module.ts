/**
 * `trestle deploy terraform --cloud aws|gcp|azure --out DIR`: a Terraform module with the
 * artifact storage and managed PostgreSQL of one cloud, and Trestle on an existing Kubernetes
 * cluster through the kubernetes provider (server, pipeline workers, model serving).
 */
import { TrestleError } from '@trestle/core';
import { writeOutputFolder, type GeneratedFile } from '../out-dir.js';
import { CLOUDS, type Cloud, type CloudModule } from './clouds.js';

/** The clouds, in the order help texts name them. */
export const CLOUD_NAMES = Object.keys(CLOUDS) as Cloud[];

/** Parses a cloud name; `INVALID_ARGUMENT` names the ones there are. */
export function parseCloud(value: string): Cloud {
  if ((CLOUD_NAMES as string[]).includes(value)) return value as Cloud;
  throw new TrestleError('INVALID_ARGUMENT', `unknown cloud '${value}': choose ${CLOUD_NAMES.join(', ')}`);
}

const VERSIONS = (cloud: CloudModule): string => {
  const providers = {
    ...cloud.providers,
    kubernetes: { source: 'hashicorp/kubernetes', version: '~> 2.31' },
    random: { source: 'hashicorp/random', version: '~> 3.6' },
  };
  return `terraform {
  required_version = ">= 1.5"
  required_providers {
${Object.entries(providers)
  .map(([k, p]) => `    ${k} = {\n      source  = "${p.source}"\n      version = "${p.version}"\n    }`)
  .join('\n')}
  }
}
`;
};

const SHARED_VARIABLES = `variable "name" {
  type        = string
  default     = "trestle"
  description = "prefix of every resource name (lower case letters, digits and '-')"
}

variable "kubeconfig_path" {
  type        = string
  default     = "~/.kube/config"
  description = "kubeconfig of the cluster Trestle runs on"
}

variable "kube_context" {
  type        = string
  default     = null
  description = "kubeconfig context (default: the current one)"
}

variable "namespace" {
  type        = string
  default     = "trestle"
  description = "namespace of the Trestle workloads"
}

variable "server_image" {
  type        = string
  description = "image of 'trestle build --server' (server + UI)"
}

variable "worker_image" {
  type        = string
  description = "image of 'trestle build --worker' (pipeline workers)"
}

variable "serving_image" {
  type        = string
  description = "image of 'trestle build MODEL_URI' (the model server)"
}

variable "model_uri" {
  type        = string
  default     = ""
  description = "model the serving pods load, e.g. models:/flights-delay@champion (empty: the image's own)"
}

variable "redis_url" {
  type        = string
  default     = ""
  description = "redis://host:6379 of the pipeline queue (empty: no workers are deployed)"
}

variable "server_replicas" {
  type    = number
  default = 2
}

variable "worker_replicas" {
  type    = number
  default = 2
}

variable "serving_replicas" {
  type    = number
  default = 2
}
`;

const SHARED_MAIN = `provider "kubernetes" {
  config_path    = var.kubeconfig_path
  config_context = var.kube_context
}

resource "random_id" "suffix" {
  byte_length = 3
}

resource "random_password" "database" {
  length  = 32
  special = false
}

locals {
  tags = {
    app        = "trestle"
    managed-by = "terraform"
  }
  database_url = "postgres://\${local.database_user}:\${urlencode(local.database_password)}@\${local.database_host}:5432/trestle?sslmode=require"
  server_url   = "http://trestle-server.\${var.namespace}.svc.cluster.local:5000"
}
`;

function container(
  name: string,
  image: string,
  port: number,
  probes: { live: string; ready: string },
  extra = '',
): string {
  return `        container {
          name  = "${name}"
          image = ${image}
          port {
            name           = "http"
            container_port = ${port}
          }
          env_from {
            config_map_ref {
              name = kubernetes_config_map_v1.trestle.metadata[0].name
            }
          }
          liveness_probe {
            http_get {
              path = "${probes.live}"
              port = "http"
            }
            period_seconds = 10
          }
          readiness_probe {
            http_get {
              path = "${probes.ready}"
              port = "http"
            }
            period_seconds = 5
          }
          resources {
            requests = {
              cpu    = "250m"
              memory = "256Mi"
            }
            limits = {
              memory = "1Gi"
            }
          }
          security_context {
            run_as_non_root            = true
            run_as_user                = 10001
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }
          volume_mount {
            name       = "tmp"
            mount_path = "/tmp"
          }${extra}
        }`;
}

function deployment(opts: {
  id: string;
  name: string;
  replicas: string;
  container: string;
  volumes?: string;
  count?: string;
}): string {
  return `resource "kubernetes_deployment_v1" "${opts.id}" {${opts.count === undefined ? '' : `\n  count = ${opts.count}\n`}
  metadata {
    name      = "${opts.name}"
    namespace = kubernetes_namespace_v1.trestle.metadata[0].name
    labels = {
      "app.kubernetes.io/name"       = "${opts.name}"
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }
  spec {
    replicas = ${opts.replicas}
    selector {
      match_labels = {
        "app.kubernetes.io/name" = "${opts.name}"
      }
    }
    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }
    template {
      metadata {
        labels = {
          "app.kubernetes.io/name" = "${opts.name}"
        }
      }
      spec {
${opts.container}
        volume {
          name = "tmp"
          empty_dir {}
        }${opts.volumes ?? ''}
      }
    }
  }
}
`;
}

function service(id: string, name: string, port: number): string {
  return `resource "kubernetes_service_v1" "${id}" {
  metadata {
    name      = "${name}"
    namespace = kubernetes_namespace_v1.trestle.metadata[0].name
  }
  spec {
    selector = {
      "app.kubernetes.io/name" = kubernetes_deployment_v1.${id}.spec[0].template[0].metadata[0].labels["app.kubernetes.io/name"]
    }
    port {
      name        = "http"
      port        = ${port}
      target_port = "http"
    }
  }
}
`;
}

function kubernetesTf(cloud: CloudModule): string {
  const secretEnv = `
          env_from {
            secret_ref {
              name = kubernetes_secret_v1.trestle.metadata[0].name
            }
          }`;
  const artifactsMount = cloud.artifactsVolume
    ? `
          volume_mount {
            name       = "artifacts"
            mount_path = "/artifacts"
          }`
    : '';
  const artifactsVolume = cloud.artifactsVolume
    ? `
        volume {
          name = "artifacts"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.artifacts.metadata[0].name
          }
        }`
    : '';
  const secretData = {
    TRESTLE_DB: 'local.database_url',
    ...cloud.secretData,
  };
  return `resource "kubernetes_namespace_v1" "trestle" {
  metadata {
    name = var.namespace
  }
}

resource "kubernetes_secret_v1" "trestle" {
  metadata {
    name      = "trestle"
    namespace = kubernetes_namespace_v1.trestle.metadata[0].name
  }
  data = {
${Object.entries(secretData)
  .map(([k, v]) => `    ${k} = ${v}`)
  .join('\n')}
  }
}

resource "kubernetes_config_map_v1" "trestle" {
  metadata {
    name      = "trestle"
    namespace = kubernetes_namespace_v1.trestle.metadata[0].name
  }
  data = {
    TRESTLE_ARTIFACTS    = local.artifacts_uri
    TRESTLE_S3_ENDPOINT  = local.s3_endpoint
    TRESTLE_TRACKING_URI = local.server_url
    TRESTLE_QUEUE        = var.redis_url
    TRESTLE_MODEL_URI    = var.model_uri
    TRESTLE_HOME         = "/tmp/trestle"
  }
}

# The control plane: REST API, MLflow API and UI. The only part that opens the database and the artifact store.
${deployment({
  id: 'server',
  name: 'trestle-server',
  replicas: 'var.server_replicas',
  container: container(
    'server',
    'var.server_image',
    5000,
    { live: '/health', ready: '/ready' },
    secretEnv + artifactsMount,
  ),
  volumes: artifactsVolume,
})}
${service('server', 'trestle-server', 5000)}
# Pipeline workers: they take stages from the queue and log to the server.
${deployment({
  id: 'worker',
  name: 'trestle-worker',
  replicas: 'var.worker_replicas',
  count: 'var.redis_url == "" ? 0 : 1',
  container: `        container {
          name  = "worker"
          image = var.worker_image
          env_from {
            config_map_ref {
              name = kubernetes_config_map_v1.trestle.metadata[0].name
            }
          }
          resources {
            requests = {
              cpu    = "500m"
              memory = "512Mi"
            }
          }
          security_context {
            run_as_non_root            = true
            run_as_user                = 10001
            allow_privilege_escalation = false
          }
          volume_mount {
            name       = "tmp"
            mount_path = "/tmp"
          }
        }`,
})}
# Model serving: fetches the model from the server (TRESTLE_MODEL_URI) or uses the one in its image.
${deployment({
  id: 'serving',
  name: 'trestle-serving',
  replicas: 'var.serving_replicas',
  container: container('serve', 'var.serving_image', 8080, { live: '/v2/health/live', ready: '/v2/health/ready' }),
})}
${service('serving', 'trestle-serving', 80)}`;
}

const SHARED_OUTPUTS = `output "namespace" {
  value = kubernetes_namespace_v1.trestle.metadata[0].name
}

output "server_url" {
  value       = local.server_url
  description = "the control plane inside the cluster (kubectl port-forward svc/trestle-server 5000 to reach it)"
}

output "serving_url" {
  value       = "http://\${kubernetes_service_v1.serving.metadata[0].name}.\${var.namespace}.svc.cluster.local"
  description = "the model server inside the cluster"
}

output "database_url" {
  value     = local.database_url
  sensitive = true
}
`;

/**
 * The module's files for `cloud`.
 *
 * @example terraformModule('aws').map((f) => f.path) // ['versions.tf', 'variables.tf', 'main.tf', 'kubernetes.tf', 'outputs.tf', 'terraform.tfvars.example']
 */
export function terraformModule(cloud: Cloud): GeneratedFile[] {
  const c = CLOUDS[cloud];
  const header = `# Written by 'trestle deploy terraform --cloud ${cloud}'.\n`;
  const trim = (s: string): string => `${s.trim()}\n`;
  const required = [...c.variables.matchAll(/variable "(\w+)" \{\n {2}type\s+= \w+(?:\(\w+\))?\n {2}description/g)].map(
    (m) => m[1]!,
  );
  return [
    { path: 'versions.tf', content: header + VERSIONS(c) },
    { path: 'variables.tf', content: header + SHARED_VARIABLES + trim(c.variables) },
    { path: 'main.tf', content: header + SHARED_MAIN + trim(c.main) },
    { path: 'kubernetes.tf', content: header + kubernetesTf(c) },
    { path: 'outputs.tf', content: header + SHARED_OUTPUTS + trim(c.outputs) },
    {
      path: 'terraform.tfvars.example',
      content:
        `# Copy to terraform.tfvars and fill in; then: terraform init && terraform plan && terraform apply\n` +
        ['server_image', 'worker_image', 'serving_image', ...required].map((v) => `${v} = ""`).join('\n') +
        '\nmodel_uri = "models:/flights-delay@champion"\n',
    },
  ];
}

/** Options of {@link writeTerraformModule}. */
export interface WriteTerraformOptions {
  readonly cloud: string;
  readonly out: string;
  readonly force?: boolean;
}

/**
 * Writes the module for a cloud into `out`, all at once.
 *
 * @throws TrestleError `INVALID_ARGUMENT` for an unknown cloud, `ALREADY_EXISTS` for a non-empty folder without force.
 */
export async function writeTerraformModule(
  o: WriteTerraformOptions,
): Promise<{ out: string; cloud: Cloud; files: string[] }> {
  const cloud = parseCloud(o.cloud);
  const files = terraformModule(cloud);
  await writeOutputFolder(o.out, files, { force: o.force ?? false });
  return { out: o.out, cloud, files: files.map((f) => f.path) };
}
