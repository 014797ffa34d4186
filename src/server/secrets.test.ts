import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../config/config.ts";
import { loadOrCreateSecrets } from "./secrets.ts";

function configIn(dir: string, env: Record<string, string> = {}) {
  return loadConfig({ CQA_DATA_DIR: dir, ...env });
}

test("secrets are generated once into owner-only files and reused on the next start", () => {
  const dir = mkdtempSync(join(tmpdir(), "cqa-secrets-"));
  const first = loadOrCreateSecrets(configIn(dir));
  assert.equal(first.operatorTokenGenerated, true);
  assert.equal(first.masterKeyGenerated, true);
  assert.equal(statSync(join(dir, "operator-token")).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, "secret-key")).mode & 0o777, 0o600);
  const second = loadOrCreateSecrets(configIn(dir));
  assert.equal(second.operatorTokenGenerated, false);
  assert.equal(second.operatorToken, first.operatorToken);
  assert.equal(second.masterKey, first.masterKey);
});

test("an empty secret file left by a crash on first start is replaced, never used as a key", () => {
  const dir = mkdtempSync(join(tmpdir(), "cqa-secrets-"));
  writeFileSync(join(dir, "secret-key"), "");
  const secrets = loadOrCreateSecrets(configIn(dir));
  assert.equal(secrets.masterKeyGenerated, true);
  assert.ok(secrets.masterKey.length >= 32);
  assert.equal(readFileSync(join(dir, "secret-key"), "utf8").trim(), secrets.masterKey);
});

test("settings from the environment win over the files", () => {
  const dir = mkdtempSync(join(tmpdir(), "cqa-secrets-"));
  const token = "operator-token-from-env-0123456789";
  const secrets = loadOrCreateSecrets(configIn(dir, { CQA_OPERATOR_TOKEN: token }));
  assert.equal(secrets.operatorToken, token);
  assert.equal(secrets.operatorTokenGenerated, false);
});
