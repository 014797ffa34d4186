// A real S3 server for tests and benchmarks: S3Proxy (Maven Central) started by scripts/s3proxy.sh,
// with authentication enforced, objects on disk (a restart keeps them), stopped with SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

const script = fileURLToPath(new URL("../../scripts/s3proxy.sh", import.meta.url));

export interface S3TestServer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** An SDK client with the server's credentials (path-style), for arranging objects in tests. */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** Stops the server (objects stay on disk) and starts it again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its objects. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts S3Proxy on a free loopback port; resolves once it answers (403 without credentials). */
export async function startS3Server(): Promise<S3TestServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-s3proxy-"));
  const accessKeyId = "cqa-test-access";
  const secretAccessKey = "cqa-test-secret-0123456789";
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let output = "";

  const start = async () => {
    output = "";
    const spawned = spawn("bash", [script], {
      env: {
        ...process.env,
        S3PROXY_PORT: String(port),
        S3PROXY_DATA_DIR: dataDir,
        S3PROXY_ACCESS_KEY: accessKeyId,
        S3PROXY_SECRET_KEY: secretAccessKey,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = spawned;
    spawned.stdout?.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    });
    spawned.stderr?.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    });
    let exited = false;
    spawned.once("exit", () => {
      exited = true;
    });
    // The first start may fetch the jar from Maven Central.
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`S3Proxy exited before it answered:\n${output}`);
      try {
        const response = await fetch(`${endpoint}/`);
        await response.arrayBuffer();
        if (response.status === 403) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`S3Proxy did not answer within 300 s:\n${output}`);
  };

  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    endpoint,
    region: "us-east-1",
    accessKeyId,
    secretAccessKey,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop,
    start,
    async close() {
      client.destroy();
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
