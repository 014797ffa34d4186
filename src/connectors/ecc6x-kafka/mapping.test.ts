import assert from "node:assert/strict";
import { test } from "node:test";
import { ecc6xKafkaConfigSchema } from "./config.ts";
import { mapEvent } from "./mapping.ts";

const defaults = ecc6xKafkaConfigSchema.parse({ brokers: ["kafka:9092"], topics: ["ecc.conversations"] });
const event = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));

test("the documented default event maps to the canonical item: call SID, agent, campaign, times, transcript", () => {
  const mapped = mapEvent(
    event({
      call_sid: "CA7f3c",
      channel: "voice",
      direction: "INBOUND",
      agent: { id: "A-1042", name: "Priya" },
      campaign: "billing",
      start_time: "2026-05-01T10:15:00Z",
      end_time: 1777630812000,
      duration_seconds: "312.4",
      recording_url: "https://vla.example/CA7f3c.wav",
      transcript: [
        { speaker: "agent", text: "Hello" },
        { speaker: "CUSTOMER", text: "Hi" },
      ],
      metadata: { queue: "billing-en" },
    }),
    defaults.event,
  );
  assert.ok(mapped.ok);
  assert.deepEqual(mapped.item, {
    external_interaction_id: "CA7f3c",
    channel_type: "VOICE",
    source: "ecc6x",
    interaction_start_time: "2026-05-01T10:15:00Z",
    duration_seconds: 312,
    audio_url: "https://vla.example/CA7f3c.wav",
    transcript_text: "Agent: Hello\nCustomer: Hi",
    metadata: {
      queue: "billing-en",
      direction: "INBOUND",
      agent_id: "A-1042",
      agent_name: "Priya",
      campaign: "billing",
      end_time: "2026-05-01T10:20:12.000Z",
    },
  });
});

test("a Voice Log reference becomes the recording URL through the template", () => {
  const settings = ecc6xKafkaConfigSchema.parse({
    brokers: ["kafka:9092"],
    topics: ["t"],
    event: { voice_log_url_template: "https://vla.internal/rec/{voice_log_id}.wav" },
  }).event;
  const mapped = mapEvent(event({ call_sid: 42, voice_log_id: "VL 9" }), settings);
  assert.ok(mapped.ok);
  assert.equal(mapped.externalId, "42");
  assert.equal(mapped.item["audio_url"], "https://vla.internal/rec/VL%209.wav");
  assert.equal((mapped.item["metadata"] as Record<string, unknown>)["voice_log_id"], "VL 9");
});

test("a deployment's own event shape maps through event.mapping", () => {
  const settings = ecc6xKafkaConfigSchema.parse({
    brokers: ["kafka:9092"],
    topics: ["t"],
    event: {
      mapping: {
        external_interaction_id: "callId",
        recording_url: "rec.url",
        agent_id: "agentLogin",
        campaign: null,
      },
    },
  }).event;
  const mapped = mapEvent(
    event({ callId: "X1", rec: { url: "https://r/x.wav" }, agentLogin: "priya", campaign: "ignored" }),
    settings,
  );
  assert.ok(mapped.ok);
  assert.equal(mapped.item["audio_url"], "https://r/x.wav");
  assert.deepEqual(mapped.item["metadata"], { agent_id: "priya" });
});

test("poison events are named with a reason: empty, too large, not JSON, not an object, no call id", () => {
  const small = { ...defaults.event, max_bytes: 1024 };
  const cases: [Buffer | null, string, RegExp][] = [
    [null, "EMPTY", /no value/],
    [Buffer.alloc(2000, 32), "TOO_LARGE", /2000 bytes, over the 1024-byte limit/],
    [event("{ nope"), "INVALID_JSON", /not JSON/],
    [event([1, 2]), "WRONG_SCHEMA", /not an object \(got an array\)/],
    [event({ agent: { id: "A" } }), "MISSING_ID", /no call id at 'call_sid'/],
    [event({ call_sid: { nested: true } }), "WRONG_SCHEMA", /must be a string or a number/],
  ];
  for (const [value, code, reason] of cases) {
    const mapped = mapEvent(value, small);
    assert.equal(mapped.ok, false);
    if (!mapped.ok) {
      assert.equal(mapped.code, code);
      assert.match(mapped.reason, reason);
    }
  }
});

test("a bad config is refused with paths and reasons an admin can act on", () => {
  const result = ecc6xKafkaConfigSchema.safeParse({
    brokers: ["kafka"],
    topics: ["has space"],
    sasl: { mechanism: "GSSAPI", username: "u", password: "p" },
    tls: { enabled: true, cert: "-----BEGIN CERTIFICATE-----" },
  });
  assert.equal(result.success, false);
  const messages = result.error?.issues.map((i) => i.message).join("\n") ?? "";
  assert.match(messages, /must be host:port/);
  assert.match(messages, /must be a Kafka topic name/);
  assert.match(messages, /PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512/);
  assert.match(messages, /tls.cert and tls.key go together/);
});
