import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "./config.ts";

test("defaults give the embedded all-in-one process on port 8080", () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.role, "all");
  assert.equal(config.databaseUrl, null);
  assert.match(config.dataDir, /data$/);
});

test("every bad setting is reported at once, each saying what would be right", () => {
  assert.throws(
    () =>
      loadConfig({
        CQA_PORT: "eighty",
        CQA_ROLE: "boss",
        DATABASE_URL: "mysql://x",
        CQA_SECRET_KEY: "short",
      }),
    (error: Error) => {
      assert.match(error.message, /CQA_PORT must be a whole number from 0 to 65535 \(got 'eighty'\)/);
      assert.match(error.message, /CQA_ROLE must be one of all, api, worker \(got 'boss'\)/);
      assert.match(error.message, /DATABASE_URL must be a PostgreSQL URL/);
      assert.match(error.message, /CQA_SECRET_KEY must be at least 32 characters/);
      return true;
    },
  );
});

test("a config file supplies settings and the environment overrides it", () => {
  const dir = mkdtempSync(join(tmpdir(), "cqa-config-"));
  const file = join(dir, "cqa.json");
  writeFileSync(file, JSON.stringify({ CQA_PORT: 9090, CQA_WORKER_CONCURRENCY: 2 }));
  const config = loadConfig({ CQA_CONFIG_FILE: file, CQA_WORKER_CONCURRENCY: "8" });
  assert.equal(config.port, 9090);
  assert.equal(config.workerConcurrency, 8);
});

test("an unreadable config file is named in the error", () => {
  assert.throws(
    () => loadConfig({ CQA_CONFIG_FILE: "/nonexistent/cqa.json" }),
    /CQA_CONFIG_FILE=\/nonexistent\/cqa.json cannot be read/,
  );
});
