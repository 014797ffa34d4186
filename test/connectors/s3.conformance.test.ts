// The S3 connector passes the connector conformance suite against a real S3 server (S3Proxy with
// authentication enforced), including the server being stopped and started again mid-way.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { silentWav } from "../simulators/exoliteSimulator.ts";
import { startS3Server } from "../support/s3Server.ts";
import { type ConformancePeer, connectorConformance } from "./conformance.ts";

connectorConformance(
  "s3 (S3Proxy)",
  async (): Promise<ConformancePeer> => {
    const server = await startS3Server();
    const bucket = "conformance-calls";
    await server.createBucket(bucket);
    const put = (key: string, body: string | Buffer) =>
      server.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const recording = silentWav(1);
    let next = 0;
    return {
      kind: "s3",
      config: () => ({
        bucket,
        endpoint: server.endpoint,
        path_style: true,
        access_key_id: server.accessKeyId,
        secret_access_key: server.secretAccessKey,
        input_prefix: "incoming/",
        output_prefix: "results/",
      }),
      async produce(count) {
        const ids = Array.from({ length: count }, () => `call-${String(next++).padStart(5, "0")}`);
        for (const id of ids) {
          await put(`incoming/${id}.wav`, recording);
          await put(`incoming/${id}.json`, JSON.stringify({ metadata: { queue: "billing" } }));
        }
        return ids;
      },
      async producePoison() {
        await put(`incoming/poison-${next}.wav`, recording);
        await put(`incoming/poison-${next++}.json`, "{ not json");
      },
      interrupt: () => server.stop(),
      restore: () => server.start(),
      close: () => server.close(),
    };
  },
  { env: { CQA_TRANSCRIBER: "none" } },
);
