import assert from "node:assert/strict";
import { test } from "node:test";
import { isAppError } from "../core/errors.ts";
import { createSecretBox, deriveSecret } from "./secretBox.ts";

const masterKey = "k".repeat(20) + "0123456789abcdef";
const otherKey = "another master key of enough length!";

function undecryptable(error: unknown): boolean {
  return (
    isAppError(error) &&
    error.code === "CONFIG_INVALID" &&
    error.message ===
      "A stored secret could not be decrypted: the master key (CQA_SECRET_KEY) differs from the one it was sealed with, or the value was altered"
  );
}

test("a sealed secret opens again to the same text, and never shows it", () => {
  const box = createSecretBox(masterKey);
  for (const secret of ["sftp-password-Ω", "", "x".repeat(10_000)]) {
    const sealed = box.seal(secret);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
    if (secret !== "") assert.ok(!sealed.includes(secret));
    assert.equal(box.open(sealed), secret);
  }
  assert.notEqual(box.seal("same"), box.seal("same"), "each seal uses a fresh IV");
  assert.equal(createSecretBox(masterKey).open(box.seal("across restarts")), "across restarts");
});

test("a secret sealed under another master key is refused with a clear message", () => {
  const sealed = createSecretBox(otherKey).seal("kafka-sasl-password");
  assert.throws(() => createSecretBox(masterKey).open(sealed), undecryptable);
});

test("any altered part of a sealed secret is detected", () => {
  const box = createSecretBox(masterKey);
  const sealed = box.seal("s3-secret-access-key");
  const parts = sealed.split(".");
  for (let index = 1; index < parts.length; index++) {
    const altered = [...parts];
    const part = altered[index] ?? "";
    altered[index] = (part[0] === "A" ? "B" : "A") + part.slice(1);
    assert.throws(() => box.open(altered.join(".")), undecryptable, `part ${index}`);
  }
  for (const broken of [
    "",
    "plain text",
    `v2.${parts.slice(1).join(".")}`,
    `${sealed}.extra`,
    sealed.replace(/\.([^.]*)$/, ".!$1"),
  ]) {
    assert.throws(() => box.open(broken), undecryptable, broken);
  }
});

test("a master key shorter than 32 characters is refused", () => {
  for (const make of [() => createSecretBox("too-short"), () => deriveSecret("too-short", "label")]) {
    assert.throws(make, (error: unknown) => {
      return (
        isAppError(error) &&
        error.code === "CONFIG_INVALID" &&
        /CQA_SECRET_KEY must be at least 32 characters/.test(error.message)
      );
    });
  }
});

test("derived secrets are stable per label and differ between labels and master keys", () => {
  const a = deriveSecret(masterKey, "webhook-signing:key_1");
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(deriveSecret(masterKey, "webhook-signing:key_1"), a);
  assert.notEqual(deriveSecret(masterKey, "webhook-signing:key_2"), a);
  assert.notEqual(deriveSecret(otherKey, "webhook-signing:key_1"), a);
});
