import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId } from "../../core/ids.ts";
import type { Database } from "../db.ts";
import { fixedNow, seedAccount } from "../testFixtures.ts";
import { testDatabases } from "../testing.ts";
import { getRun, insertIntegration } from "./integrations.ts";
import { activeReplayRun, completeReplayPartitions, startReplayRun } from "./kafkaOffsets.ts";

for (const backend of testDatabases()) {
  describe(`Kafka replay runs on ${backend.name}`, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db.close();
    });

    const seedIntegration = async () => {
      const account = await seedAccount(db);
      const id = newId();
      await insertIntegration(db, {
        id,
        accountId: account.id,
        kind: "ecc6x_kafka",
        name: `kafka-${id}`,
        config: {},
        sealedSecrets: null,
        configVersion: 1,
        schedule: null,
        enabled: true,
        paused: false,
        checkpoint: null,
        nextRunAt: null,
        lastRunAt: null,
        lastSuccessAt: null,
        lastError: null,
        lastErrorAt: null,
        lag: null,
        createdAt: fixedNow,
        updatedAt: fixedNow,
      });
      return { id, accountId: account.id };
    };
    const keys = (...entries: [string, bigint][]) => new Map(entries);

    test("a replay run waits for each replayed partition to reach its end, and the last one finishes it", async () => {
      const integration = await seedIntegration();
      const runId = newId();
      await startReplayRun(
        db,
        {
          id: runId,
          integrationId: integration.id,
          accountId: integration.accountId,
          from: null,
          offsets: keys(["ecc/0", 10n], ["ecc/1", 5n], ["ecc/2", 7n]),
          // ecc/2 restarts at its end: nothing to replay there.
          until: keys(["ecc/0", 40n], ["ecc/1", 20n], ["ecc/2", 7n]),
        },
        fixedNow,
      );
      const active = await activeReplayRun(db, integration.id);
      assert.equal(active?.id, runId);
      assert.deepEqual([...(active?.pending ?? [])].sort(), ["ecc/0", "ecc/1"]);
      assert.equal(active?.until.get("ecc/0"), 40n);

      await db.transaction((tx) => completeReplayPartitions(tx, runId, ["ecc/1"], fixedNow));
      assert.equal((await getRun(db, runId))?.status, "running");
      assert.deepEqual([...((await activeReplayRun(db, integration.id))?.pending ?? [])], ["ecc/0"]);

      const later = new Date(fixedNow.getTime() + 60_000);
      await db.transaction((tx) => completeReplayPartitions(tx, runId, ["ecc/0"], later));
      const run = await getRun(db, runId);
      assert.equal(run?.status, "succeeded");
      assert.equal(run?.trigger, "backfill");
      assert.equal(run?.finishedAt?.toISOString(), later.toISOString());
      assert.deepEqual(run?.details, {
        offsets: { "ecc/0": 10, "ecc/1": 5, "ecc/2": 7 },
        until: { "ecc/0": 40, "ecc/1": 20, "ecc/2": 7 },
        pending: [],
      });
      assert.equal(await activeReplayRun(db, integration.id), null);
    });

    test("a newer replay supersedes one under way; a replay with nothing to read is done at once", async () => {
      const integration = await seedIntegration();
      const first = newId();
      const second = newId();
      const replay = (id: string, offset: bigint) =>
        startReplayRun(
          db,
          {
            id,
            integrationId: integration.id,
            accountId: integration.accountId,
            from: fixedNow,
            offsets: keys(["ecc/0", offset]),
            until: keys(["ecc/0", 9n]),
          },
          fixedNow,
        );
      await replay(first, 0n);
      await replay(second, 9n);
      const superseded = await getRun(db, first);
      assert.equal(superseded?.status, "failed");
      assert.equal(superseded?.error, "Superseded by a newer replay");
      const done = await getRun(db, second);
      assert.equal(done?.status, "succeeded");
      assert.equal(done?.rangeFrom?.toISOString(), fixedNow.toISOString());
      assert.equal(await activeReplayRun(db, integration.id), null);
    });
  });
}
