// Kill -9 of `cqa serve` while it consumes an ECC6x topic on a real Apache Kafka broker, on the
// embedded database and on PostgreSQL: after a restart nothing is lost, nothing is analysed twice,
// and every call gets its feedback record (a re-sent one is the same result, same delivery id).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  type ChildLog,
  type CqaChild,
  childLog,
  crashStorages,
  freePort,
  operatorToken,
  startCqaChild,
} from "../reliability/support/cqaProcess.ts";
import { brokerForThisFile, eccEvent, uniqueName } from "./support.ts";

const { broker, tool } = await brokerForThisFile();
const total = 600;

async function call(child: CqaChild, method: string, path: string, body?: unknown, apiKey?: string) {
  const response = await fetch(`${child.url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(apiKey ? { "x-api-key": apiKey } : { authorization: `Bearer ${operatorToken}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

for (const storage of crashStorages()) {
  describe(`ECC6x Kafka, kill -9 mid-stream (${storage.name})`, () => {
    const log: ChildLog = childLog();
    let child: CqaChild | null = null;
    after(async () => {
      await child?.kill9().catch(() => {});
    });

    test("restart: nothing lost, nothing analysed twice, a feedback record per call", async (t) => {
      const store = await storage.create();
      t.after(() => store.dispose());
      const port = await freePort();
      const topic = uniqueName("ecc-events");
      const feedbackTopic = uniqueName("ecc-feedback");
      await tool.createTopic(topic, 3);
      await tool.createTopic(feedbackTopic, 2);
      try {
        // On PostgreSQL a dead process's jobs wait out their lease: keep it short, as another worker would see it.
        const env: Record<string, string> = store.name === "postgres" ? { CQA_JOB_LEASE_MS: "10000" } : {};
        child = startCqaChild({ storage: store, port, log, label: "first", env });
        await child.ready;
        const account = await call(child, "POST", "/api/v1/accounts", {
          name: "Crash test",
          limits: { conversation_cap: "unlimited" },
        });
        assert.equal(account.status, 201);
        const accountId = account.body.data.account_id as string;
        const apiKey = account.body.data.api_key as string;
        const created = await call(
          child,
          "POST",
          `/api/v1/accounts/${accountId}/integrations`,
          {
            kind: "ecc6x_kafka",
            name: "ECC6x",
            config: {
              brokers: [broker.bootstrap],
              topics: [topic],
              group_id: uniqueName("cqa"),
              feedback_topic: feedbackTopic,
              consumer: { session_timeout_ms: 6000, max_wait_ms: 100, max_batch_records: 50 },
            },
          },
          apiKey,
        );
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const statusPath = `/api/v1/accounts/${accountId}/integrations/${created.body.data.integration_id}/status`;
        const storedCount = async (c: CqaChild) => {
          const status = await call(c, "GET", statusPath, undefined, apiKey);
          const partitions = (status.body?.data?.checkpoint?.partitions ?? {}) as Record<string, number>;
          return Object.values(partitions).reduce((a, b) => a + b, 0);
        };

        // Events keep arriving while the process is killed.
        const calls = Array.from({ length: total }, (_, i) => `${uniqueName("CRASH")}-${i}`);
        const producing = (async () => {
          for (let i = 0; i < calls.length; i += 20) {
            await tool.produce(
              calls.slice(i, i + 20).map((id) => ({ topic, key: id, value: JSON.stringify(eccEvent(id)) })),
            );
            await delay(40);
          }
        })();
        const deadline = Date.now() + 120_000;
        while ((await storedCount(child)) < 150) {
          assert.ok(
            Date.now() < deadline,
            `the first process did not store 150 events in time\n${log.text()}`,
          );
          await delay(50);
        }
        await child.kill9();
        const storedBeforeKill = await store.inspect(async (db) =>
          Number(
            (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM interactions")).rows[0]?.n ?? 0,
          ),
        );
        assert.ok(storedBeforeKill < total, "killed mid-stream");

        child = startCqaChild({ storage: store, port, log, label: "second", env });
        await child.ready;
        await producing;
        const restartDeadline = Date.now() + 180_000;
        let feedback: Awaited<ReturnType<typeof tool.readAll>> = [];
        for (;;) {
          feedback = await tool.readAll(feedbackTopic);
          if (new Set(feedback.map((r) => r.key)).size >= total) break;
          assert.ok(
            Date.now() < restartDeadline,
            `after the restart: ${await storedCount(child)} stored, ${new Set(feedback.map((r) => r.key)).size} fed back\n${log.text().slice(-5000)}`,
          );
          await delay(250);
        }
        await child.stop();
        child = null;

        await store.inspect(async (db) => {
          const interactions = await db.query<{ id: string; n: number }>(
            "SELECT external_interaction_id AS id, count(*)::int AS n FROM interactions GROUP BY 1",
          );
          assert.deepEqual(interactions.rows.map((r) => r.id).sort(), [...calls].sort(), "nothing lost");
          assert.ok(
            interactions.rows.every((r) => r.n === 1),
            "nothing stored twice",
          );
          const analyses = await db.query<{ id: string; n: number }>(
            `SELECT i.external_interaction_id AS id, count(*)::int AS n FROM analyses a
             JOIN interactions i ON i.id = a.interaction_id WHERE a.status = 'completed' GROUP BY 1`,
          );
          assert.equal(analyses.rows.length, total, "every call analysed");
          assert.ok(
            analyses.rows.every((r) => r.n === 1),
            "no analysis duplicated",
          );
        });
        // At least once on the feedback topic: a record sent again carries the same result.
        const byKey = new Map<string, Set<string>>();
        for (const record of feedback) {
          const set = byKey.get(record.key ?? "") ?? new Set<string>();
          set.add(record.headers["cqa-delivery-id"] ?? "");
          byKey.set(record.key ?? "", set);
        }
        assert.equal(byKey.size, total);
        assert.ok(
          [...byKey.values()].every((s) => s.size === 1),
          "one result per call",
        );
      } catch (error) {
        console.log(log.text().slice(-20_000));
        throw error;
      }
    });
  });
}
