// The one file of the S3 connector that talks to the SDK. Every request goes out through safeFetch,
// so a bucket endpoint an account configures can never reach a private address the operator did not
// allow (the same SSRF rule as every other outbound fetch).
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from "@aws-sdk/client-s3";
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from "@smithy/types";
import { AppError, describeError } from "../../core/errors.ts";
import type { FetchAllowList } from "../../net/allowList.ts";
import { type SafeStreamResponse, safeFetchStream } from "../../net/safeFetch.ts";
import type { S3Config } from "./config.ts";

/** An object as listed: key, ETag (quotes removed) and size. */
export interface ListedObject {
  key: string;
  etag: string;
  size: number;
}

/** Whose fault an S3 failure is, for "test connection" and run errors. */
export type S3FailureKind = "network" | "auth" | "permission" | "no_bucket" | "not_found" | "other";

/** Classifies an SDK or fetch error into a kind and a message an IT admin can act on. */
export function describeS3Failure(error: unknown, bucket: string): { kind: S3FailureKind; message: string } {
  const e = error as Partial<S3ServiceException> & { Code?: string };
  const code = e.name ?? e.Code ?? "";
  const status = e.$metadata?.httpStatusCode;
  if (["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"].includes(code)) {
    return {
      kind: "auth",
      message: `S3 refused the credentials (${code}): check access_key_id and secret_access_key (and session_token, if set)`,
    };
  }
  if (code === "NoSuchBucket") {
    return {
      kind: "no_bucket",
      message: `The bucket '${bucket}' does not exist (check bucket, region and endpoint)`,
    };
  }
  if (code === "NoSuchKey" || code === "NotFound" || status === 404) {
    return { kind: "not_found", message: `Not found in bucket '${bucket}'` };
  }
  if (code === "AccessDenied" || status === 403) {
    return {
      kind: "permission",
      message: `S3 denied the request (${code || "403"}): the key needs the permissions listed in docs/integrations/s3.md on bucket '${bucket}'`,
    };
  }
  if (!status) return { kind: "network", message: `S3 cannot be reached: ${describeError(error)}` };
  return {
    kind: "other",
    message: `S3 answered ${status}${code ? ` (${code})` : ""}: ${describeError(error)}`,
  };
}

/** Percent-encoding as S3 signs it (RFC 3986 unreserved characters kept). */
const uriEscape = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function bodyBuffer(body: unknown): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || Buffer.isBuffer(body)) return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (
    body instanceof Readable ||
    typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"
  ) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  throw new Error("Unsupported request body for an S3 request");
}

/** The SDK's HTTP handler, sending every request through safeFetch. */
function safeFetchHandler(
  allow: FetchAllowList,
): RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  return {
    async handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }> {
      const query = Object.entries(request.query ?? {})
        .flatMap(([name, value]) =>
          value === null || value === undefined
            ? [uriEscape(name)]
            : (Array.isArray(value) ? value : [value]).map((v) => `${uriEscape(name)}=${uriEscape(v)}`),
        )
        .join("&");
      const port = request.port ? `:${request.port}` : "";
      const url = `${request.protocol}//${request.hostname}${port}${request.path}${query ? `?${query}` : ""}`;
      const body = await bodyBuffer(request.body);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name] = value;
      const answer = await safeFetchStream(url, {
        allow,
        method: request.method,
        headers,
        ...(body === undefined ? {} : { body }),
        timeoutMs: 300_000,
        maxBytes: 4 * 1024 * 1024 * 1024,
        maxRedirects: 0,
        ...(options?.abortSignal ? { signal: options.abortSignal as AbortSignal } : {}),
      });
      return {
        response: { statusCode: answer.status, headers: answer.headers, body: answer.body } as HttpResponse,
      };
    },
  };
}

/** The bucket of one S3 integration. */
export class S3Bucket {
  readonly bucket: string;
  readonly #client: S3Client;

  constructor(config: S3Config, allow: FetchAllowList) {
    this.bucket = config.bucket;
    this.#client = new S3Client({
      region: config.region,
      forcePathStyle: config.path_style,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      credentials: {
        accessKeyId: config.access_key_id,
        secretAccessKey: config.secret_access_key,
        ...(config.session_token ? { sessionToken: config.session_token } : {}),
      },
      requestHandler: safeFetchHandler(allow),
      // Checksums only where S3 requires them: S3-compatible servers do not all take the newer ones.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
    });
  }

  /** Every object under `prefix`, a page (≤ 1000) at a time, in key order: keys and ETags only. */
  async *list(prefix: string, signal?: AbortSignal): AsyncGenerator<ListedObject[]> {
    let token: string | undefined;
    do {
      const page = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
      yield (page.Contents ?? [])
        .filter((o) => o.Key !== undefined && !o.Key.endsWith("/"))
        .map((o) => ({ key: o.Key!, etag: (o.ETag ?? "").replace(/"/g, ""), size: o.Size ?? 0 }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Reads a whole (small) object: a sidecar or a manifest. */
  async read(key: string, maxBytes: number): Promise<Buffer> {
    const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if ((answer.ContentLength ?? 0) > maxBytes) {
      (answer.Body as Readable | undefined)?.destroy();
      throw new AppError("VALIDATION_ERROR", `s3://${this.bucket}/${key} is larger than ${maxBytes} bytes`);
    }
    return Buffer.from(await answer.Body!.transformToByteArray());
  }

  /** Streams an object, answered like an HTTP fetch (404 while it is not there, 403 when denied). */
  async open(key: string): Promise<SafeStreamResponse> {
    const url = `s3://${this.bucket}/${key}`;
    try {
      const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const headers: Record<string, string> = {};
      if (answer.ContentType) headers["content-type"] = answer.ContentType;
      if (answer.ContentLength !== undefined) headers["content-length"] = String(answer.ContentLength);
      return { status: 200, headers, url, body: answer.Body as Readable };
    } catch (error) {
      const failure = describeS3Failure(error, this.bucket);
      if (failure.kind === "network" || failure.kind === "other") {
        throw new AppError("FETCH_FAILED", `Fetching ${url} failed: ${failure.message}`, {
          retryable: true,
          cause: error,
        });
      }
      const status = failure.kind === "not_found" || failure.kind === "no_bucket" ? 404 : 403;
      return { status, headers: {}, url, body: Readable.from([]) };
    }
  }

  /** Writes (or overwrites) an object. */
  async write(key: string, body: string, contentType: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  close(): void {
    this.#client.destroy();
  }
}
