// The S3 figures of `npm run bench` (docs/benchmarks.md, "S3 figures"), on a real S3 server (S3Proxy,
// authentication enforced, started for the run): conversations (recording + JSON sidecar) per second
// from listing the prefix to "ingested" (interactions stored, objects recorded), through cqa's S3
// connector run alone (the pipeline off), as a ratio to a bare loop of the same SDK on the same server
// that lists the prefix and reads every sidecar. Figures are reported, never asserted.
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { loadConfig } from "../src/config/config.ts";
import { integrationRunHandler } from "../src/connectors/supervisor.ts";
import { JobWorker } from "../src/pipeline/jobWorker.ts";
import { type RunningCqa, startCqa } from "../src/server/runtime.ts";
import type { Database } from "../src/storage/db.ts";
import { openPglite } from "../src/storage/pglite.ts";
import { openPostgres } from "../src/storage/postgres.ts";
import { silentWav } from "../test/simulators/exoliteSimulator.ts";
import { type S3TestServer, startS3Server } from "../test/support/s3Server.ts";
import { formatFigure, type GeneratedBlock, tableLines } from "./report.ts";

const operatorToken = "bench-operator-token-0123456789abcdef";
const bucket = "bench-calls";

export interface S3Row {
  label: string;
  objects: number;
  perSecond: number | null;
  ratio: number | null;
  note: string;
}

export interface S3Figures {
  date: string;
  machine: string;
  pairs: number;
  rows: S3Row[];
  reference: number;
  spread: number;
}

const fmt = formatFigure;

async function putAll(server: S3TestServer, objects: [string, string | Buffer][]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < objects.length) {
        const [key, body] = objects[next++]!;
        await server.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      }
    }),
  );
}

/** Uploads `pairs` conversations (recording + sidecar) under `prefix`. */
async function seed(server: S3TestServer, prefix: string, pairs: number): Promise<void> {
  const recording = silentWav(1);
  const objects: [string, string | Buffer][] = [];
  for (let i = 0; i < pairs; i++) {
    const id = `${prefix.replace(/\W/g, "")}-${i}`;
    objects.push([`${prefix}${id}.wav`, recording]);
    objects.push([
      `${prefix}${id}.json`,
      JSON.stringify({
        external_interaction_id: id,
        transcript_text: "Agent: Hello.\nCustomer: Hi.",
        metadata: { queue: "sales" },
      }),
    ]);
  }
  await putAll(server, objects);
}

/** The reference: list the prefix and read every sidecar, 16 at a time, with the same SDK. */
async function bareListAndGet(server: S3TestServer, prefix: string): Promise<number> {
  const started = performance.now();
  const sidecars: string[] = [];
  let token: string | undefined;
  do {
    const page = await server.client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key?.endsWith(".json")) sidecars.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < sidecars.length) {
        const key = sidecars[next++]!;
        const answer = await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        JSON.parse(await answer.Body!.transformToString());
      }
    }),
  );
  return sidecars.length / ((performance.now() - started) / 1000);
}

interface Backend {
  name: string;
  open(): Promise<{ db: Database; dispose(): Promise<void> }>;
}

/** cqa's S3 connector run alone: listing → sidecars read → ingested, conversations per second. */
async function connectorRun(
  server: S3TestServer,
  backend: Backend,
  prefix: string,
  pairs: number,
): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-bench-s3-"));
  const { db, dispose } = await backend.open();
  let running: RunningCqa | null = null;
  try {
    const config = loadConfig({
      CQA_DATA_DIR: dataDir,
      CQA_PORT: "0",
      CQA_FETCH_ALLOW: "127.0.0.1/8",
      CQA_OPERATOR_TOKEN: operatorToken,
      CQA_SECRET_KEY: "bench-master-key-0123456789abcdef0123456789",
      CQA_LOG_LEVEL: "silent",
      CQA_TRANSCRIBER: "none",
    });
    running = await startCqa({ config, database: db, listen: false, runLoops: false });
    const app = running.app;
    const json = async (method: string, path: string, body: unknown, auth: Record<string, string>) => {
      const response = await app.request(path, {
        method,
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify(body),
      });
      const parsed = (await response.json()) as { data: Record<string, string> };
      if (response.status >= 300)
        throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(parsed)}`);
      return parsed.data;
    };
    const account = await json(
      "POST",
      "/api/v1/accounts",
      { name: "bench", limits: { conversation_cap: "unlimited" } },
      {
        authorization: `Bearer ${operatorToken}`,
      },
    );
    const key = { "x-api-key": account["api_key"]! };
    const base = `/api/v1/accounts/${account["account_id"]}/integrations`;
    const integration = await json(
      "POST",
      base,
      {
        kind: "s3",
        name: "bench",
        schedule: null,
        config: {
          bucket,
          endpoint: server.endpoint,
          path_style: true,
          access_key_id: server.accessKeyId,
          secret_access_key: server.secretAccessKey,
          input_prefix: prefix,
          output_prefix: "bench-results/",
        },
      },
      key,
    );
    const worker = new JobWorker({
      db,
      clock: running.services.clock,
      concurrency: 1,
      leaseMs: 600_000,
      onError: () => {},
      handlers: [integrationRunHandler(running.services.connectors)],
    });
    const started = performance.now();
    await json("POST", `${base}/${integration["integration_id"]}/run`, {}, key);
    await worker.drain();
    const seconds = (performance.now() - started) / 1000;
    const stored = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM interactions WHERE integration_id = $1",
      [integration["integration_id"]],
    );
    if (stored.rows[0]?.n !== pairs)
      throw new Error(`the run stored ${stored.rows[0]?.n} of ${pairs} conversations`);
    return pairs / seconds;
  } finally {
    await running?.stop();
    await dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Measures the S3 path on PGlite (and PostgreSQL when `databaseUrl` answers). */
export async function measureS3(options: {
  quick: boolean;
  databaseUrl: string | null;
  log: (line: string) => void;
}): Promise<S3Figures> {
  const pairs = options.quick ? 300 : 2_000;
  const server = await startS3Server();
  try {
    await server.createBucket(bucket);
    const backends: Backend[] = [
      {
        name: "PGlite",
        async open() {
          const dir = mkdtempSync(join(tmpdir(), "cqa-bench-s3-db-"));
          const db = await openPglite(dir);
          return {
            db,
            dispose: async () => {
              await db.close();
              rmSync(dir, { recursive: true, force: true });
            },
          };
        },
      },
    ];
    if (options.databaseUrl) {
      const url = options.databaseUrl;
      backends.push({
        name: "PostgreSQL",
        async open() {
          const schema = `bench_s3_${Math.random().toString(36).slice(2, 10)}`;
          const db = await openPostgres({ connectionString: url, schema });
          return {
            db,
            dispose: async () => {
              await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
              await db.close();
            },
          };
        },
      });
    }
    let run = 0;
    const fresh = async () => {
      const prefix = `in${run++}/`;
      options.log(`  uploading ${pairs} recording + sidecar pairs under ${prefix}`);
      await seed(server, prefix, pairs);
      return prefix;
    };
    // Warm up the server (a JVM) and both clients before anything is timed.
    const warmup = `warm${run++}/`;
    await seed(server, warmup, 200);
    await bareListAndGet(server, warmup);
    const bare: number[] = [];
    for (let i = 0; i < 2; i++) {
      bare.push(await bareListAndGet(server, await fresh()));
      options.log(`  bare list + get: ${bare.at(-1)!.toFixed(0)} sidecars/s`);
    }
    const reference = bare.reduce((a, b) => a + b, 0) / bare.length;
    const spread = (Math.abs(bare[0]! - bare[1]!) / reference) * 100;
    const rows: S3Row[] = [
      {
        label: "bare loop: ListObjectsV2 + GetObject of each sidecar (SDK, 16 at a time)",
        objects: pairs,
        perSecond: reference,
        ratio: null,
        note: "reference",
      },
    ];
    for (const backend of backends) {
      const perSecond = await connectorRun(server, backend, await fresh(), pairs);
      options.log(`  cqa S3 connector on ${backend.name}: ${perSecond.toFixed(0)} conversations/s`);
      rows.push({
        label: `cqa S3 connector run, ${backend.name}`,
        objects: pairs,
        perSecond,
        ratio: perSecond / reference,
        note: "list, read sidecars (SSRF-guarded fetch), ingest + record key/ETag in batches of 200",
      });
    }
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
      pairs,
      rows,
      reference,
      spread,
    };
  } finally {
    await server.close();
  }
}

/** The generated section of docs/benchmarks.md. */
export function s3Section(figures: S3Figures): string {
  return [
    `Measured ${figures.date} on ${figures.machine}. S3Proxy ${"2.6.0"} (filesystem backend, authentication on) on loopback; each row reads ${fmt(figures.pairs)} fresh recording + sidecar pairs, from listing to ingested.`,
    "",
    ...tableLines(
      [
        { heading: "path" },
        { heading: "conversations", numeric: true },
        { heading: "conversations/s", numeric: true },
        { heading: "ratio to bare", numeric: true },
        { heading: "note" },
      ],
      figures.rows.map((r) => [
        r.label,
        fmt(r.objects),
        fmt(r.perSecond),
        r.ratio === null ? "reference" : fmt(r.ratio, 3),
        r.note,
      ]),
    ),
    "",
    ...figures.rows
      .filter((r) => r.ratio !== null)
      .map(
        (r) =>
          `- Aim (≥ 0.25 of the bare loop), ${r.label}: ${fmt(r.ratio, 3)} — ${(r.ratio ?? 0) >= 0.25 ? "met" : "not met"}.`,
      ),
    `- Reference: ${fmt(figures.reference)} sidecars/s (mean of 2 bare runs, spread ${figures.spread.toFixed(0)} %${figures.spread > 20 ? ": the machine was not steady, compare with care" : ""}).`,
  ].join("\n");
}

/** Where the S3 figures go on the results page. */
export const s3Block: GeneratedBlock = {
  name: "s3",
  heading: "S3 figures",
  intro:
    "How fast the S3 connector takes conversations in: `npm run bench -- --only s3` (about a minute; `--quick` for a smoke run).",
};
