// The S3 connector, both ways, against a real S3 server (S3Proxy, authentication enforced): pairs of
// recording + JSON sidecar and a manifest are analysed and their results written to the output
// prefix; bad sidecars become dead letters; a restart re-reads nothing; an overwritten object is
// analysed again; s3:// file URLs are opened with the account's S3 integration.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import type { Database } from "../../src/storage/db.ts";
import { silentWav } from "../simulators/exoliteSimulator.ts";
import { type S3TestServer, startS3Server } from "../support/s3Server.ts";
import { backends, type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

const bucket = "acme-calls";
const pairs = 1_000;
const manifestRows = 500;

describe("S3 connector, both ways, on S3Proxy", () => {
  let server: S3TestServer;
  let db: Database;
  let cqa: TestCqa;
  let account: CreatedAccount;
  let integrationId: string;
  const backend = backends()[0]!;
  const start = () => startTestCqa({ backend, database: db, env: { CQA_TRANSCRIBER: "none" } });
  const put = (key: string, body: string | Buffer) =>
    server.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const path = (suffix = "") => `/api/v1/accounts/${account.accountId}/integrations${suffix}`;
  const call = (method: string, suffix: string, body?: unknown) =>
    cqa.request(method, path(suffix), { apiKey: account.apiKey, ...(body === undefined ? {} : { body }) });
  const config = (overrides: Record<string, unknown> = {}) => ({
    bucket,
    endpoint: server.endpoint,
    path_style: true,
    access_key_id: server.accessKeyId,
    secret_access_key: server.secretAccessKey,
    input_prefix: "incoming/",
    output_prefix: "results/",
    ...overrides,
  });
  const listKeys = async (prefix: string) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await server.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  };
  const runNow = async () => {
    const queued = await call("POST", `/${integrationId}/run`, {});
    assert.equal(queued.status, 202, queued.text);
    await cqa.drain();
    return (await call("GET", `/${integrationId}/runs`)).body.data.runs[0];
  };
  /** Uploads in parallel (S3Proxy takes a few at once). */
  const putAll = async (objects: [string, string | Buffer][]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < objects.length) {
          const [key, body] = objects[next++]!;
          await put(key, body);
        }
      }),
    );
  };

  before(async () => {
    server = await startS3Server();
    await server.createBucket(bucket);
    db = await backend.open();
    cqa = await start();
    account = await cqa.createAccount({ timezone: "Asia/Kolkata" });
  });
  after(async () => {
    await cqa?.stop();
    await db?.close();
    await server?.close();
  });

  test("test connection: wrong credentials and a missing bucket get a clear verdict", async () => {
    const wrong = await call("POST", "", {
      kind: "s3",
      name: "wrong key",
      config: config({ secret_access_key: "nope" }),
      schedule: null,
    });
    assert.equal(wrong.status, 201, wrong.text);
    const verdict = (await call("POST", `/${wrong.body.data.integration_id}/test`)).body.data;
    assert.equal(verdict.ok, false);
    const auth = verdict.checks.find((c: { name: string }) => c.name === "auth");
    assert.deepEqual(
      [
        auth.ok,
        /S3 refused the credentials \(SignatureDoesNotMatch\): check access_key_id and secret_access_key/.test(
          auth.message,
        ),
      ],
      [false, true],
    );
    const missing = await call("POST", "", {
      kind: "s3",
      name: "no bucket",
      config: config({ bucket: "no-such-bucket" }),
      schedule: null,
    });
    const missingVerdict = (await call("POST", `/${missing.body.data.integration_id}/test`)).body.data;
    assert.equal(missingVerdict.ok, false);
    assert.match(JSON.stringify(missingVerdict.checks), /The bucket 'no-such-bucket' does not exist/);
    await call("DELETE", `/${wrong.body.data.integration_id}`);
    await call("DELETE", `/${missing.body.data.integration_id}`);
  });

  test("1,000 recording + sidecar pairs and a 500-row manifest are all analysed: 1,500 result files; a bad sidecar is a dead letter", async () => {
    const recording = silentWav(3);
    const transcript =
      "Agent: Thank you for calling Acme, my name is Sam, how can I help you today?\nCustomer: My bill is wrong.\n" +
      "Agent: I am sorry about that, let me check. Is there anything else I can help you with?";
    const objects: [string, string | Buffer][] = [];
    for (let i = 0; i < pairs; i++) {
      const id = `call-${String(i).padStart(5, "0")}`;
      objects.push([`incoming/2026/05/${id}.wav`, recording]);
      objects.push([
        `incoming/2026/05/${id}.json`,
        JSON.stringify({
          external_interaction_id: id,
          language: "en",
          transcript_text: transcript,
          metadata: { queue: i % 2 ? "billing" : "sales" },
        }),
      ]);
    }
    for (let i = 0; i < manifestRows; i++) objects.push([`library/m-${i}.wav`, recording]);
    objects.push(["incoming/2026/05/broken-1.wav", recording]);
    objects.push(["incoming/2026/05/broken-1.json", '{"external_interaction_id": "broken-1", oops']);
    await putAll(objects);
    const manifest = [
      "external_interaction_id,channel_type,audio_url,transcript_text,queue",
      ...Array.from(
        { length: manifestRows },
        (_, i) =>
          `manifest-${i},VOICE,/library/m-${i}.wav,"${transcript.replace(/\n/g, " ")}",${i % 2 ? "billing" : "sales"}`,
      ),
    ].join("\n");
    await put("incoming/manifests/batch-1.csv", manifest);

    const created = await call("POST", "", {
      kind: "s3",
      name: "Acme bucket",
      config: config(),
      schedule: null,
    });
    assert.equal(created.status, 201, created.text);
    integrationId = created.body.data.integration_id;
    const verdict = (await call("POST", `/${integrationId}/test`)).body.data;
    assert.equal(verdict.ok, true, JSON.stringify(verdict.checks));

    const run = await runNow();
    assert.equal(run.status, "succeeded", JSON.stringify(run));
    assert.deepEqual([run.ingested, run.duplicate, run.rejected], [pairs + manifestRows, 0, 1]);

    const statuses = await db.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM interactions WHERE integration_id = $1 GROUP BY status",
      [integrationId],
    );
    assert.deepEqual(
      statuses.rows,
      [{ status: "completed", n: pairs + manifestRows }],
      "every conversation analysed",
    );
    const results = (await listKeys("results/")).filter((k) => k.endsWith(".json") && !k.includes(".cqa-"));
    assert.equal(results.length, pairs + manifestRows, "one result file per conversation");
    assert.ok(results.includes("results/call-00042.json") && results.includes("results/manifest-17.json"));

    const document = JSON.parse(
      await (
        await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: "results/call-00042.json" }))
      ).Body!.transformToString(),
    );
    assert.equal(document.external_interaction_id, "call-00042");
    assert.equal(document.status, "completed");
    assert.equal(document.metadata.queue, "sales");
    assert.equal(document.analyses.length, 1);
    const [analysis] = document.analyses;
    assert.equal(analysis.status, "completed");
    assert.ok(analysis.profile_name, "the analysis detail document, as GET /analyses/{id} answers");
    assert.ok(Array.isArray(analysis.categories) && analysis.categories.length > 0);
    assert.ok(analysis.categories[0].sub_categories[0].kpis[0].ai_response);
    const detail = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/analyses/${analysis.analysis_id}`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.deepEqual(analysis, detail.body.data, "the same document as the REST API");

    const manifestRow = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/manifest-17`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.equal(manifestRow.body.data.audio_url, `s3://${bucket}/library/m-17.wav`);
    assert.equal(manifestRow.body.data.metadata.queue, "billing");

    const letters = (await call("GET", `/${integrationId}/dead-letters`)).body.data.dead_letters;
    assert.equal(letters.length, 1);
    assert.equal(letters[0].code, "INVALID_JSON");
    assert.match(letters[0].reason, /The sidecar incoming\/2026\/05\/broken-1\.json is not valid JSON/);
  });

  test("a restart re-reads nothing; an unchanged object is not processed again", async () => {
    await cqa.stop();
    cqa = await start();
    const run = await runNow();
    assert.equal(run.status, "succeeded");
    assert.deepEqual(
      [run.seen, run.ingested, run.duplicate, run.rejected],
      [0, 0, 0, 0],
      "nothing read again",
    );
    const again = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM interactions WHERE integration_id = $1 AND processing_revision > 1",
      [integrationId],
    );
    assert.equal(again.rows[0]?.n, 0);
  });

  test("an object overwritten with new content is processed again (and its result rewritten)", async () => {
    const longer = silentWav(4);
    await put("incoming/2026/05/call-00007.wav", longer);
    const run = await runNow();
    assert.deepEqual([run.seen, run.ingested, run.rejected], [1, 0, 0]);
    const interaction = await db.query<{
      status: string;
      processing_revision: number;
      media: { audio: { sha256: string }[] };
    }>(
      "SELECT status, processing_revision, media FROM interactions WHERE account_id = $1 AND external_interaction_id = 'call-00007'",
      [account.accountId],
    );
    const row = interaction.rows[0]!;
    assert.equal(row.status, "completed");
    assert.equal(row.processing_revision, 2, "analysed again");
    assert.equal(
      row.media.audio[0]?.sha256,
      createHash("sha256").update(longer).digest("hex"),
      "with the new recording",
    );
    const others = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM interactions WHERE integration_id = $1 AND processing_revision > 1",
      [integrationId],
    );
    assert.equal(others.rows[0]?.n, 1, "only the overwritten one");
    const deliveries = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox o JOIN interactions i ON i.id = o.interaction_id
       WHERE o.channel = 'integration' AND o.status = 'delivered' AND i.external_interaction_id = 'call-00007'`,
    );
    assert.ok((deliveries.rows[0]?.n ?? 0) >= 2, "its result was written again");
  });

  test("s3:// file URLs are opened with the account's S3 integration; a bucket without one is refused clearly", async () => {
    const csv = [
      "external_interaction_id,channel_type,audio_url",
      "file-1,VOICE,s3://acme-calls/library/m-1.wav",
      "file-2,VOICE,s3://acme-calls/library/m-2.wav",
    ].join("\n");
    await put("exports/extra.csv", csv);
    const accepted = await cqa.request(
      "POST",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/files`,
      {
        apiKey: account.apiKey,
        body: { file_url: `s3://${bucket}/exports/extra.csv`, format: "csv" },
      },
    );
    assert.equal(accepted.status, 202, accepted.text);
    await cqa.drain();
    const job = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/batch/${accepted.body.data.id}`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.equal(job.body.data.job_status, "completed", job.text);
    assert.equal(job.body.data.accepted, 2);
    const refused = await cqa.request(
      "POST",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/files`,
      {
        apiKey: account.apiKey,
        body: { file_url: "s3://another-bucket/exports/extra.csv", format: "csv" },
      },
    );
    assert.equal(refused.status, 400);
    assert.match(
      refused.body.message,
      /needs S3 credentials for bucket 'another-bucket': add an S3 integration/,
    );
  });
});
