# Inputs. Secrets are sensitive and have no default: they come from TF_VAR_* or a tfvars file kept
# out of git (terraform.tfvars.example lists every input).

variable "cloudflare_account_id" {
  type        = string
  description = "Cloudflare account that owns the Worker, its Durable Objects and (with storage = \"r2\") the R2 bucket."
  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.cloudflare_account_id))
    error_message = "cloudflare_account_id is 32 lowercase hex characters."
  }
}

variable "workers_subdomain" {
  type        = string
  description = "The account's workers.dev subdomain (NAME in NAME.workers.dev): the Worker is served at https://{worker_name}.{workers_subdomain}.workers.dev."
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.workers_subdomain))
    error_message = "workers_subdomain is a DNS label."
  }
}

variable "worker_name" {
  type        = string
  description = "Name of the Worker script; wrangler.toml's name."
  default     = "das-edge"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.worker_name))
    error_message = "worker_name is lowercase letters, digits and dashes."
  }
}

variable "worker_bundle" {
  type        = string
  description = "The Worker bundle's main module (`npm run build:worker` writes dist/worker/index.js); empty: that file in this repository."
  default     = ""
}

variable "storage" {
  type        = string
  description = "Where scores, batches and models live: \"r2\" (Cloudflare R2 through its S3 API) or \"s3\" (an AWS S3 bucket)."
  default     = "r2"
  validation {
    condition     = contains(["r2", "s3"], var.storage)
    error_message = "storage is \"r2\" or \"s3\"."
  }
}

variable "bucket_name" {
  type        = string
  description = "The bucket (R2 or S3) for scores/, batches/, models/ and dtb/."
  default     = "das"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name is 3-63 lowercase letters, digits, dots and dashes."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region of the S3 bucket (storage = \"s3\")."
  default     = "us-east-1"
}

variable "batch_retention_days" {
  type        = number
  description = "With storage = \"s3\": days after which objects under batches/ (manifests, item outcomes) expire. Scores are kept."
  default     = 30
  validation {
    condition     = var.batch_retention_days >= 1 && var.batch_retention_days <= 3650
    error_message = "batch_retention_days is 1..3650."
  }
}

variable "s3_access_key_id" {
  type        = string
  description = "S3 API access key id for the bucket (an R2 API token's key id, or an IAM user's key), used by the Worker and the GPU function."
  sensitive   = true
}

variable "s3_secret_access_key" {
  type        = string
  description = "The secret of s3_access_key_id."
  sensitive   = true
}

variable "gpu_secret" {
  type        = string
  description = "HMAC secret shared by the Worker and the GPU function (DAS_GPU_SECRET), at least 16 characters."
  sensitive   = true
  validation {
    condition     = length(var.gpu_secret) >= 16
    error_message = "gpu_secret has at least 16 characters."
  }
}

variable "gpu_secret_alt" {
  type        = string
  description = "During a rotation of gpu_secret only: a second secret both sides accept and never sign with (DAS_GPU_SECRET_ALT); empty otherwise. docs/deploy.md has the three steps."
  sensitive   = true
  default     = ""
  validation {
    condition     = var.gpu_secret_alt == "" || length(var.gpu_secret_alt) >= 16
    error_message = "gpu_secret_alt is empty or has at least 16 characters."
  }
}

variable "api_keys" {
  type        = list(string)
  description = "API keys accepted for mutations (DAS_API_KEYS). Rotation: add the new key, deploy, move clients, remove the old one."
  sensitive   = true
  validation {
    condition     = length(var.api_keys) > 0 && alltrue([for k in var.api_keys : length(k) >= 16 && !strcontains(k, ",")])
    error_message = "api_keys holds at least one key; each has 16+ characters and no comma."
  }
}

variable "batch_stall_seconds" {
  type        = number
  description = "Seconds without progress before a batch's Durable Object re-posts its job (DAS_BATCH_STALL_S); keep it above das serve's item timeout (120 s)."
  default     = 180
  validation {
    condition     = var.batch_stall_seconds >= 5 && var.batch_stall_seconds <= 3600
    error_message = "batch_stall_seconds is 5..3600."
  }
}

variable "score_memo_entries" {
  type        = number
  description = "Score records each Worker isolate keeps in memory (DAS_SCORE_MEMO_ENTRIES); 0 reads S3 every time."
  default     = 5000
  validation {
    condition     = var.score_memo_entries >= 0 && var.score_memo_entries <= 100000
    error_message = "score_memo_entries is 0..100000."
  }
}

variable "gcp_project" {
  type        = string
  description = "Google Cloud project of the GPU function."
}

variable "gcp_region" {
  type        = string
  description = "Cloud Run region with NVIDIA L4 GPUs (for example us-central1, europe-west4)."
  default     = "us-central1"
}

variable "gpu_image" {
  type        = string
  description = "The GPU function's image in Artifact Registry (gpu-worker/Dockerfile), by digest or tag: {region}-docker.pkg.dev/{project}/das/gpu-worker@sha256:..."
  validation {
    condition     = can(regex("^[a-z0-9-]+-docker\\.pkg\\.dev/", var.gpu_image))
    error_message = "gpu_image is an Artifact Registry image ({region}-docker.pkg.dev/...)."
  }
}

variable "gpu_max_instances" {
  type        = number
  description = "Most GPU instances (each one NVIDIA L4); the service scales from 0 to this."
  default     = 3
  validation {
    condition     = var.gpu_max_instances >= 1 && var.gpu_max_instances <= 100
    error_message = "gpu_max_instances is 1..100."
  }
}

variable "gpu_concurrency" {
  type        = number
  description = "Items scored at once per instance (DAS_GPU_CONCURRENCY) and Cloud Run's request concurrency per instance."
  default     = 1
  validation {
    condition     = var.gpu_concurrency >= 1 && var.gpu_concurrency <= 64
    error_message = "gpu_concurrency is 1..64."
  }
}

variable "gpu_queue_limit" {
  type        = number
  description = "Batches queued or running per instance before it answers 429 (DAS_GPU_QUEUE_LIMIT)."
  default     = 16
  validation {
    condition     = var.gpu_queue_limit >= 1 && var.gpu_queue_limit <= 10000
    error_message = "gpu_queue_limit is 1..10000."
  }
}
