import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { apiKeyMatches, generateApiKey, parseApiKey } from "./apiKeys.ts";

test("a generated API key has the documented shape and its prefix identifies it", () => {
  const { key, prefix, secretHash } = generateApiKey();
  assert.match(key, /^cqa_[a-z0-9]{10}_[A-Za-z0-9]{32}$/);
  assert.equal(key.slice(4, 14), prefix);
  assert.deepEqual(parseApiKey(key), { prefix });
  assert.equal(secretHash, createHash("sha256").update(key).digest("hex"));
});

test("generated keys do not repeat", () => {
  const keys = Array.from({ length: 1000 }, () => generateApiKey());
  assert.equal(new Set(keys.map((k) => k.key)).size, 1000);
  assert.equal(new Set(keys.map((k) => k.prefix)).size, 1000);
});

test("a presented key matches only its own stored hash", () => {
  const first = generateApiKey();
  const second = generateApiKey();
  assert.equal(apiKeyMatches(first.key, first.secretHash), true);
  assert.equal(apiKeyMatches(second.key, first.secretHash), false);
  const tampered = first.key.slice(0, -1) + (first.key.endsWith("a") ? "b" : "a");
  assert.equal(apiKeyMatches(tampered, first.secretHash), false);
  assert.equal(apiKeyMatches(first.key, ""), false);
});

test("parseApiKey rejects text that is not a cqa API key", () => {
  const { key } = generateApiKey();
  for (const text of [
    "",
    "cqa_",
    key.toUpperCase(),
    `${key}x`,
    key.slice(0, -1),
    ` ${key}`,
    key.replace("cqa_", "sk_"),
  ]) {
    assert.equal(parseApiKey(text), null, text);
  }
});
