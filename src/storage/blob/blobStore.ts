import type { Readable } from "node:stream";

/** What was stored. */
export interface StoredBlob {
  key: string;
  size: number;
  sha256: string;
}

/**
 * Where recordings, transcripts and uploaded files live. Keys are slash-separated relative
 * paths (`recordings/<account>/<interaction>/audio-0`). The filesystem store is the default; an
 * S3 store implements the same contract.
 */
export interface BlobStore {
  readonly kind: string;
  /** Writes atomically: readers see the old object or the whole new one, never a part. */
  put(key: string, data: Buffer | Readable, options?: { maxBytes?: number }): Promise<StoredBlob>;
  get(key: string): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  size(key: string): Promise<number>;
  delete(key: string): Promise<void>;
}

const keyPattern = /^[A-Za-z0-9._=@+-]+(\/[A-Za-z0-9._=@+-]+)*$/;

/** Refuses keys that could escape the store (`..`, absolute paths, odd characters). */
export function assertBlobKey(key: string): void {
  if (!keyPattern.test(key) || key.split("/").some((part) => part === "." || part === "..")) {
    throw new Error(
      `Invalid blob key '${key}': use relative slash-separated names of letters, digits and ._=@+-`,
    );
  }
}
