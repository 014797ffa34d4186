// The conformance suite every connector must pass against a real peer (a real broker, bucket or
// server, or a simulator of a proprietary system under test tooling):
//   - every record the source holds is ingested exactly once;
//   - a restart reads nothing again and loses nothing;
//   - a record that cannot be ingested becomes a dead letter with its reason, and the others flow;
//   - a peer that goes away mid-stream is reconnected to without loss (when the peer can be stopped).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AnyConnectorDefinition } from "../../src/connectors/registry.ts";
import type { Database } from "../../src/storage/db.ts";
import { backends, type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

/** A source under test, holding conversations the connector must take in. */
export interface ConformancePeer {
  /** The connector kind under test. */
  kind: string;
  /** The integration's config pointing at this peer. */
  config(): Record<string, unknown>;
  /** Makes `count` new conversations available at the source; answers their external ids. */
  produce(count: number): Promise<string[]>;
  /** Makes one record available that must be dead-lettered (unreadable or invalid). */
  producePoison(): Promise<void>;
  /**
   * Called once the account exists, before the first test: for sources that need something of the
   * account itself (e.g. an SFTP login of the account for an uploader).
   */
  prepare?(account: {
    accountId: string;
    request: (
      method: string,
      path: string,
      body?: unknown,
    ) => Promise<{ status: number; text: string; body: unknown }>;
  }): Promise<void>;
  /** Takes the peer away (stop the broker / server) and brings it back, when it can. */
  interrupt?(): Promise<void>;
  restore?(): Promise<void>;
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** Connector kinds beyond the built-in ones (test connectors, simulators). */
  connectors?: readonly AnyConnectorDefinition[];
  /** How long a stream connector may take to catch up (default 60 s). */
  catchUpMs?: number;
  /** Extra environment for cqa (e.g. CQA_FETCH_ALLOW for a peer on loopback). */
  env?: Record<string, string>;
}

/** Registers the conformance tests of one connector kind, on every storage backend. */
export function connectorConformance(
  name: string,
  startPeer: () => Promise<ConformancePeer>,
  options: ConformanceOptions = {},
): void {
  for (const backend of backends()) {
    describe(`connector conformance: ${name} on ${backend.name}`, () => {
      let peer: ConformancePeer;
      let db: Database;
      let cqa: TestCqa;
      let account: CreatedAccount;
      let integrationId: string;
      let mode: "poll" | "stream";
      const expected = new Set<string>();

      const start = async () =>
        startTestCqa({
          backend,
          database: db,
          loops: true,
          ...(options.connectors ? { connectors: options.connectors } : {}),
          ...(options.env ? { env: options.env } : {}),
        });
      const call = (method: string, suffix: string, body?: unknown) =>
        cqa.request(method, `/api/v1/accounts/${account.accountId}/integrations/${integrationId}${suffix}`, {
          apiKey: account.apiKey,
          ...(body === undefined ? {} : { body }),
        });
      const storedIds = async (): Promise<string[]> =>
        (
          await db.query<{ id: string }>(
            "SELECT external_interaction_id AS id FROM interactions WHERE integration_id = $1",
            [integrationId],
          )
        ).rows.map((r) => r.id);

      /** Lets the connector take in what the source holds: a run for pollers, waiting for streams. */
      const catchUp = async (count: number) => {
        const deadline = Date.now() + (options.catchUpMs ?? 60_000);
        let queued = false;
        while (Date.now() < deadline) {
          if (mode === "poll" && !queued) {
            const run = await call("POST", "/run", {});
            queued = run.status === 202;
          }
          if ((await storedIds()).length >= count) {
            // Give a poll run time to finish its bookkeeping before the next step.
            if (mode === "poll") await waitForIdleRun();
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
          if (mode === "poll" && queued && !(await runInFlight())) queued = false;
        }
        assert.fail(`the connector stored ${(await storedIds()).length} of ${count} conversations in time`);
      };
      const runInFlight = async () =>
        (await db.query("SELECT 1 FROM jobs WHERE dedupe_key = $1", [`integration.run:${integrationId}`]))
          .rowCount > 0;
      const waitForIdleRun = async () => {
        const deadline = Date.now() + 30_000;
        while ((await runInFlight()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      };

      before(async () => {
        peer = await startPeer();
        db = await backend.open();
        cqa = await start();
        account = await cqa.createAccount();
        await peer.prepare?.({
          accountId: account.accountId,
          request: (method, path, body) =>
            cqa.request(method, path, { apiKey: account.apiKey, ...(body === undefined ? {} : { body }) }),
        });
        const kinds = (await cqa.request("GET", "/api/v1/connector-kinds")).body.data.connector_kinds;
        mode = kinds.find((k: { kind: string }) => k.kind === peer.kind)?.mode;
        assert.ok(mode, `connector kind ${peer.kind} is registered`);
        const created = await cqa.request("POST", `/api/v1/accounts/${account.accountId}/integrations`, {
          apiKey: account.apiKey,
          body: { kind: peer.kind, name: `${name} conformance`, config: peer.config(), schedule: null },
        });
        assert.equal(created.status, 201, created.text);
        integrationId = created.body.data.integration_id;
        await cqa.running.supervisor?.tick();
      });
      after(async () => {
        await cqa?.stop();
        await db?.close();
        await peer?.close();
      });

      test("test connection passes against the peer", async () => {
        const answer = await call("POST", "/test");
        assert.equal(answer.status, 200);
        assert.equal(answer.body.data.ok, true, JSON.stringify(answer.body.data.checks));
      });

      test("every record the source holds is ingested exactly once", async () => {
        for (const id of await peer.produce(20)) expected.add(id);
        await catchUp(expected.size);
        const stored = await storedIds();
        assert.deepEqual([...stored].sort(), [...expected].sort());
      });

      test("a restart reads nothing again and loses nothing", async () => {
        await cqa.stop();
        for (const id of await peer.produce(10)) expected.add(id);
        cqa = await start();
        await cqa.running.supervisor?.tick();
        await catchUp(expected.size);
        const stored = await storedIds();
        assert.equal(stored.length, new Set(stored).size, "no conversation stored twice");
        assert.deepEqual([...stored].sort(), [...expected].sort());
        const runs = (await call("GET", "/runs?limit=100")).body.data?.runs ?? [];
        const duplicates = runs.reduce((sum: number, r: { duplicate: number }) => sum + r.duplicate, 0);
        assert.equal(duplicates, 0, "no record was read twice");
      });

      test("a record that cannot be ingested becomes a dead letter with its reason; the others flow", async () => {
        await peer.producePoison();
        for (const id of await peer.produce(5)) expected.add(id);
        await catchUp(expected.size);
        const letters = (await call("GET", "/dead-letters")).body.data;
        assert.ok(letters.pagination.total >= 1, "the poison record is a dead letter");
        assert.ok(
          letters.dead_letters.every((l: { reason: string }) => l.reason.length > 10),
          "each says why",
        );
      });

      test("a peer that goes away is reconnected to, without loss", { skip: !startPeer }, async (t) => {
        if (!peer.interrupt || !peer.restore) {
          t.skip("this peer cannot be stopped and restarted");
          return;
        }
        await peer.interrupt();
        await new Promise((resolve) => setTimeout(resolve, 500));
        await peer.restore();
        for (const id of await peer.produce(5)) expected.add(id);
        await catchUp(expected.size);
        const stored = await storedIds();
        assert.deepEqual([...stored].sort(), [...expected].sort());
      });
    });
  }
}
