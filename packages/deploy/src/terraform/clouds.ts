/**
 * What differs between clouds in the Terraform module: the provider, the artifact storage and
 * the managed PostgreSQL. Each cloud gives HCL text plus the locals the shared Kubernetes part
 * reads (`local.database_host`, `local.database_password`, `local.artifacts_uri`, …).
 *
 * Trestle's server is the only part that touches the artifact store (workers and serving go
 * through its API), so each cloud only has to give the server a store it can open:
 * S3 on AWS, Cloud Storage through its S3-compatible XML API (HMAC key) on GCP, and on Azure,
 * where Blob storage has no S3 API, an Azure Files share mounted into the server pods.
 */

/** Cloud-specific parts of the module. */
export interface CloudModule {
  /** `required_providers` entries besides kubernetes and random. */
  readonly providers: Record<string, { source: string; version: string }>;
  /** The cloud's variables (HCL). */
  readonly variables: string;
  /** Provider blocks, storage and database (HCL). */
  readonly main: string;
  /** Outputs that are cloud specific (HCL). */
  readonly outputs: string;
  /** Extra key → HCL expression entries of the server's Secret (e.g. S3 keys). */
  readonly secretData: Record<string, string>;
  /** Whether the server mounts the artifacts volume at /artifacts (Azure Files). */
  readonly artifactsVolume: boolean;
}

const aws: CloudModule = {
  providers: { aws: { source: 'hashicorp/aws', version: '~> 5.0' } },
  variables: `
variable "region" {
  type        = string
  description = "AWS region, e.g. eu-west-1"
}

variable "db_instance_class" {
  type        = string
  default     = "db.t4g.small"
  description = "RDS instance class of the metadata database"
}

variable "db_subnet_group_name" {
  type        = string
  description = "RDS subnet group in the cluster's VPC (private subnets)"
}

variable "db_security_group_ids" {
  type        = list(string)
  description = "security groups that let the cluster's nodes reach PostgreSQL on 5432"
}
`,
  main: `
provider "aws" {
  region = var.region
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "\${var.name}-artifacts-\${random_id.suffix.hex}"
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# The server's credentials for the bucket (IRSA is the alternative where the cluster has an OIDC provider).
resource "aws_iam_user" "server" {
  name = "\${var.name}-server-\${random_id.suffix.hex}"
  tags = local.tags
}

resource "aws_iam_user_policy" "artifacts" {
  name = "\${var.name}-artifacts"
  user = aws_iam_user.server.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [aws_s3_bucket.artifacts.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = ["\${aws_s3_bucket.artifacts.arn}/*"]
      }
    ]
  })
}

resource "aws_iam_access_key" "server" {
  user = aws_iam_user.server.name
}

resource "aws_db_instance" "metadata" {
  identifier                = "\${var.name}-metadata"
  engine                    = "postgres"
  engine_version            = "16"
  instance_class            = var.db_instance_class
  allocated_storage         = 20
  max_allocated_storage     = 200
  storage_encrypted         = true
  db_name                   = "trestle"
  username                  = "trestle"
  password                  = random_password.database.result
  db_subnet_group_name      = var.db_subnet_group_name
  vpc_security_group_ids    = var.db_security_group_ids
  publicly_accessible       = false
  backup_retention_period   = 7
  skip_final_snapshot       = false
  final_snapshot_identifier = "\${var.name}-metadata-final-\${random_id.suffix.hex}"
  tags                      = local.tags
}

locals {
  database_host     = aws_db_instance.metadata.address
  database_user     = "trestle"
  database_password = random_password.database.result
  artifacts_uri     = "s3://\${aws_s3_bucket.artifacts.bucket}/artifacts"
  s3_endpoint       = ""
}
`,
  outputs: `
output "artifacts_bucket" {
  value       = aws_s3_bucket.artifacts.bucket
  description = "S3 bucket of run artifacts and model packages"
}

output "database_endpoint" {
  value       = aws_db_instance.metadata.endpoint
  description = "RDS PostgreSQL endpoint"
}
`,
  secretData: {
    AWS_ACCESS_KEY_ID: 'aws_iam_access_key.server.id',
    AWS_SECRET_ACCESS_KEY: 'aws_iam_access_key.server.secret',
    AWS_REGION: 'var.region',
  },
  artifactsVolume: false,
};

const gcp: CloudModule = {
  providers: { google: { source: 'hashicorp/google', version: '~> 6.0' } },
  variables: `
variable "project" {
  type        = string
  description = "GCP project id"
}

variable "region" {
  type        = string
  description = "GCP region, e.g. europe-west1"
}

variable "network_id" {
  type        = string
  description = "VPC network (self link) with private services access, shared with the GKE cluster"
}

variable "db_tier" {
  type        = string
  default     = "db-custom-1-3840"
  description = "Cloud SQL machine tier of the metadata database"
}
`,
  main: `
provider "google" {
  project = var.project
  region  = var.region
}

resource "google_storage_bucket" "artifacts" {
  name                        = "\${var.name}-artifacts-\${random_id.suffix.hex}"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.tags
  versioning {
    enabled = true
  }
}

resource "google_service_account" "server" {
  account_id   = "\${var.name}-server"
  display_name = "Trestle server (artifacts)"
}

resource "google_storage_bucket_iam_member" "server" {
  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:\${google_service_account.server.email}"
}

# Trestle's artifact store speaks S3: Cloud Storage answers it on storage.googleapis.com with an HMAC key.
resource "google_storage_hmac_key" "server" {
  service_account_email = google_service_account.server.email
}

resource "google_sql_database_instance" "metadata" {
  name                = "\${var.name}-metadata-\${random_id.suffix.hex}"
  database_version    = "POSTGRES_16"
  region              = var.region
  deletion_protection = true
  settings {
    tier        = var.db_tier
    user_labels = local.tags
    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
    }
    backup_configuration {
      enabled = true
    }
  }
}

resource "google_sql_database" "trestle" {
  name     = "trestle"
  instance = google_sql_database_instance.metadata.name
}

resource "google_sql_user" "trestle" {
  name     = "trestle"
  instance = google_sql_database_instance.metadata.name
  password = random_password.database.result
}

locals {
  database_host     = google_sql_database_instance.metadata.private_ip_address
  database_user     = google_sql_user.trestle.name
  database_password = random_password.database.result
  artifacts_uri     = "s3://\${google_storage_bucket.artifacts.name}/artifacts"
  s3_endpoint       = "https://storage.googleapis.com"
}
`,
  outputs: `
output "artifacts_bucket" {
  value       = google_storage_bucket.artifacts.name
  description = "Cloud Storage bucket of run artifacts and model packages"
}

output "database_private_ip" {
  value       = google_sql_database_instance.metadata.private_ip_address
  description = "Cloud SQL PostgreSQL private address"
}
`,
  secretData: {
    AWS_ACCESS_KEY_ID: 'google_storage_hmac_key.server.access_id',
    AWS_SECRET_ACCESS_KEY: 'google_storage_hmac_key.server.secret',
    AWS_REGION: '"auto"',
  },
  artifactsVolume: false,
};

const azure: CloudModule = {
  providers: { azurerm: { source: 'hashicorp/azurerm', version: '~> 4.0' } },
  variables: `
variable "subscription_id" {
  type        = string
  description = "Azure subscription id"
}

variable "location" {
  type        = string
  description = "Azure region, e.g. westeurope"
}

variable "db_subnet_id" {
  type        = string
  description = "subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers, reachable from the AKS cluster"
}

variable "db_private_dns_zone_id" {
  type        = string
  description = "private DNS zone (*.postgres.database.azure.com) linked to the cluster's virtual network"
}

variable "db_sku" {
  type        = string
  default     = "B_Standard_B1ms"
  description = "PostgreSQL flexible server SKU"
}
`,
  main: `
provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

resource "azurerm_resource_group" "trestle" {
  name     = "\${var.name}-rg"
  location = var.location
  tags     = local.tags
}

resource "azurerm_storage_account" "artifacts" {
  name                            = "\${substr(replace(var.name, "-", ""), 0, 16)}\${random_id.suffix.hex}"
  resource_group_name             = azurerm_resource_group.trestle.name
  location                        = azurerm_resource_group.trestle.location
  account_tier                    = "Premium"
  account_kind                    = "FileStorage"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
  tags                            = local.tags
}

# Blob storage has no S3 API: the server keeps artifacts on an Azure Files share mounted at /artifacts.
resource "azurerm_storage_share" "artifacts" {
  name               = "artifacts"
  storage_account_id = azurerm_storage_account.artifacts.id
  quota              = 100
  enabled_protocol   = "SMB"
}

resource "azurerm_postgresql_flexible_server" "metadata" {
  name                          = "\${var.name}-metadata-\${random_id.suffix.hex}"
  resource_group_name           = azurerm_resource_group.trestle.name
  location                      = azurerm_resource_group.trestle.location
  version                       = "16"
  sku_name                      = var.db_sku
  storage_mb                    = 32768
  administrator_login           = "trestle"
  administrator_password        = random_password.database.result
  delegated_subnet_id           = var.db_subnet_id
  private_dns_zone_id           = var.db_private_dns_zone_id
  public_network_access_enabled = false
  backup_retention_days         = 7
  tags                          = local.tags
}

resource "azurerm_postgresql_flexible_server_database" "trestle" {
  name      = "trestle"
  server_id = azurerm_postgresql_flexible_server.metadata.id
}

resource "kubernetes_secret_v1" "azure_files" {
  metadata {
    name      = "trestle-azure-files"
    namespace = kubernetes_namespace_v1.trestle.metadata[0].name
  }
  data = {
    azurestorageaccountname = azurerm_storage_account.artifacts.name
    azurestorageaccountkey  = azurerm_storage_account.artifacts.primary_access_key
  }
}

resource "kubernetes_persistent_volume_v1" "artifacts" {
  metadata {
    name = "\${var.name}-artifacts"
  }
  spec {
    capacity = {
      storage = "100Gi"
    }
    access_modes                     = ["ReadWriteMany"]
    persistent_volume_reclaim_policy = "Retain"
    storage_class_name               = "azurefile-csi"
    mount_options                    = ["uid=10001", "gid=10001", "mfsymlinks", "nobrl"]
    persistent_volume_source {
      csi {
        driver        = "file.csi.azure.com"
        volume_handle = "\${azurerm_storage_account.artifacts.name}#\${azurerm_storage_share.artifacts.name}"
        volume_attributes = {
          shareName = azurerm_storage_share.artifacts.name
        }
        node_stage_secret_ref {
          name      = kubernetes_secret_v1.azure_files.metadata[0].name
          namespace = kubernetes_namespace_v1.trestle.metadata[0].name
        }
      }
    }
  }
}

resource "kubernetes_persistent_volume_claim_v1" "artifacts" {
  metadata {
    name      = "artifacts"
    namespace = kubernetes_namespace_v1.trestle.metadata[0].name
  }
  spec {
    access_modes       = ["ReadWriteMany"]
    storage_class_name = "azurefile-csi"
    volume_name        = kubernetes_persistent_volume_v1.artifacts.metadata[0].name
    resources {
      requests = {
        storage = "100Gi"
      }
    }
  }
}

locals {
  database_host     = azurerm_postgresql_flexible_server.metadata.fqdn
  database_user     = "trestle"
  database_password = random_password.database.result
  artifacts_uri     = "/artifacts"
  s3_endpoint       = ""
}
`,
  outputs: `
output "artifacts_share" {
  value       = "\${azurerm_storage_account.artifacts.name}/\${azurerm_storage_share.artifacts.name}"
  description = "Azure Files share of run artifacts and model packages"
}

output "database_fqdn" {
  value       = azurerm_postgresql_flexible_server.metadata.fqdn
  description = "PostgreSQL flexible server address"
}
`,
  secretData: {},
  artifactsVolume: true,
};

/** The clouds `trestle deploy terraform --cloud` knows. */
export const CLOUDS = { aws, gcp, azure } as const;
export type Cloud = keyof typeof CLOUDS;
