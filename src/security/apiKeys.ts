import { createHash, randomInt } from "node:crypto";
import { timingSafeEqualStrings } from "./tokens.ts";

/** A new API key: the key itself (shown once), its prefix (stored, listed) and its hash (stored). */
export interface GeneratedApiKey {
  key: string;
  prefix: string;
  secretHash: string;
}

const prefixAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const apiKeyPattern = /^cqa_([a-z0-9]{10})_[A-Za-z0-9]{32}$/;

/** Creates an API key `cqa_<10-char prefix>_<32-char secret>`; only its hash is ever stored. */
export function generateApiKey(): GeneratedApiKey {
  const prefix = randomString(prefixAlphabet, 10);
  const key = `cqa_${prefix}_${randomString(secretAlphabet, 32)}`;
  return { key, prefix, secretHash: hashApiKey(key) };
}

/** The prefix that finds a key in storage, or null when the text is not shaped like a cqa API key. */
export function parseApiKey(key: string): { prefix: string } | null {
  const match = apiKeyPattern.exec(key);
  return match?.[1] === undefined ? null : { prefix: match[1] };
}

/** Whether a presented key is the one whose hash was stored. */
export function apiKeyMatches(key: string, secretHash: string): boolean {
  return timingSafeEqualStrings(hashApiKey(key), secretHash);
}

// The secret part carries about 190 random bits, so no one can guess it from a leaked hash and a
// slow password hash would only slow down every API call: one SHA-256 is the right cost.
function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Uniformly random characters (randomInt rejects biased draws). */
function randomString(alphabet: string, length: number): string {
  let result = "";
  for (let i = 0; i < length; i++) result += alphabet[randomInt(alphabet.length)];
  return result;
}
