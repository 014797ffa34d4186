import { setTimeout as sleep } from "node:timers/promises";
import { describeError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import type { IngestItemResult } from "../../ingest/ingestInteractions.ts";
import type { Queryable } from "../../storage/db.ts";
import {
  activeReplayRun,
  claimPartitions,
  commitPartitionOffsets,
  completeReplayPartitions,
  type KafkaReplayRun,
  listPartitionOffsets,
  mirrorOffsetsToCheckpoint,
  PartitionLostError,
  recordEndOffsets,
  resetPartitionOffsets,
  restoreReplayRequest,
  startReplayRun,
} from "../../storage/repositories/kafkaOffsets.ts";
import type { ConnectorContext, ReplayOffsets, SourceItem, UnreadableRecord } from "../connector.ts";
import type { Ecc6xKafkaCheckpoint, Ecc6xKafkaConfig } from "./config.ts";
import {
  classifyKafkaError,
  KafkaGroupConsumer,
  type KafkaRecordOut,
  KafkaRecordProducer,
  type KafkaRecordRead,
  partitionKey,
} from "./kafkaClient.ts";
import { mapEvent } from "./mapping.ts";
import { tlsFaultBehind } from "./tlsCheck.ts";

type Context = ConnectorContext<Ecc6xKafkaConfig, Ecc6xKafkaCheckpoint>;

/** Consumer lag as the status endpoint and `lag()` show it. */
export interface KafkaLag {
  total: number;
  measured_at: string;
  partitions: { topic: string; partition: number; committed: number; end: number; lag: number }[];
}

/** Payloads kept in a dead letter / copied to the dead-letter topic are cut beyond these sizes. */
const deadLetterPayloadBytes = 256 * 1024;
const deadLetterTopicPayloadBytes = 512 * 1024;
const lagEveryMs = 5_000;
const kafkaCommitEveryMs = 1_000;
const healthyReportEveryMs = 10_000;

interface PartitionState {
  topic: string;
  partition: number;
  /** Everything before it is stored: what the database says. */
  committed: bigint;
  /** Where the next fetch starts (ahead of `committed` by what is buffered). */
  fetchFrom: bigint;
  buffer: KafkaRecordRead[];
}

/** A record taken into a batch, with where it came from. */
interface BatchRecord {
  topic: string;
  partition: number;
  record: KafkaRecordRead;
}

/**
 * One consumer of an ECC6x integration in this process: joins the group, and for the partitions the
 * group gives it, reads events from where the database says, stores a batch of them and the new
 * offsets in one transaction (fenced so a partition lost to another member is never committed), copies
 * poison events to the dead-letter topic, and lets Kafka's own group offsets follow. Reconnects by
 * itself, with back-off, whatever the brokers do.
 */
export class KafkaSourceSession {
  readonly #context: Context;
  readonly #config: Ecc6xKafkaConfig;
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;
  #client: KafkaGroupConsumer | null = null;
  #deadLetters: KafkaRecordProducer | null = null;
  #owner = "";
  #partitions = new Map<string, PartitionState>();
  #assignmentChanged = true;
  #failure: Error | null = null;
  #epoch = 0;
  #fetching: Promise<void> | null = null;
  #replay: { from: Date | null; to: Date | null; offsets: ReplayOffsets | null } | null = null;
  /** The replay under way (of any worker of the group): its run counts the replayed events. */
  #replayRun: KafkaReplayRun | null = null;
  #kafkaCommits = new Map<string, { topic: string; partition: number; offset: bigint }>();
  #lastLagAt = 0;
  #lastKafkaCommitAt = 0;
  #lastHealthyAt = 0;
  #lastError: string | null = null;
  #lag: KafkaLag | null = null;
  #wake: (() => void) | null = null;

  constructor(context: Context) {
    this.#context = context;
    this.#config = context.config;
  }

  /** Takes a pending replay request and starts consuming in the background. */
  async start(): Promise<void> {
    this.#replay = await this.#context.takeReplayRequest();
    this.#loop = this.#run();
  }

  /** Stops consuming: the batch in flight finishes (or rolls back), then the group is left. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    if (this.#replay) {
      // Not applied (the brokers were away): keep it for the next start.
      const replay = this.#replay;
      await this.#inTransaction((tx) =>
        restoreReplayRequest(tx, this.#context.integration.id, {
          from: replay.from?.toISOString() ?? null,
          to: replay.to?.toISOString() ?? null,
          offsets: replay.offsets,
          requested_at: new Date().toISOString(),
        }),
      ).catch(() => {});
    }
  }

  lag(): KafkaLag | null {
    return this.#lag;
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Sessions until stopped: connect, consume, and on any failure report it and reconnect. */
  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        await this.#session();
        failures = 0;
      } catch (error) {
        if (this.#stopped) break;
        failures++;
        await this.#reportError(error);
      } finally {
        await this.#closeClient();
      }
      if (this.#stopped) break;
      // Back off 1 s, 2 s, 4 s … up to 15 s between attempts while the cluster is away.
      await this.#pause(Math.min(1_000 * 2 ** Math.max(0, failures - 1), 15_000));
    }
    await this.#deadLetters?.close();
    this.#deadLetters = null;
  }

  async #session(): Promise<void> {
    this.#failure = null;
    this.#partitions.clear();
    this.#assignmentChanged = true;
    const client = new KafkaGroupConsumer(this.#config, {
      groupId: this.#config.group_id,
      topics: this.#config.topics,
      sessionTimeoutMs: this.#config.consumer.session_timeout_ms,
      onAssignment: () => {
        this.#assignmentChanged = true;
        this.#wake?.();
      },
      onError: (error) => {
        this.#failure ??= error;
        this.#wake?.();
      },
    });
    this.#client = client;
    if (this.#replay) await this.#applyReplay(client, this.#replay);
    await client.join();
    while (!this.#stopped) {
      if (this.#failure) throw this.#failure;
      if (this.#assignmentChanged) await this.#claimAssignment(client);
      await this.#maybeReportLag(client);
      await this.#flushKafkaCommits(client);
      if (this.#buffered() < this.#config.consumer.max_batch_records && !this.#fetching) {
        this.#fetching = this.#fetchInto(client).finally(() => {
          this.#fetching = null;
        });
      }
      if (this.#buffered() === 0) {
        if (this.#partitions.size === 0) {
          await this.#pause(this.#config.consumer.max_wait_ms);
        } else {
          await this.#fetching;
        }
        continue;
      }
      await this.#ingestBatch();
      await this.#reportHealthy();
    }
    await this.#fetching?.catch(() => {});
    await this.#flushKafkaCommits(client).catch(() => {});
  }

  /** Claims the partitions the group assigned (fencing their previous owner) and reads where to start. */
  async #claimAssignment(client: KafkaGroupConsumer): Promise<void> {
    this.#assignmentChanged = false;
    this.#epoch++;
    await this.#fetching?.catch(() => {});
    this.#partitions.clear();
    this.#kafkaCommits.clear();
    const assigned = client.assignment();
    if (assigned.length === 0) return;
    const owner = client.owner();
    const start = await this.#startOffsets(client);
    const claimed = await this.#inTransaction((tx) =>
      claimPartitions(
        tx,
        this.#context.integration.id,
        owner,
        assigned.map((p) => ({ ...p, start: start.get(partitionKey(p.topic, p.partition)) ?? 0n })),
        this.#context.clock.now(),
      ),
    );
    this.#owner = owner;
    for (const p of claimed) {
      this.#partitions.set(partitionKey(p.topic, p.partition), {
        topic: p.topic,
        partition: p.partition,
        committed: p.nextOffset,
        fetchFrom: p.nextOffset,
        buffer: [],
      });
    }
    await this.#loadReplayRun();
  }

  /**
   * Reads the replay under way, if any, and marks done what is already done: partitions of this member
   * stored up to the replay's end, and partitions of topics the integration no longer reads.
   */
  async #loadReplayRun(): Promise<void> {
    const integrationId = this.#context.integration.id;
    const run = await this.#inTransaction((tx) => activeReplayRun(tx, integrationId));
    this.#replayRun = run;
    if (!run) return;
    const done = [...run.pending].filter((key) => {
      const state = this.#partitions.get(key);
      if (state) return state.committed >= (run.until.get(key) ?? 0n);
      return !this.#config.topics.includes(key.slice(0, key.lastIndexOf("/")));
    });
    if (done.length === 0) return;
    await this.#inTransaction((tx) => completeReplayPartitions(tx, run.id, done, this.#context.clock.now()));
    for (const key of done) run.pending.delete(key);
  }

  /** Where a partition never read before starts, by `start_position`. */
  async #startOffsets(client: KafkaGroupConsumer): Promise<Map<string, bigint>> {
    const position = this.#config.start_position;
    return client.offsets(
      position.type === "timestamp"
        ? new Date(position.at)
        : position.type === "earliest"
          ? "earliest"
          : "latest",
    );
  }

  /**
   * A replay (backfill): the partitions move to the offsets asked for, or every partition to its first
   * event at or after `from` (or the start). A run (trigger `backfill`) counts the events replayed, up
   * to each partition's end as it is now.
   */
  async #applyReplay(
    client: KafkaGroupConsumer,
    replay: { from: Date | null; offsets: ReplayOffsets | null },
  ): Promise<void> {
    const ends = await client.offsets("latest");
    const starts = replay.offsets
      ? new Map(
          Object.entries(replay.offsets).flatMap(([topic, partitions]) =>
            Object.entries(partitions)
              .map(([partition, offset]) => [partitionKey(topic, Number(partition)), BigInt(offset)] as const)
              // Checked when asked for; a topic dropped from the config since is left out.
              .filter(([key]) => ends.has(key)),
          ),
        )
      : await client.offsets(replay.from ?? "earliest");
    const until = new Map([...starts.keys()].map((key) => [key, ends.get(key) ?? 0n]));
    const integration = this.#context.integration;
    await this.#inTransaction(async (tx) => {
      const now = this.#context.clock.now();
      await resetPartitionOffsets(
        tx,
        integration.id,
        [...starts].map(([key, nextOffset]) => {
          const cut = key.lastIndexOf("/");
          return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), nextOffset };
        }),
        now,
      );
      await mirrorOffsetsToCheckpoint(tx, integration.id);
      await startReplayRun(
        tx,
        {
          id: newId(),
          integrationId: integration.id,
          accountId: integration.accountId,
          from: replay.offsets ? null : replay.from,
          offsets: starts,
          until,
        },
        now,
      );
    });
    this.#replay = null;
  }

  #buffered(): number {
    let count = 0;
    for (const p of this.#partitions.values()) count += p.buffer.length;
    return count;
  }

  /** Fetches for the partitions with nothing buffered; results of an older assignment are dropped. */
  async #fetchInto(client: KafkaGroupConsumer): Promise<void> {
    const epoch = this.#epoch;
    const wanted = [...this.#partitions.values()].filter((p) => p.buffer.length === 0);
    if (wanted.length === 0) return;
    let fetched: Awaited<ReturnType<KafkaGroupConsumer["fetch"]>>;
    try {
      fetched = await client.fetch(
        wanted.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.fetchFrom })),
        {
          maxWaitMs: this.#config.consumer.max_wait_ms,
          // One record is always returned even when larger, so an oversized event never blocks.
          maxBytes: Math.min(Math.max(this.#config.event.max_bytes * 2, 4 * 1024 * 1024), 64 * 1024 * 1024),
        },
      );
    } catch (error) {
      if (epoch === this.#epoch) this.#failure ??= error instanceof Error ? error : new Error(String(error));
      return;
    }
    if (epoch !== this.#epoch) return;
    for (const f of fetched) {
      const state = this.#partitions.get(partitionKey(f.topic, f.partition));
      if (!state) continue;
      if (f.error === "OFFSET_OUT_OF_RANGE") {
        // The topic's retention deleted events before cqa read them (or the offset is past the end):
        // continue from the oldest event still kept, and say so.
        const resumeAt = state.fetchFrom < f.logStartOffset ? f.logStartOffset : f.highWatermark;
        this.#context.log.warn("kafka offset out of range; continuing from the oldest kept event", {
          topic: f.topic,
          partition: f.partition,
          offset: state.fetchFrom.toString(),
          resume_at: resumeAt.toString(),
        });
        await this.#reportError(
          new Error(
            `Partition ${partitionKey(f.topic, f.partition)} no longer holds offset ${state.fetchFrom} (the topic's retention deleted it before cqa read it); continuing from ${resumeAt}`,
          ),
        );
        state.fetchFrom = resumeAt;
        state.buffer = [];
        continue;
      }
      if (f.error !== null) continue;
      state.buffer.push(...f.records);
      if (f.nextOffset > state.fetchFrom) state.fetchFrom = f.nextOffset;
    }
  }

  /**
   * Takes up to max_batch_records buffered events, and the offset each partition then moves to. While
   * a replay is under way a batch holds only replayed events (below each partition's replay end), so
   * the replay's run counts exactly them; `replayRunId` is then that run.
   */
  #takeBatch(): { records: BatchRecord[]; offsets: Map<string, bigint>; replayRunId: string | null } {
    const records: BatchRecord[] = [];
    const offsets = new Map<string, bigint>();
    const max = this.#config.consumer.max_batch_records;
    const run = this.#replayRun;
    const replaying =
      run !== null &&
      [...this.#partitions].some(
        ([key, state]) =>
          run.pending.has(key) &&
          state.buffer.length > 0 &&
          state.buffer[0]!.offset < (run.until.get(key) ?? 0n),
      );
    for (const [key, state] of this.#partitions) {
      if (replaying && !run.pending.has(key)) continue;
      const limit = replaying ? (run.until.get(key) ?? 0n) : null;
      let taken = 0;
      while (
        taken < state.buffer.length &&
        records.length < max &&
        (limit === null || state.buffer[taken]!.offset < limit)
      ) {
        records.push({ topic: state.topic, partition: state.partition, record: state.buffer[taken]! });
        taken++;
      }
      const next = taken === state.buffer.length ? state.fetchFrom : state.buffer[taken]!.offset;
      if (next > state.committed) offsets.set(key, next);
      if (records.length >= max) break;
    }
    return { records, offsets, replayRunId: replaying ? run.id : null };
  }

  /** Maps, stores and commits one batch; poison events go to the dead letters and the dead-letter topic. */
  async #ingestBatch(): Promise<void> {
    const { records, offsets, replayRunId } = this.#takeBatch();
    const items: SourceItem[] = [];
    const unreadable: UnreadableRecord[] = [];
    const poison: { batch: BatchRecord; code: string; reason: string }[] = [];
    const itemRecords: BatchRecord[] = [];
    const ids = new Set<string>();
    for (const entry of records) {
      const sourceRef = `${partitionKey(entry.topic, entry.partition)}@${entry.record.offset}`;
      const mapped = mapEvent(entry.record.value, this.#config.event);
      if (mapped.ok && ids.has(mapped.externalId)) {
        // A call sent again within the batch: the first one stands, as for a re-send in a later batch.
        continue;
      }
      if (mapped.ok) {
        ids.add(mapped.externalId);
        items.push({
          sourceRef,
          item: mapped.item,
          raw: rawText(entry.record.value, deadLetterPayloadBytes),
        });
        itemRecords.push(entry);
      } else {
        unreadable.push({
          sourceRef,
          raw: rawText(entry.record.value, deadLetterPayloadBytes),
          code: mapped.code,
          reason: mapped.reason,
        });
        poison.push({ batch: entry, code: mapped.code, reason: mapped.reason });
      }
    }
    const integrationId = this.#context.integration.id;
    const owner = this.#owner;
    const run = this.#replayRun;
    // Replayed partitions this batch brings to the replay's end.
    const caughtUp = run
      ? [...offsets].filter(([key, next]) => run.pending.has(key) && next >= (run.until.get(key) ?? 0n))
      : [];
    try {
      await this.#context.ingest(items, {
        unreadable,
        seen: records.length,
        runId: replayRunId,
        inTransaction: async (tx, results) => {
          await commitPartitionOffsets(
            tx,
            integrationId,
            owner,
            [...offsets].map(([key, nextOffset]) => {
              const state = this.#partitions.get(key)!;
              return { topic: state.topic, partition: state.partition, nextOffset };
            }),
            this.#context.clock.now(),
          );
          await mirrorOffsetsToCheckpoint(tx, integrationId);
          if (run && caughtUp.length > 0) {
            await completeReplayPartitions(
              tx,
              run.id,
              caughtUp.map(([key]) => key),
              this.#context.clock.now(),
            );
          }
          // Dead-letter copies are sent before the offsets commit: a crash re-sends, never skips.
          await this.#sendToDeadLetterTopic(poison, rejectedOf(results, itemRecords));
        },
      });
    } catch (error) {
      if (error instanceof PartitionLostError) {
        // Another member owns these now: leave their events to it; the others are read again.
        this.#epoch++;
        for (const p of error.partitions) this.#partitions.delete(partitionKey(p.topic, p.partition));
        for (const state of this.#partitions.values()) {
          state.buffer = [];
          state.fetchFrom = state.committed;
        }
        return;
      }
      throw error;
    }
    for (const [key] of caughtUp) run?.pending.delete(key);
    for (const [key, nextOffset] of offsets) {
      const state = this.#partitions.get(key);
      if (!state) continue;
      state.buffer = state.buffer.filter((r) => r.offset >= nextOffset);
      state.committed = nextOffset;
      this.#kafkaCommits.set(key, { topic: state.topic, partition: state.partition, offset: nextOffset });
    }
  }

  async #sendToDeadLetterTopic(
    poison: readonly { batch: BatchRecord; code: string; reason: string }[],
    rejected: readonly { batch: BatchRecord; code: string; reason: string }[],
  ): Promise<void> {
    const topic = this.#config.dead_letter_topic;
    const all = [...poison, ...rejected];
    if (topic === null || all.length === 0) return;
    this.#deadLetters ??= new KafkaRecordProducer(this.#config, "dead-letters");
    const now = this.#context.clock.now().toISOString();
    const records: KafkaRecordOut[] = all.map(({ batch, code, reason }) => {
      const value = batch.record.value ?? Buffer.alloc(0);
      const truncated = value.length > deadLetterTopicPayloadBytes;
      return {
        topic,
        key:
          batch.record.key?.toString("utf8") ??
          `${partitionKey(batch.topic, batch.partition)}@${batch.record.offset}`,
        value: truncated ? value.subarray(0, deadLetterTopicPayloadBytes) : value,
        headers: {
          "cqa-error-code": code,
          "cqa-error-reason": reason.slice(0, 2000),
          "cqa-source-topic": batch.topic,
          "cqa-source-partition": String(batch.partition),
          "cqa-source-offset": batch.record.offset.toString(),
          "cqa-integration-id": this.#context.integration.id,
          "cqa-dead-lettered-at": now,
          ...(truncated ? { "cqa-truncated": "true", "cqa-original-bytes": String(value.length) } : {}),
        },
      };
    });
    await this.#deadLetters.send(records);
  }

  /** Lets the group's offsets in Kafka follow the stored ones (for the cluster's own lag tools). */
  async #flushKafkaCommits(client: KafkaGroupConsumer): Promise<void> {
    if (this.#kafkaCommits.size === 0 || Date.now() - this.#lastKafkaCommitAt < kafkaCommitEveryMs) return;
    this.#lastKafkaCommitAt = Date.now();
    const offsets = [...this.#kafkaCommits.values()];
    this.#kafkaCommits.clear();
    // Best effort: a member that lost its partitions is refused by the broker, which is right.
    await client.commit(offsets).catch(() => {});
  }

  /** Measures lag of every partition (end offset − stored offset) for the status and /metrics. */
  async #maybeReportLag(client: KafkaGroupConsumer): Promise<void> {
    if (Date.now() - this.#lastLagAt < lagEveryMs) return;
    await this.#measureLag(client);
    // The cluster answered: a consumer that is idle after an outage is healthy again too.
    await this.#reportHealthy();
  }

  async #measureLag(client: KafkaGroupConsumer): Promise<void> {
    this.#lastLagAt = Date.now();
    const ends = await client.offsets("latest");
    const integrationId = this.#context.integration.id;
    const rows = await this.#inTransaction(async (tx) => {
      await recordEndOffsets(
        tx,
        integrationId,
        [...ends].map(([key, endOffset]) => {
          const cut = key.lastIndexOf("/");
          return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), endOffset };
        }),
        this.#context.clock.now(),
      );
      return listPartitionOffsets(tx, integrationId);
    });
    const stored = new Map(rows.map((r) => [partitionKey(r.topic, r.partition), r.nextOffset]));
    const partitions = [...ends].map(([key, end]) => {
      const cut = key.lastIndexOf("/");
      const committed = stored.get(key) ?? 0n;
      const lag = end > committed ? end - committed : 0n;
      return {
        topic: key.slice(0, cut),
        partition: Number(key.slice(cut + 1)),
        committed: Number(committed),
        end: Number(end),
        lag: Number(lag),
      };
    });
    this.#lag = {
      total: partitions.reduce((sum, p) => sum + p.lag, 0),
      measured_at: this.#context.clock.now().toISOString(),
      partitions,
    };
    await this.#context.reportHealth({ lag: this.#lag });
  }

  async #reportHealthy(): Promise<void> {
    if (this.#lastError === null && Date.now() - this.#lastHealthyAt < healthyReportEveryMs) return;
    this.#lastHealthyAt = Date.now();
    this.#lastError = null;
    await this.#context.reportHealth({ success: true, error: null });
  }

  async #reportError(error: unknown): Promise<void> {
    const failure = classifyKafkaError(error, this.#config.brokers);
    // The client reports a TLS fault as a closed connection (or a failed SASL exchange): name it.
    const tlsFault = ["reach", "tls", "auth"].includes(failure.kind)
      ? await tlsFaultBehind(this.#config).catch(() => null)
      : null;
    const message =
      tlsFault ?? (failure.kind === "other" ? `Kafka consumer: ${describeError(error)}` : failure.message);
    if (message === this.#lastError) return;
    this.#lastError = message;
    await this.#context.reportHealth({ error: message }).catch(() => {});
  }

  /** A transaction through the canonical ingest path with no records: offsets, claims, lag. */
  async #inTransaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let result: T | undefined;
    await this.#context.ingest([], {
      seen: 0,
      inTransaction: async (tx) => {
        result = await work(tx);
      },
    });
    return result as T;
  }

  async #pause(ms: number): Promise<void> {
    if (this.#stopped) return;
    await Promise.race([
      sleep(ms, undefined, { signal: this.#abort.signal }).catch(() => {}),
      new Promise<void>((resolve) => {
        this.#wake = resolve;
      }),
    ]);
    this.#wake = null;
  }

  async #closeClient(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#partitions.clear();
    if (client) await client.close();
  }
}

/** The events the ingest path rejected (invalid, over the cap), for the dead-letter topic. */
function rejectedOf(
  results: readonly IngestItemResult[],
  itemRecords: readonly BatchRecord[],
): { batch: BatchRecord; code: string; reason: string }[] {
  const rejected: { batch: BatchRecord; code: string; reason: string }[] = [];
  for (const result of results) {
    if (result.status !== "rejected") continue;
    const batch = itemRecords[result.index];
    if (batch)
      rejected.push({
        batch,
        code: result.code === "VALIDATION_ERROR" ? "WRONG_SCHEMA" : result.code,
        reason: result.reason,
      });
  }
  return rejected;
}

/** The record as text for a dead letter, cut to `max` bytes (the offset finds the original). */
function rawText(value: Buffer | null, max: number): string {
  if (value === null) return "";
  if (value.length <= max) return value.toString("utf8");
  return `${value.subarray(0, max).toString("utf8")}… [cut: the event has ${value.length} bytes]`;
}
