// Shared by the Kafka tests: one real broker per test file (started by the file, stopped after it,
// even when a test fails), ECC6x events, and a tool to create topics and produce or read records.
import assert from "node:assert/strict";
import { after } from "node:test";
import { type KafkaBroker, type KafkaBrokerOptions, startKafkaBroker } from "../../scripts/kafka/broker.ts";
import { KafkaTestTool } from "../../src/connectors/ecc6x-kafka/kafkaClient.ts";

let counter = 0;

/** A name no other test of this run uses (topics, groups). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/**
 * Starts a broker for this test file and stops it when the file's tests are done. The tool signs in as
 * the super user when SASL is on, and trusts `toolCa` when the broker's listener is TLS.
 */
export async function brokerForThisFile(
  options: KafkaBrokerOptions = {},
  toolCa: string | null = null,
): Promise<{ broker: KafkaBroker; tool: KafkaTestTool }> {
  const broker = await startKafkaBroker(options);
  const tool = new KafkaTestTool({
    brokers: [broker.bootstrap],
    client_id: "cqa-test",
    tls: {
      enabled: options.tls !== undefined,
      ca: toolCa,
      cert: null,
      key: null,
      server_name: null,
      reject_unauthorized: true,
    },
    sasl: broker.admin
      ? { mechanism: "PLAIN", username: broker.admin.username, password: broker.admin.password }
      : null,
  });
  after(async () => {
    await tool.close().catch(() => {});
    await broker.stop();
  });
  return { broker, tool };
}

/** An ECC6x conversation event in the documented default schema, with a supplied transcript. */
export function eccEvent(callSid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    call_sid: callSid,
    event_type: "CONVERSATION_ENDED",
    channel: "VOICE",
    direction: "INBOUND",
    agent: { id: "A-1042", name: "Priya" },
    campaign: "billing-support",
    start_time: "2026-05-01T10:15:00Z",
    end_time: "2026-05-01T10:20:12Z",
    duration_seconds: 312,
    transcript:
      "Agent: Thank you for calling Acme, my name is Priya. How can I help you today?\n" +
      "Customer: I was charged twice for my order.\n" +
      "Agent: I am sorry about that, let me check it for you.\n" +
      "Agent: Is there anything else I can help you with today?",
    ...extra,
  };
}

/** The config of an ECC6x integration on this broker. */
export function kafkaConfig(
  broker: KafkaBroker,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    brokers: [broker.bootstrap],
    topics: [uniqueName("ecc-events")],
    group_id: uniqueName("cqa"),
    start_position: { type: "earliest" },
    consumer: { session_timeout_ms: 6000, max_wait_ms: 100, max_batch_records: 500 },
    ...overrides,
  };
}

/** Waits until `check` answers true (polling; bounded — a test fails instead of hanging). */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 90_000,
  describe?: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out waiting for ${what}${describe ? `: ${await describe()}` : ""}`);
}

/** What "test connection" answers: each check in order, and whether all passed. */
export interface ConnectionVerdict {
  ok: boolean;
  checks: { name: string; ok: boolean; message: string }[];
}

/** Asserts that the checks before `failed` passed, that `failed` was the one that stopped it, and what it said. */
export function assertStopsAt(
  verdict: ConnectionVerdict,
  passed: string[],
  failed: string,
  message: RegExp,
): void {
  assert.equal(verdict.ok, false);
  assert.deepEqual(
    verdict.checks.map((c) => [c.name, c.ok]),
    [...passed.map((name) => [name, true]), [failed, false]],
    JSON.stringify(verdict.checks),
  );
  assert.match(verdict.checks.find((c) => c.name === failed)?.message ?? "", message);
}
