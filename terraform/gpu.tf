# The GPU function (`das serve`, gpu-worker/Dockerfile) on Cloud Run: one NVIDIA L4 per instance,
# from zero to var.gpu_max_instances, CPU allocated for the instance's whole life (items run after
# the 202), secrets from Secret Manager, a service account that can read those secrets and nothing else.

resource "google_project_service" "apis" {
  for_each           = toset(["run.googleapis.com", "artifactregistry.googleapis.com", "secretmanager.googleapis.com"])
  service            = each.value
  disable_on_destroy = false
}

resource "google_artifact_registry_repository" "das" {
  location      = var.gcp_region
  repository_id = "das"
  format        = "DOCKER"
  description   = "The GPU function's images (gpu-worker/Dockerfile)."
  depends_on    = [google_project_service.apis]
}

resource "google_service_account" "gpu" {
  account_id   = "das-gpu"
  display_name = "DAS GPU function (Cloud Run runtime identity)"
}

locals {
  # Secret Manager ids by the environment variable das serve reads them as.
  gpu_secrets = {
    DAS_GPU_SECRET        = var.gpu_secret
    DAS_GPU_SECRET_ALT    = var.gpu_secret_alt
    AWS_ACCESS_KEY_ID     = var.s3_access_key_id
    AWS_SECRET_ACCESS_KEY = var.s3_secret_access_key
  }
}

resource "google_secret_manager_secret" "gpu" {
  # The names, not the values, drive for_each (sensitive values cannot).
  # DAS_GPU_SECRET_ALT exists only during a rotation of the shared secret.
  for_each  = toset(concat(["DAS_GPU_SECRET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], local.rotating ? ["DAS_GPU_SECRET_ALT"] : []))
  secret_id = "das-${lower(replace(each.value, "_", "-"))}"
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_version" "gpu" {
  for_each    = google_secret_manager_secret.gpu
  secret      = each.value.id
  secret_data = local.gpu_secrets[each.key]
}

# Least privilege: the runtime identity reads these secrets, nothing else in the project.
resource "google_secret_manager_secret_iam_member" "gpu" {
  for_each  = google_secret_manager_secret.gpu
  secret_id = each.value.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.gpu.email}"
}

resource "google_cloud_run_v2_service" "gpu" {
  name                = "das-gpu"
  location            = var.gcp_region
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = false

  template {
    service_account                  = google_service_account.gpu.email
    max_instance_request_concurrency = var.gpu_concurrency
    timeout                          = "3600s"
    gpu_zonal_redundancy_disabled    = true

    scaling {
      min_instance_count = 0
      max_instance_count = var.gpu_max_instances
    }

    node_selector {
      accelerator = "nvidia-l4"
    }

    containers {
      image   = var.gpu_image
      command = ["node", "gpu-worker/dist/cli/main.js"]
      args    = ["serve", "--host", "0.0.0.0", "--port", "8788"]

      ports {
        container_port = 8788
      }

      resources {
        limits = {
          cpu              = "4"
          memory           = "16Gi"
          "nvidia.com/gpu" = "1"
        }
        # CPU stays allocated between requests: a job is accepted with 202 and scored afterwards.
        cpu_idle          = false
        startup_cpu_boost = true
      }

      env {
        name  = "DAS_EXECUTION_PROVIDER"
        value = "cuda"
      }
      env {
        name  = "DAS_GPU_CONCURRENCY"
        value = tostring(var.gpu_concurrency)
      }
      env {
        name  = "DAS_GPU_QUEUE_LIMIT"
        value = tostring(var.gpu_queue_limit)
      }
      # A fleet shares one bucket: instances leave unfinished batches to the Worker's re-posts
      # instead of each resuming all of them at start.
      env {
        name  = "DAS_GPU_RESUME"
        value = "0"
      }
      env {
        name  = "DAS_S3_ENDPOINT"
        value = local.s3_endpoint
      }
      env {
        name  = "DAS_S3_BUCKET"
        value = local.bucket
      }
      env {
        name  = "DAS_S3_REGION"
        value = local.s3_region
      }

      dynamic "env" {
        for_each = google_secret_manager_secret.gpu
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value.secret_id
              version = "latest"
            }
          }
        }
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 5
        failure_threshold = 60
      }
      liveness_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds = 30
      }
    }
  }

  # An instance reads its secrets at start: they need a version and the accessor binding first.
  depends_on = [google_secret_manager_secret_iam_member.gpu, google_secret_manager_secret_version.gpu]
}

# Anyone may reach the URL; only requests signed with DAS_GPU_SECRET get past /healthz (HMAC over
# method, path, time and body; 300 s window). The Worker cannot mint Google ID tokens without a
# service-account key, which would be one more long-lived secret at the edge.
resource "google_cloud_run_v2_service_iam_member" "public" {
  name     = google_cloud_run_v2_service.gpu.name
  location = google_cloud_run_v2_service.gpu.location
  role     = "roles/run.invoker"
  member   = "allUsers"
}
