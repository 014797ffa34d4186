// The blob store contract on a real S3 server (S3Proxy with authentication), the same suite the
// filesystem store passes; plus what only an S3 store can get wrong: credentials and the bucket.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { loadConfig } from "../../src/config/config.ts";
import { blobStoreContract } from "../../src/storage/blob/blobStoreContract.ts";
import { createS3BlobStore, type S3BlobStore } from "../../src/storage/blob/s3BlobStore.ts";
import { silentWav } from "../simulators/exoliteSimulator.ts";
import { type S3TestServer, startS3Server } from "../support/s3Server.ts";
import { startTestCqa } from "../support/testCqa.ts";

let server: S3TestServer;
const stores: S3BlobStore[] = [];
let next = 0;

const open = (overrides: Partial<Parameters<typeof createS3BlobStore>[0]> = {}) => {
  const store = createS3BlobStore({
    bucket: "cqa-blobs",
    prefix: `run-${next++}/`,
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    forcePathStyle: true,
    ...overrides,
  });
  stores.push(store);
  return store;
};

describe("S3 blob store on S3Proxy", () => {
  before(async () => {
    server = await startS3Server();
    await server.createBucket("cqa-blobs");
  });
  after(async () => {
    for (const store of stores) store.close();
    await server?.close();
  });

  blobStoreContract("s3", async () => open());

  test("keys live under the configured prefix of the bucket", async () => {
    const store = open({ prefix: "tenant-a/cqa" });
    await store.put("recordings/x/audio-0", Buffer.from("abc"));
    const other = open({ prefix: "tenant-b/cqa/" });
    assert.equal(await other.exists("recordings/x/audio-0"), false, "another prefix does not see it");
    assert.equal((await open({ prefix: "tenant-a/cqa/" }).get("recordings/x/audio-0")).toString(), "abc");
  });

  test("the start-up check names wrong credentials and a missing bucket", async () => {
    await open().check();
    await assert.rejects(
      open({ credentials: { accessKeyId: server.accessKeyId, secretAccessKey: "wrong" } }).check(),
      /access denied: check the access key and secret/,
    );
    await assert.rejects(open({ bucket: "no-such-bucket" }).check(), /the bucket does not exist/);
  });

  test("cqa started with CQA_BLOB_URL keeps uploaded recordings in the bucket and serves them back", async () => {
    const env = {
      CQA_BLOB_URL: "s3://cqa-blobs/e2e",
      CQA_BLOB_S3_ENDPOINT: server.endpoint,
      CQA_BLOB_S3_ACCESS_KEY_ID: server.accessKeyId,
      CQA_BLOB_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      CQA_TRANSCRIBER: "none",
    };
    const cqa = await startTestCqa({ env });
    try {
      const account = await cqa.createAccount();
      const form = new FormData();
      form.set("external_interaction_id", "upload-1");
      form.set("channel_type", "VOICE");
      const recording = silentWav(3);
      form.set("audio", new Blob([recording], { type: "audio/wav" }), "upload-1.wav");
      const created = await cqa.request(
        "POST",
        `/api/v1/accounts/${account.accountId}/ingress/interactions`,
        {
          apiKey: account.apiKey,
          rawBody: form,
        },
      );
      assert.equal(created.status, 201, created.text);
      await cqa.drain();
      const listed = await server.client.send(
        new ListObjectsV2Command({ Bucket: "cqa-blobs", Prefix: "e2e/uploads/" }),
      );
      const keys = (listed.Contents ?? []).map((o) => o.Key);
      assert.ok(
        keys.some((k) => k?.endsWith("/upload-1.wav")),
        `the recording is an object under the prefix: ${keys.join(", ")}`,
      );
      const served = await cqa.running.app.request(
        `/api/v1/accounts/${account.accountId}/ingress/interactions/upload-1/recording`,
        { headers: { "x-api-key": account.apiKey } },
      );
      assert.equal(served.status, 200);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), recording);
    } finally {
      await cqa.stop();
    }
    await assert.rejects(
      startTestCqa({ env: { ...env, CQA_BLOB_S3_SECRET_ACCESS_KEY: "wrong" } }),
      /CQA_BLOB_URL=s3:\/\/cqa-blobs\/e2e\/: access denied: check the access key and secret/,
    );
  });
});

test("CQA_BLOB_URL and its credentials are checked at start, each problem said plainly", () => {
  assert.throws(
    () => loadConfig({ CQA_BLOB_URL: "s3://Bad_Bucket/x", CQA_BLOB_S3_ACCESS_KEY_ID: "only-the-key" }),
    (error: Error) =>
      /CQA_BLOB_URL must be s3:\/\/bucket or s3:\/\/bucket\/prefix/.test(error.message) &&
      /CQA_BLOB_S3_ACCESS_KEY_ID and CQA_BLOB_S3_SECRET_ACCESS_KEY go together/.test(error.message),
  );
  const config = loadConfig({
    CQA_BLOB_URL: "s3://cqa-data/prod/blobs",
    CQA_BLOB_S3_ENDPOINT: "http://minio:9000",
  });
  assert.deepEqual(config.blobStore, {
    kind: "s3",
    bucket: "cqa-data",
    prefix: "prod/blobs/",
    endpoint: "http://minio:9000",
    region: "us-east-1",
    credentials: null,
    forcePathStyle: true,
  });
  assert.deepEqual(loadConfig({}).blobStore, { kind: "filesystem" });
});
