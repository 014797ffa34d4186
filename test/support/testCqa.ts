import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import type { AnyConnectorDefinition } from "../../src/connectors/registry.ts";
import type { Clock } from "../../src/core/clock.ts";
import { type RunningCqa, startCqa } from "../../src/server/runtime.ts";
import type { Database } from "../../src/storage/db.ts";
import { type TestDatabase, testDatabases } from "../../src/storage/testing.ts";

export const operatorToken = "test-operator-token-0123456789abcdef";
export const secretKey = "test-master-key-0123456789abcdef0123456789";

export interface TestResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
  text: string;
}

export interface RequestOptions {
  apiKey?: string;
  bearer?: string;
  body?: unknown;
  /** Sent as is (for invalid JSON and multipart). */
  rawBody?: RequestInit["body"];
  headers?: Record<string, string>;
}

export interface CreatedAccount {
  accountId: string;
  apiKey: string;
  apiKeyId: string;
  signingSecret: string;
  starterProfileId: string;
  catchAllRuleId: string;
}

export interface TestCqa {
  running: RunningCqa;
  db: Database;
  backend: string;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  createAccount(input?: Record<string, unknown>): Promise<CreatedAccount>;
  /** Runs every due job and sends every due webhook until nothing is left (loops are off). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestCqaOptions {
  backend?: TestDatabase;
  /**
   * Run on this already-open database instead of a fresh one (a "restart" of cqa on the same
   * storage); the caller keeps it open after stop().
   */
  database?: Database;
  clock?: Clock;
  env?: Record<string, string>;
  /** Open a real port (default: in-process requests only). */
  listen?: boolean;
  /** Run the worker and dispatcher loops (default false: call drain()). */
  loops?: boolean;
  /** How long a webhook receiver gets to answer (default 10 s). */
  webhookTimeoutMs?: number;
  /** Connector kinds beside the built-in ones (see testConnectors.ts). */
  connectors?: readonly AnyConnectorDefinition[];
}

/** The storage backends to run a suite on: PGlite always, PostgreSQL when the test run found one. */
export function backends(): TestDatabase[] {
  return testDatabases();
}

/** An in-process cqa on a fresh database, with loopback fetches allowed for local test servers. */
export async function startTestCqa(options: TestCqaOptions = {}): Promise<TestCqa> {
  const backend = options.backend ?? testDatabases()[0]!;
  const db = options.database ?? (await backend.open());
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-test-"));
  const config = loadConfig({
    CQA_DATA_DIR: dataDir,
    CQA_PORT: "0",
    CQA_HOST: "127.0.0.1",
    CQA_FETCH_ALLOW: "127.0.0.1/8,localhost",
    CQA_OPERATOR_TOKEN: operatorToken,
    CQA_SECRET_KEY: secretKey,
    CQA_LOG_LEVEL: "silent",
    // The SFTP endpoint only where a test asks for it (CQA_SFTP_PORT: "0" picks a free port).
    CQA_SFTP_PORT: "off",
    CQA_SHUTDOWN_GRACE_MS: "2000",
    ...options.env,
  });
  const running = await startCqa({
    config,
    database: db,
    listen: options.listen ?? false,
    runLoops: options.loops ?? false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.webhookTimeoutMs ? { webhookTimeoutMs: options.webhookTimeoutMs } : {}),
    ...(options.connectors ? { extraConnectors: options.connectors } : {}),
  });

  const request = async (method: string, path: string, req: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.apiKey) headers["x-api-key"] = req.apiKey;
    if (req.bearer) headers["authorization"] = `Bearer ${req.bearer}`;
    let body: RequestInit["body"] | undefined = req.rawBody;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers["content-type"] ??= "application/json";
    }
    const response = await running.app.request(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  return {
    running,
    db,
    backend: backend.name,
    request,
    async createAccount(input = {}) {
      const answer = await request("POST", "/api/v1/accounts", {
        bearer: operatorToken,
        body: { name: "Test account", limits: { conversation_cap: "unlimited" }, ...input },
      });
      if (answer.status !== 201) throw new Error(`createAccount answered ${answer.status}: ${answer.text}`);
      const data = answer.body.data;
      return {
        accountId: data.account_id,
        apiKey: data.api_key,
        apiKeyId: data.api_key_id,
        signingSecret: data.webhook_signing_secret,
        starterProfileId: data.starter_profile_id,
        catchAllRuleId: data.catch_all_rule_id,
      };
    },
    async drain() {
      for (let round = 0; round < 200; round++) {
        const jobs = (await running.worker?.drain()) ?? 0;
        const sent = (await running.dispatcher?.deliverDue()) ?? 0;
        const returned = (await running.results?.deliverDue()) ?? 0;
        if (jobs === 0 && sent === 0 && returned === 0) return;
      }
      throw new Error("drain(): work kept appearing after 200 rounds");
    },
    async stop() {
      await running.stop();
      if (!options.database) await db.close();
    },
  };
}
