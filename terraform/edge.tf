# The edge Worker (functions/, wrangler.toml): the script with its bindings, the batch Durable
# Object class and its migration, served on workers.dev. Compatibility settings and binding names
# must match wrangler.toml (test/terraform.test.ts compares them).

locals {
  worker_url    = "https://${var.worker_name}.${var.workers_subdomain}.workers.dev"
  worker_bundle = var.worker_bundle != "" ? var.worker_bundle : "${path.module}/../dist/worker/index.js"
  # Whether a gpu_secret rotation is under way (only that fact leaves the sensitive value).
  rotating = nonsensitive(var.gpu_secret_alt != "")
}

resource "cloudflare_workers_script" "edge" {
  account_id     = var.cloudflare_account_id
  script_name    = var.worker_name
  content_file   = local.worker_bundle
  content_sha256 = filesha256(local.worker_bundle)
  main_module    = "index.js"

  compatibility_date  = "2025-05-05"
  compatibility_flags = ["nodejs_compat"]

  bindings = concat([
    { type = "durable_object_namespace", name = "BATCHES", class_name = "BatchObject" },
    { type = "plain_text", name = "DAS_S3_ENDPOINT", text = local.s3_endpoint },
    { type = "plain_text", name = "DAS_S3_BUCKET", text = local.bucket },
    { type = "plain_text", name = "DAS_S3_REGION", text = local.s3_region },
    { type = "plain_text", name = "DAS_GPU_URL", text = google_cloud_run_v2_service.gpu.uri },
    { type = "plain_text", name = "DAS_BATCH_STALL_S", text = tostring(var.batch_stall_seconds) },
    { type = "plain_text", name = "DAS_SCORE_MEMO_ENTRIES", text = tostring(var.score_memo_entries) },
    # The GPU function calls back here; the request's own origin is not trusted behind proxies.
    { type = "plain_text", name = "DAS_CALLBACK_BASE", text = local.worker_url },
    { type = "secret_text", name = "DAS_GPU_SECRET", text = var.gpu_secret },
    { type = "secret_text", name = "DAS_API_KEYS", text = join(",", var.api_keys) },
    { type = "secret_text", name = "AWS_ACCESS_KEY_ID", text = var.s3_access_key_id },
    { type = "secret_text", name = "AWS_SECRET_ACCESS_KEY", text = var.s3_secret_access_key },
    ], local.rotating ? [
    { type = "secret_text", name = "DAS_GPU_SECRET_ALT", text = var.gpu_secret_alt },
  ] : [])

  migrations = {
    new_tag            = "v1"
    new_sqlite_classes = ["BatchObject"]
  }

  observability = {
    enabled = true
  }
}

resource "cloudflare_workers_script_subdomain" "edge" {
  account_id  = var.cloudflare_account_id
  script_name = cloudflare_workers_script.edge.script_name
  enabled     = true
}
