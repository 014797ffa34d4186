// ECC6x over Kafka, end to end against a real Apache Kafka broker (started by this file): events are
// consumed, stored, analysed and each result is produced to the feedback topic; poison events go to
// the dead-letter topic and the integration's dead letters; a broker restart mid-stream, a rebalance
// between two workers, pause / resume and a replay lose nothing and analyse nothing twice.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Database } from "../../src/storage/db.ts";
import { backends, type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import { brokerForThisFile, eccEvent, eventually, kafkaConfig, uniqueName } from "./support.ts";

const { broker, tool } = await brokerForThisFile();

interface Integration {
  id: string;
  topic: string;
  feedbackTopic: string;
  deadLetterTopic: string;
}

async function createIntegration(
  cqa: TestCqa,
  account: CreatedAccount,
  overrides: Record<string, unknown> = {},
  partitions = 4,
): Promise<Integration> {
  const config = kafkaConfig(broker, {
    feedback_topic: uniqueName("ecc-feedback"),
    dead_letter_topic: uniqueName("ecc-dead-letters"),
    ...overrides,
  });
  const topic = (config["topics"] as string[])[0]!;
  if (partitions > 0) await tool.createTopic(topic, partitions);
  await tool.createTopic(config["feedback_topic"] as string, 2);
  await tool.createTopic(config["dead_letter_topic"] as string, 1);
  const created = await cqa.request("POST", `/api/v1/accounts/${account.accountId}/integrations`, {
    apiKey: account.apiKey,
    body: { kind: "ecc6x_kafka", name: uniqueName("ecc6x"), config },
  });
  assert.equal(created.status, 201, created.text);
  return {
    id: created.body.data.integration_id,
    topic,
    feedbackTopic: config["feedback_topic"] as string,
    deadLetterTopic: config["dead_letter_topic"] as string,
  };
}

async function produceCalls(
  topic: string,
  ids: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  for (let i = 0; i < ids.length; i += 200) {
    await tool.produce(
      ids.slice(i, i + 200).map((id) => ({ topic, key: id, value: JSON.stringify(eccEvent(id, extra)) })),
    );
  }
}

/** Per call id: how many interactions and completed analyses the integration has. */
async function stored(db: Database, integrationId: string) {
  const interactions = await db.query<{ id: string; n: number }>(
    `SELECT external_interaction_id AS id, count(*)::int AS n FROM interactions WHERE integration_id = $1
     GROUP BY external_interaction_id`,
    [integrationId],
  );
  const analyses = await db.query<{ id: string; n: number }>(
    `SELECT i.external_interaction_id AS id, count(*)::int AS n FROM analyses a
     JOIN interactions i ON i.id = a.interaction_id
     WHERE i.integration_id = $1 AND a.status = 'completed' GROUP BY i.external_interaction_id`,
    [integrationId],
  );
  return {
    interactions: new Map(interactions.rows.map((r) => [r.id, r.n])),
    analyses: new Map(analyses.rows.map((r) => [r.id, r.n])),
  };
}

/** A run as GET …/runs shows it. */
interface RunShown {
  trigger: string;
  status: string;
  from: string | null;
  seen: number;
  ingested: number;
  duplicate: number;
  rejected: number;
  details: { offsets?: Record<string, number>; pending?: string[] };
}

const ids = (prefix: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(from + i).padStart(5, "0")}`);

describe("ECC6x Kafka, one worker", () => {
  let cqa: TestCqa;
  let account: CreatedAccount;

  /** An integration of this account on `topic` (2 partitions) starting at its end, holding its partitions. */
  async function integrationAtTheEnd(topic: string) {
    const integration = await createIntegration(
      cqa,
      account,
      { topics: [topic], start_position: { type: "latest" } },
      0,
    );
    await cqa.running.supervisor?.tick();
    const path = `/api/v1/accounts/${account.accountId}/integrations/${integration.id}`;
    await eventually("the consumer holds its partitions", async () => {
      const rows = await cqa.db.query("SELECT 1 FROM kafka_partition_offsets WHERE integration_id = $1", [
        integration.id,
      ]);
      return rows.rowCount === 2;
    });
    return { integration, path };
  }

  before(async () => {
    cqa = await startTestCqa({ loops: true });
    account = await cqa.createAccount();
  });
  after(async () => {
    await cqa?.stop();
  });

  /** The integration's replay run once it finished (GET …/runs). */
  const finishedReplayRun = async (path: string) => {
    let run: RunShown | undefined;
    await eventually("the replay's run finished", async () => {
      const runs = await cqa.request("GET", `${path}/runs`, { apiKey: account.apiKey });
      run = (runs.body.data.runs as RunShown[]).find(
        (r) => r.trigger === "backfill" && r.status !== "running",
      );
      return run !== undefined;
    });
    assert.equal(run?.status, "succeeded", JSON.stringify(run));
    return run!;
  };

  test("1,000 events become 1,000 interactions, 1,000 analyses and 1,000 feedback records, each call once", async () => {
    const integration = await createIntegration(cqa, account);
    await cqa.running.supervisor?.tick();
    const calls = ids(uniqueName("CA"), 1000);
    await produceCalls(integration.topic, calls);

    await eventually(
      "1,000 completed analyses",
      async () => (await stored(cqa.db, integration.id)).analyses.size === 1000,
      240_000,
      async () => `${(await stored(cqa.db, integration.id)).analyses.size} analysed`,
    );
    const { interactions, analyses } = await stored(cqa.db, integration.id);
    assert.deepEqual([...interactions.keys()].sort(), [...calls].sort());
    assert.ok(
      [...interactions.values()].every((n) => n === 1),
      "each call stored once",
    );
    assert.ok(
      [...analyses.values()].every((n) => n === 1),
      "each call analysed once",
    );

    let feedback: Awaited<ReturnType<typeof tool.readAll>> = [];
    await eventually(
      "1,000 feedback records",
      async () => {
        feedback = await tool.readAll(integration.feedbackTopic);
        return new Set(feedback.map((r) => r.key)).size >= 1000;
      },
      120_000,
    );
    assert.deepEqual([...new Set(feedback.map((r) => r.key))].sort(), [...calls].sort());
    const first = feedback[0]!;
    const body = JSON.parse(first.value!.toString("utf8"));
    assert.equal(body.event, "INTERACTION_ANALYSIS_COMPLETED");
    assert.equal(body.externalInteractionId, first.key, "keyed by the call SID");
    assert.equal(body.data.status, "COMPLETED");
    assert.equal(typeof body.data.finalScore, "number");
    assert.ok(Array.isArray(body.data.kpiResults) && body.data.kpiResults.length > 0, "per-KPI results");
    assert.equal(first.headers["cqa-event"], "INTERACTION_ANALYSIS_COMPLETED");
    assert.ok(first.headers["cqa-delivery-id"], "the outbox delivery id travels with the record");

    // The mapping kept what ECC sent: agent, campaign, direction, times.
    const row = await cqa.db.query<{
      metadata: Record<string, unknown>;
      duration_seconds: number;
      source: string;
    }>("SELECT metadata, duration_seconds, source FROM interactions WHERE integration_id = $1 LIMIT 1", [
      integration.id,
    ]);
    assert.equal(row.rows[0]?.metadata["agent_id"], "A-1042");
    assert.equal(row.rows[0]?.metadata["campaign"], "billing-support");
    assert.equal(row.rows[0]?.metadata["direction"], "INBOUND");
    assert.equal(row.rows[0]?.duration_seconds, 312);
    assert.equal(row.rows[0]?.source, "ecc6x");

    // Lag: per partition in the status and in /metrics, zero once caught up.
    await eventually("lag reported as caught up", async () => {
      const status = await cqa.request(
        "GET",
        `/api/v1/accounts/${account.accountId}/integrations/${integration.id}/status`,
        { apiKey: account.apiKey },
      );
      const lag = status.body.data.lag;
      return (
        lag?.partitions?.length === 4 &&
        lag.total === 0 &&
        lag.partitions.every((p: { end: number; committed: number }) => p.end === p.committed)
      );
    });
    const status = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/integrations/${integration.id}/status`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.equal(status.body.data.state, "running");
    assert.equal(
      Object.values(status.body.data.checkpoint.partitions as Record<string, number>).reduce(
        (a, b) => a + b,
        0,
      ),
      1000,
      "the checkpoint holds each partition's offset",
    );
    const metrics = await cqa.request("GET", "/metrics");
    const lines = metrics.text
      .split("\n")
      .filter((l) => l.startsWith("cqa_kafka_consumer_lag{") && l.includes(integration.id));
    assert.equal(lines.length, 4, "one lag series per partition");
    assert.ok(lines.every((l) => l.endsWith(" 0")));
  });

  test("poison events (not JSON, wrong schema, 5 MB, missing id) go to the dead-letter topic with their reason; the good ones flow", async () => {
    const integration = await createIntegration(cqa, account, {}, 1);
    await cqa.running.supervisor?.tick();
    const good = ids(uniqueName("GOOD"), 40);
    const poison = [
      { key: "p-json", value: "{ not json at all", code: "INVALID_JSON" },
      {
        key: "p-schema",
        value: JSON.stringify(eccEvent("BAD-SCHEMA-1", { start_time: "yesterday" })),
        code: "WRONG_SCHEMA",
      },
      { key: "p-array", value: JSON.stringify([1, 2, 3]), code: "WRONG_SCHEMA" },
      {
        key: "p-big",
        value: JSON.stringify(eccEvent("BIG-1", { transcript: "Agent: hello. ".repeat(380_000) })),
        code: "TOO_LARGE",
      },
      { key: "p-noid", value: JSON.stringify({ ...eccEvent("x"), call_sid: undefined }), code: "MISSING_ID" },
    ];
    assert.ok(Buffer.byteLength(poison[3]!.value) > 5 * 1024 * 1024, "the large event is over 5 MB");
    // Interleaved: good, poison, good, poison…
    const records = good.flatMap((id, i) => {
      const out = [{ topic: integration.topic, key: id, value: JSON.stringify(eccEvent(id)) }];
      const p = poison[i];
      if (i % 8 === 3 && p) out.push({ topic: integration.topic, key: p.key, value: p.value });
      return out;
    });
    for (const [i, p] of poison.entries()) {
      if (!records.some((r) => r.key === p.key))
        records.splice(5 + i * 7, 0, { topic: integration.topic, key: p.key, value: p.value });
    }
    for (const r of records) await tool.produce([r]);

    await eventually(
      "the good events stored",
      async () => (await stored(cqa.db, integration.id)).interactions.size === good.length,
    );
    const { interactions } = await stored(cqa.db, integration.id);
    assert.deepEqual([...interactions.keys()].sort(), [...good].sort());

    let letters: Awaited<ReturnType<typeof tool.readAll>> = [];
    await eventually("5 records in the dead-letter topic", async () => {
      letters = await tool.readAll(integration.deadLetterTopic);
      return letters.length >= poison.length;
    });
    assert.equal(letters.length, poison.length, "each poison event copied once");
    for (const p of poison) {
      const letter = letters.find((l) => l.key === p.key);
      assert.ok(letter, `${p.key} is in the dead-letter topic`);
      assert.equal(
        letter.headers["cqa-error-code"],
        p.code,
        `${p.key}: ${letter.headers["cqa-error-reason"]}`,
      );
      assert.ok((letter.headers["cqa-error-reason"] ?? "").length > 20, "with a reason");
      assert.equal(letter.headers["cqa-source-topic"], integration.topic);
      assert.match(letter.headers["cqa-source-offset"] ?? "", /^\d+$/);
    }
    assert.equal(
      letters.find((l) => l.key === "p-big")?.headers["cqa-truncated"],
      "true",
      "a huge payload is cut",
    );
    assert.match(
      letters.find((l) => l.key === "p-schema")?.headers["cqa-error-reason"] ?? "",
      /interaction_start_time must be an ISO-8601 date-time/,
    );

    const api = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/integrations/${integration.id}/dead-letters?status=open`,
      { apiKey: account.apiKey },
    );
    assert.equal(api.body.data.pagination.total, poison.length, "and in the integration's dead letters");
    const reasons = api.body.data.dead_letters.map(
      (l: { source_ref: string; reason: string }) => `${l.source_ref} ${l.reason}`,
    );
    assert.ok(reasons.some((r: string) => /not JSON/.test(r)));
    assert.ok(reasons.some((r: string) => /over the 1048576-byte limit/.test(r)));
    assert.ok(reasons.some((r: string) => /no call id at 'call_sid'/.test(r)));
    assert.ok(
      reasons.every((r: string) => new RegExp(`^${integration.topic}/0@\\d+ `).test(r)),
      "each says where it came from",
    );
  });

  test("pause stops consuming, resume continues where it stopped; a replay from a time backfills what a new group skipped", async () => {
    // Events older than the integration, which starts at the end of the topic (start_position latest).
    const topic = uniqueName("ecc-events");
    await tool.createTopic(topic, 2);
    const old = ids(uniqueName("OLD"), 25);
    await produceCalls(topic, old);
    const { integration, path } = await integrationAtTheEnd(topic);
    const before = ids(uniqueName("BEFORE"), 30);
    await produceCalls(topic, before);
    await eventually(
      "the new events stored",
      async () => (await stored(cqa.db, integration.id)).interactions.size === 30,
    );
    assert.deepEqual(
      [...(await stored(cqa.db, integration.id)).interactions.keys()].sort(),
      [...before].sort(),
      "older events skipped",
    );

    const paused = await cqa.request("POST", `${path}/pause`, { apiKey: account.apiKey });
    assert.equal(paused.body.data.state, "paused");
    await cqa.running.supervisor?.tick();
    assert.equal(cqa.running.supervisor?.runningStreams().includes(integration.id), false);
    const during = ids(uniqueName("DURING"), 20);
    await produceCalls(topic, during);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(
      (await stored(cqa.db, integration.id)).interactions.size,
      30,
      "nothing consumed while paused",
    );

    await cqa.request("POST", `${path}/resume`, { apiKey: account.apiKey });
    await cqa.running.supervisor?.tick();
    await eventually(
      "the events sent while paused stored",
      async () => (await stored(cqa.db, integration.id)).interactions.size === 50,
    );

    const replay = await cqa.request("POST", `${path}/run`, {
      apiKey: account.apiKey,
      body: { from: "2000-01-01T00:00:00Z" },
    });
    assert.equal(replay.status, 202, replay.text);
    await cqa.running.supervisor?.tick();
    await eventually(
      "the replay backfilled the older events",
      async () => (await stored(cqa.db, integration.id)).interactions.size === 75,
    );
    await eventually("all analysed", async () => (await stored(cqa.db, integration.id)).analyses.size === 75);
    const { interactions, analyses } = await stored(cqa.db, integration.id);
    assert.deepEqual([...interactions.keys()].sort(), [...old, ...before, ...during].sort());
    assert.ok(
      [...interactions.values()].every((n) => n === 1),
      "a replay stores nothing twice",
    );
    assert.ok(
      [...analyses.values()].every((n) => n === 1),
      "and analyses nothing twice",
    );
    // The replay is a run: what it re-read, what was new, what was already stored.
    const replayRun = await finishedReplayRun(path);
    assert.equal(replayRun.trigger, "backfill");
    assert.equal(replayRun.from, "2000-01-01T00:00:00.000Z");
    assert.deepEqual(
      [replayRun.seen, replayRun.ingested, replayRun.duplicate, replayRun.rejected],
      [75, 25, 50, 0],
    );
  });

  test("a replay from offsets backfills from exactly there: earlier events stay out, later ones stored once, re-read ones counted as duplicates; bad offsets are refused with the reason", async () => {
    const topic = uniqueName("ecc-events");
    await tool.createTopic(topic, 2);
    const old = ids(uniqueName("OLD"), 40);
    await produceCalls(topic, old);
    // A new group at the end of the topic skips the older events.
    const { integration, path } = await integrationAtTheEnd(topic);
    const live = ids(uniqueName("LIVE"), 16);
    await produceCalls(topic, live);
    await eventually(
      "the live events stored",
      async () => (await stored(cqa.db, integration.id)).interactions.size === 16,
    );

    // Where each older event is; the replay starts half-way through each partition's older events.
    const placed = (await tool.readAll(topic)).filter((r) => old.includes(r.key ?? ""));
    const start: Record<string, number> = {};
    const ends: Record<number, number> = {};
    for (const partition of [0, 1]) {
      const offsets = placed.filter((r) => r.partition === partition).map((r) => Number(r.offset));
      start[String(partition)] = offsets.length > 0 ? offsets[Math.floor(offsets.length / 2)]! : 0;
      ends[partition] = (await tool.readAll(topic)).filter((r) => r.partition === partition).length;
    }
    const backfilled = placed
      .filter((r) => Number(r.offset) >= start[String(r.partition)]!)
      .map((r) => r.key!);
    const skipped = old.filter((id) => !backfilled.includes(id));
    assert.ok(backfilled.length > 0 && skipped.length > 0);

    const replay = (body: unknown) => cqa.request("POST", `${path}/run`, { apiKey: account.apiKey, body });
    const refused = async (body: unknown, reason: RegExp) => {
      const answer = await replay(body);
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.body.error.code, "VALIDATION_ERROR");
      assert.match(answer.body.message, reason);
    };
    await refused({ offsets: { [topic]: { "0": -1 } } }, /offset cannot be negative/);
    await refused({ offsets: { [topic]: { zero: 1 } } }, /'zero' is not a partition number/);
    await refused({ offsets: {} }, /offsets must name at least one topic and partition/);
    await refused(
      { offsets: { [topic]: { "0": 0 } }, from: "2026-01-01T00:00:00Z" },
      /either \{from\} \(a time\) or \{offsets\}/,
    );
    await refused(
      { offsets: { "ecc.someone-else": { "0": 0 } } },
      new RegExp(`topic 'ecc.someone-else' is not one this integration reads \\(it reads '${topic}'\\)`),
    );
    await refused(
      { offsets: { [topic]: { "2": 0 } } },
      new RegExp(`topic '${topic}' has no partition 2 \\(it has partitions 0 to 1\\)`),
    );
    await refused(
      { offsets: { [topic]: { "1": ends[1]! + 5 } } },
      new RegExp(
        `${ends[1]! + 5} is past the end of ${topic}/1, whose next offset is ${ends[1]}: give an offset from 0 to ${ends[1]}`,
      ),
    );
    // A topic the config names but the cluster does not have.
    const absent = await cqa.request("POST", `/api/v1/accounts/${account.accountId}/integrations`, {
      apiKey: account.apiKey,
      body: {
        kind: "ecc6x_kafka",
        name: uniqueName("ecc6x"),
        config: kafkaConfig(broker, { topics: ["ecc.never-created"] }),
        enabled: false,
      },
    });
    const absentRun = await cqa.request(
      "POST",
      `/api/v1/accounts/${account.accountId}/integrations/${absent.body.data.integration_id}/run`,
      { apiKey: account.apiKey, body: { offsets: { "ecc.never-created": { "0": 0 } } } },
    );
    assert.equal(absentRun.status, 400, absentRun.text);
    assert.match(absentRun.body.message, /topic 'ecc\.never-created' does not exist on the cluster/);

    const checkpoint = await cqa.request("GET", `${path}/status`, { apiKey: account.apiKey });
    assert.deepEqual(
      checkpoint.body.data.checkpoint.partitions,
      { [`${topic}/0`]: ends[0], [`${topic}/1`]: ends[1] },
      "a refused replay moves nothing",
    );

    const accepted = await replay({ offsets: { [topic]: start } });
    assert.equal(accepted.status, 202, accepted.text);
    await cqa.running.supervisor?.tick();
    await eventually(
      "the replay backfilled the events from the offsets on",
      async () => (await stored(cqa.db, integration.id)).interactions.size === 16 + backfilled.length,
    );
    const run = await finishedReplayRun(path);
    assert.deepEqual(
      [run.seen, run.ingested, run.duplicate, run.rejected],
      [backfilled.length + live.length, backfilled.length, live.length, 0],
      "the live events were read again and counted as duplicates",
    );
    assert.equal(run.from, null);
    assert.deepEqual(run.details.offsets, { [`${topic}/0`]: start["0"], [`${topic}/1`]: start["1"] });
    assert.deepEqual(run.details.pending, []);
    await eventually(
      "all analysed",
      async () => (await stored(cqa.db, integration.id)).analyses.size === 16 + backfilled.length,
    );
    const { interactions, analyses } = await stored(cqa.db, integration.id);
    assert.deepEqual([...interactions.keys()].sort(), [...backfilled, ...live].sort());
    assert.ok(
      skipped.every((id) => !interactions.has(id)),
      "events before the offsets are not ingested",
    );
    assert.ok(
      [...interactions.values()].every((n) => n === 1),
      "stored once",
    );
    assert.ok(
      [...analyses.values()].every((n) => n === 1),
      "analysed once",
    );
    // And consumption goes on live after the replay.
    const after = ids(uniqueName("AFTER"), 4);
    await produceCalls(topic, after);
    await eventually(
      "new events after the replay stored",
      async () => (await stored(cqa.db, integration.id)).interactions.size === 20 + backfilled.length,
    );
    await cqa.request("POST", `${path}/pause`, { apiKey: account.apiKey });
    await cqa.running.supervisor?.tick();
  });

  test("the broker stopped and started mid-stream: cqa reconnects and catches up by itself", async () => {
    const integration = await createIntegration(cqa, account, {}, 3);
    await cqa.running.supervisor?.tick();
    const calls = ids(uniqueName("OUTAGE"), 300);
    await produceCalls(integration.topic, calls.slice(0, 150));
    await eventually(
      "some events stored",
      async () => (await stored(cqa.db, integration.id)).interactions.size > 0,
    );
    await broker.halt();
    await eventually(
      "the status shows the outage",
      async () => {
        const status = await cqa.request(
          "GET",
          `/api/v1/accounts/${account.accountId}/integrations/${integration.id}/status`,
          {
            apiKey: account.apiKey,
          },
        );
        return (
          status.body.data.state === "failing" &&
          /cannot reach the brokers/.test(status.body.data.last_error ?? "")
        );
      },
      60_000,
    );
    await broker.restart();
    await produceCalls(integration.topic, calls.slice(150));
    await eventually(
      "all 300 stored and analysed after the outage",
      async () => (await stored(cqa.db, integration.id)).analyses.size === 300,
      180_000,
      async () => `${(await stored(cqa.db, integration.id)).interactions.size} stored`,
    );
    const { interactions, analyses } = await stored(cqa.db, integration.id);
    assert.deepEqual([...interactions.keys()].sort(), [...calls].sort());
    assert.ok([...analyses.values()].every((n) => n === 1));
    await eventually("the status is healthy again", async () => {
      const s = await cqa.request(
        "GET",
        `/api/v1/accounts/${account.accountId}/integrations/${integration.id}/status`,
        {
          apiKey: account.apiKey,
        },
      );
      return s.body.data.state === "running";
    });
  });
});

describe("ECC6x Kafka, two workers in one group", () => {
  const backend = backends().at(-1)!;
  let db: Database;
  let first: TestCqa;
  let second: TestCqa | null = null;
  let account: CreatedAccount;

  before(async () => {
    db = await backend.open();
    first = await startTestCqa({ backend, database: db, loops: true });
    account = await first.createAccount();
  });
  after(async () => {
    await second?.stop();
    await first?.stop();
    await db?.close();
  });

  test(`a rebalance mid-stream (a second worker joins, then leaves) still gives one analysis per event (${backend.name})`, async () => {
    const integration = await createIntegration(first, account, {}, 6);
    await first.running.supervisor?.tick();
    const calls = ids(uniqueName("REBAL"), 900);
    await produceCalls(integration.topic, calls.slice(0, 300));
    await eventually(
      "the first worker consuming",
      async () => (await stored(db, integration.id)).interactions.size > 0,
    );

    second = await startTestCqa({ backend, database: db, loops: true });
    await second.running.supervisor?.tick();
    await produceCalls(integration.topic, calls.slice(300, 600));
    await eventually("both workers own partitions", async () => {
      const rows = await db.query<{ owner: string }>(
        "SELECT DISTINCT split_part(owner, '#', 1) AS owner FROM kafka_partition_offsets WHERE integration_id = $1 AND owner IS NOT NULL",
        [integration.id],
      );
      return rows.rows.length === 2;
    });
    await produceCalls(integration.topic, calls.slice(600, 750));
    await second.stop();
    second = null;
    await produceCalls(integration.topic, calls.slice(750));

    await eventually(
      "all 900 analysed",
      async () => (await stored(db, integration.id)).analyses.size === 900,
      240_000,
      async () => `${(await stored(db, integration.id)).analyses.size} analysed`,
    );
    const { interactions, analyses } = await stored(db, integration.id);
    assert.deepEqual([...interactions.keys()].sort(), [...calls].sort());
    assert.ok(
      [...interactions.values()].every((n) => n === 1),
      "each event stored once",
    );
    assert.ok(
      [...analyses.values()].every((n) => n === 1),
      "each event analysed once",
    );
    let feedback: Awaited<ReturnType<typeof tool.readAll>> = [];
    await eventually("a feedback record per event", async () => {
      feedback = await tool.readAll(integration.feedbackTopic);
      return new Set(feedback.map((r) => r.key)).size === 900;
    });
  });
});
