// The S3 client the workerd tests use to seed and read s3rver directly (bucket `das`).
import { S3Client } from "@aws-sdk/client-s3";
import { env } from "cloudflare:workers";

export const testS3 = () =>
  new S3Client({
    region: "us-east-1",
    endpoint: env.DAS_S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    // s3rver does not take the SDK's default CRC32 checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
