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
  assert.equal(config.databasePreparedStatements, true);
});

test("prepared statements on PostgreSQL can be turned off for a pooler that cannot keep them", () => {
  assert.equal(loadConfig({ CQA_DATABASE_PREPARED_STATEMENTS: "off" }).databasePreparedStatements, false);
  assert.throws(
    () => loadConfig({ CQA_DATABASE_PREPARED_STATEMENTS: "maybe" }),
    /CQA_DATABASE_PREPARED_STATEMENTS must be one of on, off \(got 'maybe'\)/,
  );
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

test("analysis engine settings: defaults, an OpenAI-compatible server, and every mistake named", () => {
  const defaults = loadConfig({}).analysis;
  assert.equal(defaults.transcriber, "auto");
  assert.equal(defaults.maxAudioSeconds, 14_400);
  assert.equal(defaults.transcription, null);
  assert.equal(defaults.pocketsphinxModelDir, "/usr/share/pocketsphinx/model/en-us");
  const served = loadConfig({
    CQA_TRANSCRIBER: "openai",
    CQA_TRANSCRIBE_URL: "https://api.openai.com/v1/",
    CQA_TRANSCRIBE_API_KEY: "sk-x",
    CQA_TRANSCRIBE_MAX_PER_MINUTE: "50",
  }).analysis;
  assert.deepEqual(served.transcription, {
    baseUrl: "https://api.openai.com/v1",
    apiKey: "sk-x",
    model: "whisper-1",
    timeoutMs: 300_000,
    requestsPerMinute: 50,
  });
  assert.throws(
    () =>
      loadConfig({
        CQA_TRANSCRIBER: "openai",
        CQA_LLM_URL: "ftp://llm",
        CQA_MAX_AUDIO_SECONDS: "5",
      }),
    (error: Error) => {
      assert.match(error.message, /CQA_TRANSCRIBER=openai needs CQA_TRANSCRIBE_URL/);
      assert.match(error.message, /CQA_LLM_URL must be an http\(s\) base URL ending with the API version/);
      assert.match(
        error.message,
        /CQA_MAX_AUDIO_SECONDS must be a whole number from 10 to 86400 \(got '5'\)/,
      );
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ CQA_LLM_URL: "http://llm:8000/v1" }),
    /CQA_LLM_MODEL must name the model to use/,
  );
});

test("the SFTP endpoint listens on 2222 unless CQA_SFTP_PORT names another port or turns it off", () => {
  assert.equal(loadConfig({}).sftpPort, 2222);
  assert.equal(loadConfig({ CQA_SFTP_PORT: "2022" }).sftpPort, 2022);
  assert.equal(loadConfig({ CQA_SFTP_PORT: "off" }).sftpPort, null);
  assert.throws(
    () => loadConfig({ CQA_SFTP_PORT: "sftp" }),
    /CQA_SFTP_PORT must be the port of the SFTP endpoint, a whole number from 1 to 65535 \(0 = any free port\), or 'off' to run without it \(got 'sftp'\)/,
  );
});
