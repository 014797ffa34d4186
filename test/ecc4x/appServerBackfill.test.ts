// ECC4x, approach 2, on demand: a date range read again from the App Server API (simulated) — the
// calls in the range are ingested once, those outside it not at all, and the poll's cursor is untouched.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type AppServerSimulator,
  simulatedCall,
  startAppServerSimulator,
} from "../support/ecc4xSimulators.ts";
import { type Ecc4xRig, startEcc4xRig } from "./ecc4xRig.ts";

describe("ECC4x App Server API backfilled on demand for a date range", () => {
  let rig: Ecc4xRig;
  let appServer: AppServerSimulator;
  let integrationId: string;
  const days = ["2026-04-01", "2026-04-02", "2026-04-03"];
  const calls = days.flatMap((day, d) =>
    Array.from({ length: 30 }, (_, i) => simulatedCall(`AS${d}`, i, day)),
  );

  before(async () => {
    rig = await startEcc4xRig({ loops: false });
    appServer = await startAppServerSimulator();
    appServer.add(...calls);
    rig.voiceLog.publish(...calls.map((c) => c.call_sid));
    const created = await rig.api("POST", "/integrations", {
      kind: "ecc4x_app_server",
      name: "App Server",
      config: appServer.config({
        voice_log: rig.voiceLog.config(),
        paging: { style: "offset", page_size: 10 },
      }),
      schedule: null,
    });
    assert.equal(created.status, 201, created.text);
    integrationId = created.body.data.integration_id;
  });
  after(async () => {
    await rig?.stop();
    await appServer?.close();
  });

  const ingested = async () =>
    (
      await rig.cqa.db.query<{ id: string }>(
        "SELECT external_interaction_id AS id FROM interactions WHERE account_id = $1 ORDER BY 1",
        [rig.account.accountId],
      )
    ).rows.map((r) => r.id);
  const run = async (body: unknown) => {
    const queued = await rig.api("POST", `/integrations/${integrationId}/run`, body);
    assert.equal(queued.status, 202, queued.text);
    await rig.cqa.drain();
  };
  const sidsOf = (day: string) => calls.filter((c) => c.start_time.startsWith(day)).map((c) => c.call_sid);

  test("a day in the account's time zone: its 30 calls once, across pages; again: nothing more; the poll then reads the rest", async () => {
    await run({ from: "2026-04-02T00:00:00+05:30", to: "2026-04-03T00:00:00+05:30" });
    assert.deepEqual(await ingested(), sidsOf("2026-04-02").sort());
    await run({ from: "2026-04-02T00:00:00+05:30", to: "2026-04-03T00:00:00+05:30" });
    assert.equal((await ingested()).length, 30, "the same range again adds nothing");

    // The regular poll (no range) starts from its own cursor: the other days come in, none twice.
    await run({});
    assert.deepEqual(await ingested(), calls.map((c) => c.call_sid).sort());
    const runs = (await rig.api("GET", `/integrations/${integrationId}/runs?limit=10`)).body.data.runs as {
      ingested: number;
      status: string;
    }[];
    assert.equal(
      runs.reduce((n, r) => n + r.ingested, 0),
      90,
    );
    for (const call of calls) assert.equal(rig.voiceLog.served.get(call.call_sid), 1, call.call_sid);
  });
});
