import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { AppError } from "../core/errors.ts";

/** Encrypts integration secrets for storage and decrypts them for use. */
export interface SecretBox {
  /** Encrypts a secret as `v1.<iv>.<tag>.<ciphertext>` (base64url parts). */
  seal(plaintext: string): string;
  /** Decrypts a sealed secret; CONFIG_INVALID when the key differs or the value was altered. */
  open(sealed: string): string;
}

const minMasterKeyLength = 32;
const ivLength = 12;
const tagLength = 16;
// The label versions the derived key: a future v2 format derives a different key from the same master key.
const keyInfo = "cqa secret box v1 aes-256-gcm";
const version = "v1";

/** A SecretBox keyed by the operator's master key (CQA_SECRET_KEY, at least 32 characters). */
export function createSecretBox(masterKey: string): SecretBox {
  assertMasterKey(masterKey);
  const key = Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), keyInfo, 32));
  // The version is authenticated too, so a value cannot be passed off as another format.
  const additionalData = Buffer.from(version);

  return {
    seal(plaintext: string): string {
      const iv = randomBytes(ivLength);
      const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: tagLength });
      cipher.setAAD(additionalData);
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString("base64url"));
      return [version, ...parts].join(".");
    },
    open(sealed: string): string {
      const [label, iv, tag, ciphertext, ...extra] = sealed
        .split(".")
        .map((part, index) => (index === 0 ? Buffer.from(part) : decodeBase64Url(part)));
      if (
        label?.toString() !== version ||
        iv?.length !== ivLength ||
        tag?.length !== tagLength ||
        ciphertext === undefined ||
        extra.length > 0
      ) {
        throw undecryptable();
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: tagLength });
        decipher.setAAD(additionalData);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
      } catch (error) {
        throw undecryptable(error);
      }
    },
  };
}

/** A secret derived from the master key for one purpose, e.g. `webhook-signing:<api key id>` (hex HMAC-SHA256). */
export function deriveSecret(masterKey: string, label: string): string {
  assertMasterKey(masterKey);
  return createHmac("sha256", masterKey).update(label, "utf8").digest("hex");
}

function assertMasterKey(masterKey: string): void {
  if (masterKey.length < minMasterKeyLength) {
    throw new AppError(
      "CONFIG_INVALID",
      `CQA_SECRET_KEY must be at least ${minMasterKeyLength} characters long (it has ${masterKey.length}); generate one with: openssl rand -base64 48`,
    );
  }
}

/** Strict base64url: Buffer.from would silently skip stray characters. */
function decodeBase64Url(text: string): Buffer | undefined {
  return /^[A-Za-z0-9_-]*$/.test(text) ? Buffer.from(text, "base64url") : undefined;
}

function undecryptable(cause?: unknown): AppError {
  return new AppError(
    "CONFIG_INVALID",
    "A stored secret could not be decrypted: the master key (CQA_SECRET_KEY) differs from the one it was sealed with, or the value was altered",
    cause === undefined ? {} : { cause },
  );
}
