# The bucket: R2 (default) or AWS S3, chosen by var.storage. Both are used through the S3 API, so the
# Worker and the GPU function only see an endpoint, a region, a bucket and a key pair.

resource "cloudflare_r2_bucket" "das" {
  count      = var.storage == "r2" ? 1 : 0
  account_id = var.cloudflare_account_id
  name       = var.bucket_name
}

resource "aws_s3_bucket" "das" {
  count  = var.storage == "s3" ? 1 : 0
  bucket = var.bucket_name
}

resource "aws_s3_bucket_public_access_block" "das" {
  count                   = var.storage == "s3" ? 1 : 0
  bucket                  = aws_s3_bucket.das[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Batch manifests and item outcomes are working state: they expire. Scores (content-addressed,
# immutable), models and DTB records are kept.
resource "aws_s3_bucket_lifecycle_configuration" "das" {
  count  = var.storage == "s3" ? 1 : 0
  bucket = aws_s3_bucket.das[0].id

  rule {
    id     = "expire-batches"
    status = "Enabled"
    filter {
      prefix = "batches/"
    }
    expiration {
      days = var.batch_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

locals {
  # What both services get as DAS_S3_ENDPOINT / DAS_S3_REGION / DAS_S3_BUCKET. Empty endpoint: AWS.
  s3_endpoint = var.storage == "r2" ? "https://${var.cloudflare_account_id}.r2.cloudflarestorage.com" : ""
  s3_region   = var.storage == "r2" ? "auto" : var.aws_region
  bucket      = var.storage == "r2" ? cloudflare_r2_bucket.das[0].name : aws_s3_bucket.das[0].bucket
}
