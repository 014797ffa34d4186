import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { AppError, describeError } from "../../core/errors.ts";
import { assertBlobKey, type BlobStore, type StoredBlob } from "./blobStore.ts";

/** Where cqa keeps its own blobs in S3 (or an S3-compatible server): `CQA_BLOB_URL=s3://bucket/prefix`. */
export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, e.g. `cqa/` (empty for the bucket's root). */
  prefix: string;
  /** An S3-compatible server's URL (MinIO, Ceph…); null for AWS. */
  endpoint: string | null;
  region: string;
  /** Static credentials; without them the AWS default chain applies (environment, profile, instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null;
  forcePathStyle: boolean;
}

/** Objects up to this size are written with one PUT; larger ones as a multipart upload of parts this size. */
const partBytes = 8 * 1024 * 1024;

/** An S3 blob store with the same contract as the filesystem one. `close()` releases its connections. */
export interface S3BlobStore extends BlobStore {
  /** Checks that the bucket is reachable with the credentials (at start). */
  check(): Promise<void>;
  close(): void;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

/** Reads up to `limit` bytes from the iterator into one buffer; `done` when the source ended. */
async function readChunk(
  source: AsyncIterator<Buffer>,
  carry: Buffer[],
  limit: number,
): Promise<{ chunk: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  while (carry.length > 0 && size < limit) {
    const next = carry.shift()!;
    parts.push(next);
    size += next.length;
  }
  let done = false;
  while (size < limit) {
    const next = await source.next();
    if (next.done) {
      done = true;
      break;
    }
    const buffer = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    parts.push(buffer);
    size += buffer.length;
  }
  const all = Buffer.concat(parts);
  if (all.length > limit) {
    carry.unshift(all.subarray(limit));
    return { chunk: all.subarray(0, limit), done: false };
  }
  return { chunk: all, done: done && carry.length === 0 };
}

/** Blobs as objects under a prefix of one bucket. */
export function createS3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // Checksums only where S3 requires them: S3-compatible servers do not all take the newer ones.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const { bucket } = options;
  const prefix =
    options.prefix === "" || options.prefix.endsWith("/") ? options.prefix : `${options.prefix}/`;
  const objectKey = (key: string) => {
    assertBlobKey(key);
    return `${prefix}${key}`;
  };
  const storageError = (action: string, key: string, error: unknown) =>
    new AppError(
      "STORAGE_ERROR",
      `Could not ${action} s3://${bucket}/${prefix}${key}: ${describeError(error)}`,
      {
        retryable: true,
        cause: error,
      },
    );
  const notFound = (key: string, cause: unknown) =>
    new AppError("NOT_FOUND", `Stored file '${key}' does not exist`, { cause });

  return {
    kind: "s3",
    async put(key, data, putOptions = {}) {
      const target = objectKey(key);
      const maxBytes = putOptions.maxBytes ?? Number.POSITIVE_INFINITY;
      const hash = createHash("sha256");
      let size = 0;
      const tooLarge = () =>
        new AppError("MEDIA_INVALID", `The file is larger than the limit of ${maxBytes} bytes`);
      const source = (Buffer.isBuffer(data) ? Readable.from([data]) : data)[
        Symbol.asyncIterator
      ]() as AsyncIterator<Buffer>;
      const carry: Buffer[] = [];
      const first = await readChunk(source, carry, partBytes);
      const count = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) throw tooLarge();
        hash.update(chunk);
      };
      count(first.chunk);
      if (first.done) {
        // One PUT: S3 replaces objects whole, so readers see the old object or the new one.
        try {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: target, Body: first.chunk }));
        } catch (error) {
          throw storageError("write", key, error);
        }
        const stored: StoredBlob = { key, size, sha256: hash.digest("hex") };
        return stored;
      }
      let uploadId: string | undefined;
      try {
        uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: target })))
          .UploadId;
        const parts: { ETag: string; PartNumber: number }[] = [];
        let chunk = first;
        for (let partNumber = 1; ; partNumber++) {
          const answer = await client.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: target,
              UploadId: uploadId,
              PartNumber: partNumber,
              Body: chunk.chunk,
            }),
          );
          parts.push({ ETag: answer.ETag ?? "", PartNumber: partNumber });
          if (chunk.done) break;
          chunk = await readChunk(source, carry, partBytes);
          if (chunk.chunk.length === 0 && chunk.done) break;
          count(chunk.chunk);
        }
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: target,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      } catch (error) {
        // An unfinished upload leaves no object behind once aborted.
        if (uploadId) {
          await client
            .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: target, UploadId: uploadId }))
            .catch(() => {});
        }
        if (error instanceof AppError) throw error;
        throw storageError("write", key, error);
      }
      return { key, size, sha256: hash.digest("hex") };
    },
    async get(key) {
      const target = objectKey(key);
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: target }));
        return Buffer.from(await answer.Body!.transformToByteArray());
      } catch (error) {
        if (isNotFound(error)) throw notFound(key, error);
        throw storageError("read", key, error);
      }
    },
    async getStream(key) {
      const target = objectKey(key);
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: target }));
        return answer.Body as Readable;
      } catch (error) {
        if (isNotFound(error)) throw notFound(key, error);
        throw storageError("read", key, error);
      }
    },
    async exists(key) {
      const target = objectKey(key);
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: target }));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw storageError("check", key, error);
      }
    },
    async size(key) {
      const target = objectKey(key);
      try {
        return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: target }))).ContentLength ?? 0;
      } catch (error) {
        if (isNotFound(error)) throw notFound(key, error);
        throw storageError("check", key, error);
      }
    },
    async delete(key) {
      const target = objectKey(key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: target }));
      } catch (error) {
        if (isNotFound(error)) return;
        throw storageError("delete", key, error);
      }
    },
    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        const why =
          status === 403
            ? "access denied: check the access key and secret (and that they may read and write the bucket)"
            : status === 404
              ? "the bucket does not exist"
              : describeError(error);
        throw new AppError("CONFIG_INVALID", `CQA_BLOB_URL=s3://${bucket}/${prefix}: ${why}`, {
          cause: error,
        });
      }
    },
    close() {
      client.destroy();
    },
  };
}
