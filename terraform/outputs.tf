output "graphql_url" {
  description = "The GraphQL endpoint (GraphiQL in a browser)."
  value       = "${local.worker_url}/graphql"
}

output "gpu_service_url" {
  description = "The GPU function's URL (the Worker's DAS_GPU_URL)."
  value       = google_cloud_run_v2_service.gpu.uri
}

output "bucket" {
  description = "The bucket, its S3 endpoint (empty: AWS) and region."
  value       = { name = local.bucket, endpoint = local.s3_endpoint, region = local.s3_region, storage = var.storage }
}

output "image_repository" {
  description = "Where to push the GPU image (docs/deploy.md)."
  value       = "${var.gcp_region}-docker.pkg.dev/${var.gcp_project}/${google_artifact_registry_repository.das.repository_id}"
}
