// ECC4x, approach 1: the VLA module uploads its daily report to cqa's SFTP endpoint, and cqa fetches
// every call's recording from the Voice Log API by call SID (simulated: the real ones are proprietary).
// The uploads use real clients: the OpenSSH `sftp` program in batch mode and ssh2-sftp-client.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { openSshSftp, reportFile, simulatedCall, vlaReport } from "../support/ecc4xSimulators.ts";
import { type Ecc4xRig, startEcc4xRig } from "./ecc4xRig.ts";

describe("ECC4x VLA reports over SFTP, recordings from the Voice Log API", () => {
  let rig: Ecc4xRig;
  let integrationId: string;

  before(async () => {
    rig = await startEcc4xRig();
    integrationId = await rig.createSftpIntegration();
  });
  after(() => rig?.stop());

  test("the OpenSSH sftp client and ssh2-sftp-client each upload a 200-row report: all 400 recordings are fetched and analysed, and the reports move to processed/", async () => {
    const byOpenSsh = Array.from({ length: 200 }, (_, i) => simulatedCall("CAOS", i));
    const bySsh2 = Array.from({ length: 200 }, (_, i) => simulatedCall("CASS", i, "2026-04-02"));
    const all = [...byOpenSsh, ...bySsh2];
    rig.voiceLog.publish(...all.map((c) => c.call_sid));

    const file = reportFile("vla_2026-04-01.csv", vlaReport(byOpenSsh));
    const upload = await openSshSftp(rig.target, [`put ${file.path}`], file.dir);
    assert.equal(upload.code, 0, upload.stderr);
    const client = await rig.sftpClient();
    await client.put(Buffer.from(vlaReport(bySsh2)), "/vla_2026-04-02.csv");

    // Each upload starts a run as soon as it completes: no schedule and no manual run is involved.
    await rig.until(
      "all 400 calls are analysed",
      async () => ((await rig.statuses())["completed"] ?? 0) === 400,
      120_000,
    );
    for (const call of all) {
      assert.equal(
        rig.voiceLog.served.get(call.call_sid) ?? 0,
        1,
        `the recording of ${call.call_sid} was fetched once`,
      );
    }
    const analyses = await rig.cqa.db.query<{ n: string }>(
      "SELECT count(DISTINCT a.interaction_id) AS n FROM analyses a JOIN interactions i ON i.id = a.interaction_id WHERE i.account_id = $1",
      [rig.account.accountId],
    );
    assert.equal(Number(analyses.rows[0]?.n), 400, "every call was scored by the starter profile");

    // One call as the API shows it: the row's fields, its time zone, its recording.
    const sample = byOpenSsh[7]!;
    const shown = await rig.api("GET", `/ingress/interactions/${sample.call_sid}`);
    assert.equal(shown.status, 200, shown.text);
    const interaction = shown.body.data;
    assert.equal(interaction.status, "completed");
    assert.equal(interaction.channel_type, "VOICE");
    assert.equal(interaction.source, "ecc4x-vla");
    assert.equal(interaction.duration_seconds, sample.duration);
    // 09:07 in Asia/Kolkata (the account's zone) is 03:37 UTC.
    assert.equal(new Date(interaction.interaction_start_time).toISOString(), "2026-04-01T03:37:00.000Z");
    assert.deepEqual(
      {
        agent_id: interaction.metadata.agent_id,
        agent_name: interaction.metadata.agent_name,
        campaign: interaction.metadata.campaign,
        queue: interaction.metadata.queue,
        direction: interaction.metadata.direction,
        customer_number: interaction.metadata.customer_number,
        disposition: interaction.metadata.disposition,
        crm_ticket: interaction.metadata.crm_ticket,
      },
      {
        agent_id: sample.agent_id,
        agent_name: sample.agent_name,
        campaign: sample.campaign,
        queue: sample.queue,
        direction: sample.direction,
        customer_number: sample.customer_number,
        disposition: sample.disposition,
        crm_ticket: sample.crm_ticket,
      },
    );
    assert.ok(!("start_time" in interaction.metadata) && !("call_sid" in interaction.metadata));

    // What the uploader sees afterwards: the reports moved to processed/, no result files (no rejects).
    await rig.until(
      "both reports are moved",
      async () => (await client.list("/processed").catch(() => [])).length === 2,
    );
    assert.deepEqual(
      (await client.list("/")).map((f) => `${f.type} ${f.name}`),
      ["d processed"],
    );
    assert.deepEqual((await client.list("/processed")).map((f) => f.name).sort(), [
      "vla_2026-04-01.csv",
      "vla_2026-04-02.csv",
    ]);
    const runs = (await rig.api("GET", `/integrations/${integrationId}/runs?limit=100`)).body.data.runs as {
      ingested: number;
      rejected: number;
      duplicate: number;
    }[];
    assert.equal(
      runs.reduce((sum, r) => sum + r.ingested, 0),
      400,
    );
    assert.equal(
      runs.reduce((sum, r) => sum + r.rejected + r.duplicate, 0),
      0,
    );
    const status = await rig.api("GET", `/integrations/${integrationId}/status`);
    assert.equal(status.body.data.checkpoint.reports_processed, 2);
  });
});

describe("ECC4x VLA report with bad rows, unknown calls and a Voice Log API that answers 404, 500 and slowly", () => {
  let rig: Ecc4xRig;
  const clock = new ManualClock("2026-04-02T02:00:00Z");

  before(async () => {
    rig = await startEcc4xRig({ clock, loops: false });
    await rig.createSftpIntegration({
      voice_log: rig.voiceLog.config({ timeout_seconds: 1, retries: 2, retry_backoff_seconds: 0.05 }),
    });
  });
  after(() => rig?.stop());

  /** Runs every due job, then moves the clock on an hour, `hours` times (the back-off grows to 1 h). */
  const waitHours = async (hours: number) => {
    for (let i = 0; i < hours; i++) {
      await rig.cqa.drain();
      clock.advance(3_600_000);
    }
    await rig.cqa.drain();
  };
  const interaction = async (sid: string) => (await rig.api("GET", `/ingress/interactions/${sid}`)).body.data;

  test("good rows succeed, late and failing recordings are waited for, bad rows and unknown calls are listed with their reasons: nothing is dropped", async () => {
    const call = (sid: string, i: number) => ({ ...simulatedCall("", i), call_sid: sid });
    const good = ["GOOD-1", "GOOD-2", "GOOD-3"].map(call);
    const late = call("LATE-1", 10); // 404 three times: published late
    const flaky = call("FLAKY-1", 11); // 500 twice: the immediate retries get it
    const failing = call("FAILING-1", 12); // 500 five times: tried again later with back-off
    const slow = call("SLOW-1", 13); // the first answer takes longer than the 1 s time-out
    const unknown = ["UNKNOWN-1", "UNKNOWN-2"].map(call); // the Voice Log API never has them
    rig.voiceLog.publish(...[...good, late, flaky, failing, slow].map((c) => c.call_sid));
    rig.voiceLog.fault("LATE-1", { kind: "not_ready", times: 3 });
    rig.voiceLog.fault("FLAKY-1", { kind: "error", status: 500, times: 2 });
    rig.voiceLog.fault("FAILING-1", { kind: "error", status: 500, times: 5 });
    rig.voiceLog.fault("SLOW-1", { kind: "slow", ms: 3000, times: 1 });
    const report = vlaReport(
      [good[0]!, late, flaky, good[1]!, failing, slow, ...unknown, good[2]!],
      [
        "TOO-MANY,agent-1,Ann,retention,general,inbound,+911,2026-04-01 10:00:00,60,resolved,T-1,surplus",
        "BAD-TIME,agent-1,Ann,retention,general,inbound,+911,01/04/2026 10:00,60,resolved,T-2",
        ",agent-1,Ann,retention,general,inbound,+911,2026-04-01 10:00:00,60,resolved,T-3",
        "BAD-DURATION,agent-1,Ann,retention,general,inbound,+911,2026-04-01 10:00:00,about a minute,resolved,T-4",
      ],
    );
    const client = await rig.sftpClient();
    await client.put(Buffer.from(report), "/vla_2026-04-01.csv");
    await rig.until("the upload queued a run", async () => {
      const jobs = await rig.cqa.db.query("SELECT 1 FROM jobs WHERE kind = 'integration.run'");
      return jobs.rowCount > 0;
    });
    await waitHours(0);

    // Right after the run: the good rows, the flaky one and the slow one are analysed.
    for (const sid of ["GOOD-1", "GOOD-2", "GOOD-3", "FLAKY-1", "SLOW-1"]) {
      assert.equal((await interaction(sid)).status, "completed", sid);
    }
    // The late and unknown recordings wait (not failed), saying why.
    for (const sid of ["LATE-1", "UNKNOWN-1"]) {
      const waiting = await interaction(sid);
      assert.equal(waiting.status, "queued", sid);
      assert.match(JSON.stringify(waiting), /no recording at .*answered 404/, sid);
    }
    // The bad rows are beside the report, in processed/, each with its line and reason.
    const result = String(await client.get("/processed/vla_2026-04-01.result.csv"));
    const lines = result.trim().split("\n");
    assert.equal(lines[0], "line,call_sid,code,reason");
    assert.equal(lines.length, 5, result);
    assert.match(result, /^11,TOO-MANY,MALFORMED_ROW,.*12 values but the header has 11 columns/m);
    assert.match(
      result,
      /^12,BAD-TIME,VALIDATION_ERROR,.*'01\/04\/2026 10:00' does not match date_format 'yyyy-MM-dd HH:mm:ss'/m,
    );
    assert.match(result, /^13,,VALIDATION_ERROR,The row has no call SID/m);
    assert.match(result, /^14,BAD-DURATION,VALIDATION_ERROR,.*'about a minute' is not a call length/m);
    const letters = (await rig.api("GET", "/integrations")).body.data.integrations[0];
    const deadLetters = (await rig.api("GET", `/integrations/${letters.integration_id}/dead-letters`)).body
      .data;
    assert.equal(deadLetters.pagination.total, 4, "each bad row is a dead letter too, retryable after a fix");

    // Time passes: the late recording is published, the failing server recovers, the unknown calls
    // are given up on after 20 tries (about 20 hours of back-off) with the reason.
    await waitHours(22);
    for (const sid of ["LATE-1", "FAILING-1"])
      assert.equal((await interaction(sid)).status, "completed", sid);
    for (const sid of ["UNKNOWN-1", "UNKNOWN-2"]) {
      const gone = await interaction(sid);
      assert.equal(gone.status, "failed", sid);
      assert.match(
        JSON.stringify(gone),
        /no recording at .*UNKNOWN.*answered 404.*gave up after 20 attempts/,
        sid,
      );
    }
    // Every one of the 13 rows is accounted for: analysed, failed with its reason, or listed as rejected.
    const statuses = await rig.statuses();
    assert.deepEqual(statuses, { completed: 7, failed: 2 });
    assert.equal(7 + 2 + (lines.length - 1), report.trim().split("\n").length - 1);
  });
});

describe("ECC4x VLA reports backfilled on demand for a date range", () => {
  let rig: Ecc4xRig;
  let integrationId: string;

  before(async () => {
    rig = await startEcc4xRig({ loops: false });
    integrationId = await rig.createSftpIntegration();
  });
  after(() => rig?.stop());

  const ingestedIds = async () =>
    (
      await rig.cqa.db.query<{ id: string }>(
        "SELECT external_interaction_id AS id FROM interactions WHERE account_id = $1 ORDER BY external_interaction_id",
        [rig.account.accountId],
      )
    ).rows.map((r) => r.id);

  const runRange = async (from: string, to: string) => {
    const queued = await rig.api("POST", `/integrations/${integrationId}/run`, { from, to });
    assert.equal(queued.status, 202, queued.text);
    await rig.cqa.drain();
  };

  test("reports already in processed/ are read again for the range only: rows in it are ingested once, others not at all", async () => {
    const firstDay = Array.from({ length: 6 }, (_, i) => simulatedCall("BFA", i, "2026-04-01"));
    const secondDay = Array.from({ length: 6 }, (_, i) => simulatedCall("BFB", i, "2026-04-02"));
    const thirdDay = Array.from({ length: 6 }, (_, i) => simulatedCall("BFC", i, "2026-04-03"));
    rig.voiceLog.publish(...[...firstDay, ...secondDay, ...thirdDay].map((c) => c.call_sid));
    // Reports the VLA module delivered before the integration existed, already filed in processed/:
    // the arrival of a file there starts nothing.
    const client = await rig.sftpClient();
    await client.mkdir("/processed");
    await client.put(Buffer.from(vlaReport([...firstDay, ...secondDay])), "/processed/vla_2026-04-02.csv");
    await client.put(Buffer.from(vlaReport(thirdDay)), "/processed/vla_2026-04-03.csv");
    await rig.cqa.drain();
    assert.deepEqual(await ingestedIds(), [], "nothing is read from processed/ without a range run");

    // The second day in the account's time zone (Asia/Kolkata): only its six calls.
    await runRange("2026-04-02T00:00:00+05:30", "2026-04-03T00:00:00+05:30");
    assert.deepEqual(
      await ingestedIds(),
      secondDay.map((c) => c.call_sid),
    );
    // The same range again adds nothing; a wider one adds the rest, each call once.
    await runRange("2026-04-02T00:00:00+05:30", "2026-04-03T00:00:00+05:30");
    assert.equal((await ingestedIds()).length, 6);
    await runRange("2026-04-01T00:00:00+05:30", "2026-04-04T00:00:00+05:30");
    assert.deepEqual(
      await ingestedIds(),
      [...firstDay, ...secondDay, ...thirdDay].map((c) => c.call_sid).sort(),
    );
    const statuses = await rig.statuses();
    assert.equal(statuses["completed"], 18, JSON.stringify(statuses));
    for (const call of [...firstDay, ...secondDay, ...thirdDay]) {
      assert.equal(rig.voiceLog.served.get(call.call_sid), 1, `${call.call_sid} fetched once`);
    }
    // The reports stay where they were.
    assert.deepEqual((await client.list("/processed")).map((f) => f.name).sort(), [
      "vla_2026-04-02.csv",
      "vla_2026-04-03.csv",
    ]);
  });
});
