import type { SafeStreamResponse } from "./safeFetch.ts";

/** Whose fetch it is: the account, and the integration the interaction (or file) came from. */
export interface FetchOwner {
  accountId: string;
  integrationId: string | null;
  /** The interaction's external id, when the fetch is for one (a source may need it to refresh a URL). */
  externalInteractionId?: string | null;
}

/** Limits of one credentialed fetch. */
export interface CredentialedFetchLimits {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * Opens URLs that need credentials cqa holds for an account: `s3://bucket/key` with the account's S3
 * integration, a telephony API's recording URLs with that integration's API credentials. The
 * connectors implement it; the pipeline and file jobs are handed it, so they never see a secret.
 */
export interface CredentialedFetcher {
  /**
   * The answer for `url` fetched with the owner's credentials, or null when none of the owner's
   * integrations holds credentials for it (fetch it as a public URL then). HTTP error statuses are
   * answered, not thrown, like `safeFetchStream`.
   */
  open(owner: FetchOwner, url: string, limits: CredentialedFetchLimits): Promise<SafeStreamResponse | null>;
  /** Why `url` cannot be opened for the owner (a sentence for the sender), or null when it can. */
  refusal(owner: FetchOwner, url: string): Promise<string | null>;
}

/** `s3://bucket/key` → its bucket and key; null when the URL is not such a URL. */
export function parseS3Url(url: string): { bucket: string; key: string } | null {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(url.trim());
  // The key is taken literally, as the AWS CLI does (no percent-decoding).
  return match ? { bucket: match[1]!, key: match[2]! } : null;
}
