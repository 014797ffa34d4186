// The ECC6x Kafka figures of `npm run bench` (docs/benchmarks.md, "Kafka figures"), on a real Apache
// Kafka broker started for the run (scripts/kafka/broker.ts):
//   - throughput: events/s through consume → map → ingest → commit (cqa's consumer, loops off so only
//     that path runs), as a ratio to a bare consume loop of the same client on the same broker;
//   - latency: event produced → feedback record produced, at a steady rate with transcripts supplied,
//     with the whole pipeline running (analysis, outbox, feedback producer).
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { kafkaVersion, startKafkaBroker } from "../scripts/kafka/broker.ts";
import { loadConfig } from "../src/config/config.ts";
import {
  bareConsume,
  followTopic,
  type KafkaConnectionSettings,
  KafkaTestTool,
} from "../src/connectors/ecc6x-kafka/kafkaClient.ts";
import { type RunningCqa, startCqa } from "../src/server/runtime.ts";
import type { Database } from "../src/storage/db.ts";
import { openPglite } from "../src/storage/pglite.ts";
import { openPostgres } from "../src/storage/postgres.ts";
import { formatFigure, type GeneratedBlock, tableLines } from "./report.ts";

const operatorToken = "bench-operator-token-0123456789abcdef";

export interface KafkaThroughputRow {
  label: string;
  events: number;
  eventsPerSecond: number | null;
  ratio: number | null;
  note: string;
}

export interface KafkaLatencyRow {
  label: string;
  rate: number;
  events: number;
  received: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Feedback records per second from the first event sent to the last record received. */
  deliveredPerSecond: number | null;
  note: string;
}

export interface KafkaFigures {
  date: string;
  machine: string;
  throughput: KafkaThroughputRow[];
  latency: KafkaLatencyRow[];
  reference: number;
  spread: number;
}

interface Backend {
  name: string;
  open(): Promise<{ db: Database; dispose(): Promise<void> }>;
}

function backendsFor(databaseUrl: string | null): Backend[] {
  const list: Backend[] = [
    {
      name: "PGlite",
      async open() {
        const dir = mkdtempSync(join(tmpdir(), "cqa-bench-kafka-"));
        const db = await openPglite(join(dir, "db"));
        return {
          db,
          async dispose() {
            await db.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
  if (databaseUrl) {
    list.push({
      name: "PostgreSQL",
      async open() {
        const schema = `cqa_bench_kafka_${Date.now().toString(36)}`;
        const db = await openPostgres({ connectionString: databaseUrl, schema });
        return {
          db,
          async dispose() {
            await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
            await db.close();
          },
        };
      },
    });
  }
  return list;
}

/** An in-process cqa on `db`; `loops` runs the pipeline, otherwise only the consumer (tick) runs. */
async function startBenchCqa(db: Database, loops: boolean): Promise<{ cqa: RunningCqa; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), "cqa-bench-kafka-data-"));
  const config = loadConfig({
    CQA_DATA_DIR: dataDir,
    CQA_PORT: "0",
    CQA_HOST: "127.0.0.1",
    CQA_OPERATOR_TOKEN: operatorToken,
    CQA_SECRET_KEY: "bench-master-key-0123456789abcdef0123456789",
    CQA_LOG_LEVEL: "error",
  });
  const cqa = await startCqa({ config, database: db, listen: false, runLoops: loops });
  return { cqa, dataDir };
}

async function api(cqa: RunningCqa, method: string, path: string, body: unknown, apiKey?: string) {
  const response = await cqa.app.request(path, {
    method,
    headers: {
      "content-type": "application/json",
      ...(apiKey ? { "x-api-key": apiKey } : { authorization: `Bearer ${operatorToken}` }),
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { data: Record<string, string> };
  if (response.status >= 300)
    throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
  return answer.data;
}

async function createIntegration(cqa: RunningCqa, config: Record<string, unknown>): Promise<string> {
  const account = await api(cqa, "POST", "/api/v1/accounts", {
    name: "Bench",
    limits: { conversation_cap: "unlimited" },
  });
  const integration = await api(
    cqa,
    "POST",
    `/api/v1/accounts/${account["account_id"]}/integrations`,
    { kind: "ecc6x_kafka", name: "ECC6x bench", config },
    account["api_key"],
  );
  return integration["integration_id"]!;
}

function event(callSid: string): string {
  return JSON.stringify({
    call_sid: callSid,
    channel: "VOICE",
    direction: "INBOUND",
    agent: { id: "A-1042", name: "Priya" },
    campaign: "billing-support",
    start_time: "2026-05-01T10:15:00Z",
    duration_seconds: 312,
    transcript:
      "Agent: Thank you for calling Acme, my name is Priya. How can I help you today?\n" +
      "Customer: I was charged twice for my order.\n" +
      "Agent: I am sorry about that, let me check it for you.\n" +
      "Agent: Is there anything else I can help you with today?",
  });
}

async function produceAll(tool: KafkaTestTool, topic: string, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    const n = Math.min(500, count - i);
    await tool.produce(
      Array.from({ length: n }, (_, j) => {
        const id = `${prefix}-${i + j}`;
        return { topic, key: id, value: event(id) };
      }),
    );
  }
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Runs the Kafka benchmark: broker up, throughput rows, latency rows, broker down. */
export async function measureKafka(options: {
  quick: boolean;
  databaseUrl: string | null;
  rate: number;
  log: (line: string) => void;
}): Promise<KafkaFigures> {
  const { log } = options;
  const events = options.quick ? 5_000 : 30_000;
  const latencySeconds = options.quick ? 5 : 30;
  log(`  starting Apache Kafka ${kafkaVersion} (scripts/kafka/broker.ts) …`);
  const broker = await startKafkaBroker();
  const settings: KafkaConnectionSettings = {
    brokers: [broker.bootstrap],
    client_id: "cqa-bench",
    tls: { enabled: false, ca: null, cert: null, key: null, server_name: null, reject_unauthorized: true },
    sasl: null,
  };
  const tool = new KafkaTestTool(settings);
  const throughput: KafkaThroughputRow[] = [];
  const latency: KafkaLatencyRow[] = [];
  try {
    const topic = `bench-events-${Date.now().toString(36)}`;
    await tool.createTopic(topic, 3);
    log(`  producing ${events.toLocaleString("en-GB")} events with transcripts …`);
    await produceAll(tool, topic, "CA-THROUGHPUT", events);

    const bare = async (when: string) => {
      const { read, elapsedMs } = await bareConsume(settings, topic, events);
      const rate = read / (elapsedMs / 1000);
      log(`  bare consume loop (${when}): ${Math.round(rate).toLocaleString("en-GB")} events/s`);
      throughput.push({
        label: `bare consume loop, @platformatic/kafka (${when})`,
        events: read,
        eventsPerSecond: rate,
        ratio: null,
        note: "",
      });
      return rate;
    };
    const bareRates = [await bare("first")];
    for (const backend of backendsFor(options.databaseUrl)) {
      const { db, dispose } = await backend.open();
      const { cqa, dataDir } = await startBenchCqa(db, false);
      try {
        const integrationId = await createIntegration(cqa, {
          brokers: [broker.bootstrap],
          topics: [topic],
          group_id: `cqa-bench-${backend.name}-${Date.now()}`,
          consumer: { max_batch_records: 1000, max_wait_ms: 100 },
        });
        await cqa.supervisor?.tick();
        const stored = async () =>
          Number(
            (
              await db.query<{ n: string }>(
                "SELECT coalesce(sum(next_offset), 0)::text AS n FROM kafka_partition_offsets WHERE integration_id = $1",
                [integrationId],
              )
            ).rows[0]?.n ?? 0,
          );
        let first = 0;
        const deadline = Date.now() + 600_000;
        for (;;) {
          const n = await stored();
          if (n > 0 && first === 0) first = performance.now();
          if (n >= events) break;
          if (Date.now() > deadline) throw new Error(`cqa stored ${n} of ${events} events in 10 minutes`);
          await delay(20);
        }
        const seconds = (performance.now() - first) / 1000;
        const rate = events / seconds;
        log(
          `  cqa consume → ingest → commit, ${backend.name}: ${Math.round(rate).toLocaleString("en-GB")} events/s`,
        );
        throughput.push({
          label: `cqa consume → ingest → commit, ${backend.name}`,
          events,
          eventsPerSecond: rate,
          ratio: null,
          note: "batches of up to 1,000, one transaction each",
        });
      } finally {
        await cqa.stop();
        rmSync(dataDir, { recursive: true, force: true });
        await dispose();
      }
    }
    bareRates.push(await bare("last"));
    const reference = bareRates.reduce((a, b) => a + b, 0) / bareRates.length;
    const spread = ((Math.max(...bareRates) - Math.min(...bareRates)) / reference) * 100;
    for (const row of throughput)
      if (row.label.startsWith("cqa")) row.ratio = (row.eventsPerSecond ?? 0) / reference;

    // At the asked rate, and at a rate the analysis pipeline of a small machine keeps up with, to
    // show what the Kafka path itself adds.
    const rates = [...new Set([options.rate, 50])];
    for (const rate of rates) {
      for (const backend of backendsFor(options.databaseUrl)) {
        latency.push(
          await measureLatency(backend, broker.bootstrap, tool, settings, rate, latencySeconds, log),
        );
      }
    }
    return {
      date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
      machine: `${availableParallelism()} cores (${cpus()[0]?.model.trim().split(" ").slice(0, 2).join(" ") ?? "?"}), ${Math.round(totalmem() / 1024 ** 3)} GB RAM, Node ${process.version}, Apache Kafka ${kafkaVersion} (one KRaft node on loopback)`,
      throughput,
      latency,
      reference,
      spread,
    };
  } finally {
    await tool.close();
    await broker.stop();
  }
}

async function measureLatency(
  backend: Backend,
  bootstrap: string,
  tool: KafkaTestTool,
  settings: KafkaConnectionSettings,
  rate: number,
  seconds: number,
  log: (line: string) => void,
): Promise<KafkaLatencyRow> {
  const suffix = Date.now().toString(36);
  const topic = `bench-live-${suffix}`;
  const feedbackTopic = `bench-feedback-${suffix}`;
  await tool.createTopic(topic, 3);
  await tool.createTopic(feedbackTopic, 3);
  const { db, dispose } = await backend.open();
  const { cqa, dataDir } = await startBenchCqa(db, true);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let lastArrival = 0;
  const stopFollowing = await followTopic(settings, feedbackTopic, (key) => {
    const sent = key ? sentAt.get(key) : undefined;
    if (sent !== undefined) {
      lastArrival = performance.now();
      latencies.push(lastArrival - sent);
      sentAt.delete(key!);
    }
  });
  let started = 0;
  const total = rate * seconds;
  try {
    await createIntegration(cqa, {
      brokers: [bootstrap],
      topics: [topic],
      group_id: `cqa-bench-live-${suffix}`,
      start_position: { type: "earliest" },
      feedback_topic: feedbackTopic,
      consumer: { max_batch_records: 500, max_wait_ms: 100 },
    });
    await cqa.supervisor?.tick();
    await delay(3_000); // the consumer joins its group before the clock starts
    log(`  steady ${rate} events/s for ${seconds} s, ${backend.name} …`);
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
    started = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + perTick);
      const batch: { topic: string; key: string; value: string }[] = [];
      while (sent < due) {
        const id = `CA-LIVE-${suffix}-${sent++}`;
        sentAt.set(id, performance.now());
        batch.push({ topic, key: id, value: event(id) });
      }
      if (batch.length > 0) await tool.produce(batch);
      await delay(tickMs);
    }
    const deadline = Date.now() + 120_000;
    while (latencies.length < total && Date.now() < deadline) await delay(100);
  } finally {
    await stopFollowing();
    await cqa.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await dispose();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const row: KafkaLatencyRow = {
    label: `event → feedback record, ${backend.name}`,
    rate,
    events: total,
    received: latencies.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? null,
    deliveredPerSecond: latencies.length > 0 ? latencies.length / ((lastArrival - started) / 1000) : null,
    note:
      latencies.length < total ? `${total - latencies.length} feedback records missing after 2 minutes` : "",
  };
  log(
    `    p50 ${Math.round(row.p50Ms ?? 0)} ms, p99 ${Math.round(row.p99Ms ?? 0)} ms (${row.received}/${total} records)`,
  );
  return row;
}

const fmt = formatFigure;

/** The generated section of docs/benchmarks.md. */
export function kafkaSection(figures: KafkaFigures): string {
  const lines = [
    `Measured ${figures.date} on ${figures.machine}. cqa in process, worker concurrency 4.`,
    "",
    ...tableLines(
      [
        { heading: "throughput" },
        ...["events", "events/s", "ratio to bare"].map((heading) => ({ heading, numeric: true })),
        { heading: "note" },
      ],
      figures.throughput.map((r) => [
        r.label,
        fmt(r.events),
        fmt(r.eventsPerSecond),
        r.ratio === null ? "reference" : fmt(r.ratio, 3),
        r.note,
      ]),
    ),
    "",
    ...tableLines(
      [
        { heading: "latency, event → feedback record" },
        ...["rate", "events", "received", "fed back/s", "p50 ms", "p99 ms", "max ms"].map((heading) => ({
          heading,
          numeric: true,
        })),
        { heading: "note" },
      ],
      figures.latency.map((r) => [
        r.label,
        `${r.rate}/s`,
        ...[r.events, r.received, r.deliveredPerSecond, r.p50Ms, r.p99Ms, r.maxMs].map((n) => fmt(n)),
        r.note,
      ]),
    ),
    "",
    ...figures.throughput
      .filter((r) => r.ratio !== null)
      .map(
        (r) =>
          `- Aim (≥ 0.25 of the bare loop), ${r.label}: ${fmt(r.ratio, 3)} — ${(r.ratio ?? 0) >= 0.25 ? "met" : "not met"}.`,
      ),
    ...figures.latency.map(
      (r) =>
        `- Aim (p99 < 1 s at ${r.rate} events/s), ${r.label}: ${fmt(r.p99Ms)} ms — ${r.p99Ms !== null && r.p99Ms < 1000 && r.received === r.events ? "met" : "not met"}.`,
    ),
    `- Reference: ${fmt(figures.reference)} events/s (mean of 2 bare runs, spread ${figures.spread.toFixed(0)} %${figures.spread > 20 ? ": the machine was not steady, compare with care" : ""}).`,
  ];
  return lines.join("\n");
}

/** Where the Kafka figures go on the results page. */
export const kafkaBlock: GeneratedBlock = { name: "kafka", heading: "Kafka figures" };
