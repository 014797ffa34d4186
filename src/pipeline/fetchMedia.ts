import { posix } from "node:path";
import { AppError } from "../core/errors.ts";
import type { FetchAllowList } from "../net/allowList.ts";
import type { CredentialedFetcher, FetchOwner } from "../net/credentialedFetch.ts";
import { type SafeStreamResponse, safeFetchStream } from "../net/safeFetch.ts";
import type { BlobStore, StoredBlob } from "../storage/blob/blobStore.ts";

/** What the media stage needs from the outside world. */
export interface MediaFetchSettings {
  blobs: BlobStore;
  allow: FetchAllowList;
  timeoutMs: number;
  maxAudioBytes: number;
  maxTranscriptBytes: number;
  /** Opens URLs that need the account's credentials (s3://, an integration's recording URLs). */
  credentials?: CredentialedFetcher;
}

/** Fetches with the owner's credentials when one of its integrations holds them, else publicly. */
async function openUrl(
  url: string,
  settings: MediaFetchSettings,
  owner: FetchOwner | undefined,
  maxBytes: number,
): Promise<SafeStreamResponse> {
  const limits = { timeoutMs: settings.timeoutMs, maxBytes };
  const credentialed =
    owner && settings.credentials ? await settings.credentials.open(owner, url, limits) : null;
  return credentialed ?? safeFetchStream(url, { allow: settings.allow, ...limits });
}

/** A transcript document as fetched, before parsing. */
export interface FetchedTranscript {
  text: string;
  contentType: string | null;
  fileName: string;
  url: string;
}

/**
 * Fetches a transcript file. A 404/410 means "not published yet" (telephony systems often publish
 * minutes after the call): the interaction waits and retries instead of failing.
 */
export async function fetchTranscript(
  url: string,
  settings: MediaFetchSettings,
  owner?: FetchOwner,
): Promise<FetchedTranscript> {
  const response = await openUrl(url, settings, owner, settings.maxTranscriptBytes);
  if (response.status < 200 || response.status > 299) response.body.resume();
  assertFetched(url, response.status, response.headers, "transcript");
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  return {
    text: Buffer.concat(chunks).toString("utf8"),
    contentType: response.headers["content-type"] ?? null,
    fileName: posix.basename(new URL(response.url.replace(/^s3:/, "https:")).pathname),
    url,
  };
}

/** Streams a recording into the blob store under `key`. */
export async function storeRecording(
  url: string,
  key: string,
  settings: MediaFetchSettings,
  owner?: FetchOwner,
): Promise<StoredBlob & { contentType: string | null }> {
  const response = await openUrl(url, settings, owner, settings.maxAudioBytes);
  if (response.status < 200 || response.status > 299) {
    response.body.resume();
    assertFetched(url, response.status, response.headers, "recording");
  }
  const stored = await settings.blobs.put(key, response.body, { maxBytes: settings.maxAudioBytes });
  if (stored.size === 0) {
    throw new AppError("MEDIA_INVALID", `The recording at ${url} is empty (0 bytes)`);
  }
  return { ...stored, contentType: response.headers["content-type"] ?? null };
}

/** Turns an HTTP answer other than 2xx into the right kind of error: wait, retry, or give up. */
function assertFetched(url: string, status: number, headers: Record<string, string>, what: string): void {
  if (status >= 200 && status <= 299) return;
  if (status === 404 || status === 410) {
    throw new AppError("MEDIA_NOT_READY", `The ${what} is not available yet: ${url} answered ${status}`, {
      retryable: true,
    });
  }
  if (status === 429 || status >= 500) {
    const retryAfter = Number(headers["retry-after"]);
    throw new AppError("FETCH_FAILED", `Fetching the ${what} failed: ${url} answered ${status}`, {
      retryable: true,
      ...(Number.isFinite(retryAfter) && retryAfter > 0
        ? { retryAfterSeconds: Math.min(retryAfter, 3600) }
        : {}),
    });
  }
  const hint =
    status === 401 || status === 403
      ? " (access denied: the URL may have expired or need credentials; send a fresh or public URL)"
      : "";
  throw new AppError("FETCH_FAILED", `Fetching the ${what} failed: ${url} answered ${status}${hint}`, {
    retryable: false,
  });
}
