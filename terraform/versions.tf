# Providers pinned to exact versions: a plan means the same thing next month.
terraform {
  required_version = ">= 1.6.0"

  required_providers {
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "5.8.2"
    }
    google = {
      source  = "hashicorp/google"
      version = "6.49.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "6.12.0"
    }
  }
}

provider "cloudflare" {
  # The token comes from CLOUDFLARE_API_TOKEN, never from a file.
}

provider "google" {
  project = var.gcp_project
  region  = var.gcp_region
}

provider "aws" {
  # Used only when storage = "s3"; credentials from the usual AWS environment or profile.
  region = var.aws_region
}
