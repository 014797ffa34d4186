import { z } from "zod";

const prefixSchema = (what: string) =>
  z
    .string()
    .max(512)
    .refine((v) => !v.startsWith("/") && !v.includes("//") && !v.split("/").includes(".."), {
      error: `${what} must be a key prefix such as calls/incoming/ (no leading /, no // or ..)`,
    });

/** The config of an S3 integration: where to read conversations, where to write results, with what keys. */
export const s3ConfigSchema = z
  .object({
    bucket: z
      .string({ error: "bucket is required" })
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
        error: "bucket must be a bucket name: 3–63 lower-case letters, digits, dots and hyphens",
      })
      .describe("The bucket holding the conversations and receiving the results."),
    region: z.string().min(1).default("us-east-1").describe("The bucket's region (AWS), e.g. ap-south-1."),
    endpoint: z
      .url({ error: "endpoint must be an http(s) URL such as https://minio.example.com:9000" })
      .optional()
      .describe("An S3-compatible server's URL (MinIO, Ceph, Wasabi…); leave unset for AWS S3."),
    path_style: z
      .boolean()
      .default(false)
      .describe(
        "Address the bucket in the path (https://host/bucket/key), as most S3-compatible servers need.",
      ),
    access_key_id: z
      .string({ error: "access_key_id is required" })
      .min(1, { error: "access_key_id must not be empty" })
      .describe(
        "Access key of an IAM user (or role session) allowed the actions in docs/integrations/s3.md.",
      ),
    secret_access_key: z
      .string({ error: "secret_access_key is required" })
      .min(1, { error: "secret_access_key must not be empty" })
      .describe("The access key's secret."),
    session_token: z
      .string()
      .min(1)
      .optional()
      .describe("Session token of temporary credentials (STS), if any."),
    input_prefix: prefixSchema("input_prefix")
      .default("")
      .describe(
        "Where conversations are picked up: audio files with a JSON sidecar, and manifest files (CSV / NDJSON).",
      ),
    output_prefix: prefixSchema("output_prefix")
      .default("cqa-results/")
      .describe(
        "Where each result is written as <output_prefix><external_interaction_id>.json; never read as input.",
      ),
    audio_without_sidecar: z
      .enum(["wait", "ingest"], { error: "audio_without_sidecar must be wait or ingest" })
      .default("wait")
      .describe(
        "wait: an audio file is taken once its JSON sidecar is there; ingest: also alone, with the file name as external_interaction_id.",
      ),
    source: z
      .string()
      .min(1)
      .max(255)
      .default("s3")
      .describe("The interactions' source when a sidecar or row gives none."),
    max_objects_per_run: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(10_000)
      .describe(
        "New or changed conversations (and manifests) taken per run; the rest wait for the next run.",
      ),
  })
  .superRefine((config, ctx) => {
    const input = config.input_prefix;
    const output = config.output_prefix;
    if (output === "" || (input !== "" && input.startsWith(output))) {
      ctx.addIssue({
        code: "custom",
        path: ["output_prefix"],
        message: "output_prefix must be a prefix of its own (not empty, not containing input_prefix)",
      });
    }
  });

export type S3Config = z.output<typeof s3ConfigSchema>;

/** A manifest being ingested: a run that died continues after its last committed row. */
export const s3CheckpointSchema = z.object({
  manifest: z.object({ key: z.string(), etag: z.string(), after_row: z.number().int().min(0) }).nullable(),
});

export type S3Checkpoint = z.output<typeof s3CheckpointSchema>;
