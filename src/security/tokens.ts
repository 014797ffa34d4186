import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A random token for operators and sessions, base64url, from `bytes` random bytes. */
export function generateToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** The hex SHA-256 of a token, which is what gets stored; tokens are random, so a fast hash suffices. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Compares two strings in time that depends on neither their content nor their lengths. */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  // Hashing first gives equal-length inputs, so the comparison reveals no length either.
  const digestA = createHash("sha256").update(a, "utf8").digest();
  const digestB = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(digestA, digestB);
}
