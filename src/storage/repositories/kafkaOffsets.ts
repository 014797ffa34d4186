import { AppError } from "../../core/errors.ts";
import type { Queryable } from "../db.ts";

/** One partition of a Kafka integration: where it is up to and who owns it. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  nextOffset: bigint;
  owner: string | null;
  endOffset: bigint | null;
  endOffsetAt: Date | null;
}

interface Row {
  topic: string;
  partition: number;
  next_offset: string;
  owner: string | null;
  end_offset: string | null;
  end_offset_at: Date | string | null;
}

const toOffset = (row: Row): PartitionOffset => ({
  topic: row.topic,
  partition: Number(row.partition),
  nextOffset: BigInt(row.next_offset),
  owner: row.owner,
  endOffset: row.end_offset === null ? null : BigInt(row.end_offset),
  endOffsetAt: row.end_offset_at === null ? null : new Date(row.end_offset_at),
});

const select = `SELECT topic, partition, next_offset::text AS next_offset, owner, end_offset::text AS end_offset,
  end_offset_at FROM kafka_partition_offsets`;

/** Every partition an integration has read, in topic and partition order. */
export async function listPartitionOffsets(q: Queryable, integrationId: string): Promise<PartitionOffset[]> {
  const result = await q.query<Row>(`${select} WHERE integration_id = $1 ORDER BY topic, partition`, [
    integrationId,
  ]);
  return result.rows.map(toOffset);
}

/**
 * Takes partitions for a consumer that the group just assigned them to: each becomes owned by
 * `owner`, and answers where to read from — the stored offset, or `start` for a partition never read.
 * A consumer that lost a partition can no longer commit it ({@link commitPartitionOffsets}).
 */
export async function claimPartitions(
  q: Queryable,
  integrationId: string,
  owner: string,
  partitions: readonly { topic: string; partition: number; start: bigint }[],
  now: Date,
): Promise<PartitionOffset[]> {
  const claimed: PartitionOffset[] = [];
  for (const p of partitions) {
    const result = await q.query<Row>(
      `INSERT INTO kafka_partition_offsets (integration_id, topic, partition, next_offset, owner, updated_at)
       VALUES ($1, $2, $3, $4::bigint, $5, $6)
       ON CONFLICT (integration_id, topic, partition) DO UPDATE SET owner = EXCLUDED.owner
       RETURNING topic, partition, next_offset::text AS next_offset, owner, end_offset::text AS end_offset, end_offset_at`,
      [integrationId, p.topic, p.partition, p.start.toString(), owner, now],
    );
    claimed.push(toOffset(result.rows[0]!));
  }
  return claimed;
}

/** Raised inside an ingest transaction when the consumer no longer owns a partition it read. */
export class PartitionLostError extends AppError {
  readonly partitions: readonly { topic: string; partition: number }[];

  constructor(partitions: readonly { topic: string; partition: number }[]) {
    super(
      "STORAGE_ERROR",
      `Partition(s) ${partitions.map((p) => `${p.topic}/${p.partition}`).join(", ")} now belong to another consumer of the group; their events are left to it`,
      { retryable: true },
    );
    this.partitions = partitions;
  }
}

/**
 * Advances partitions, in the transaction that stored their events — only where `owner` still owns
 * them. Throws {@link PartitionLostError} (rolling the transaction back) for any it no longer owns.
 */
export async function commitPartitionOffsets(
  q: Queryable,
  integrationId: string,
  owner: string,
  offsets: readonly { topic: string; partition: number; nextOffset: bigint }[],
  now: Date,
): Promise<void> {
  const lost: { topic: string; partition: number }[] = [];
  for (const o of offsets) {
    const result = await q.query(
      `UPDATE kafka_partition_offsets SET next_offset = $5::bigint, updated_at = $6
       WHERE integration_id = $1 AND topic = $2 AND partition = $3 AND owner = $4`,
      [integrationId, o.topic, o.partition, owner, o.nextOffset.toString(), now],
    );
    if (result.rowCount === 0) lost.push({ topic: o.topic, partition: o.partition });
  }
  if (lost.length > 0) throw new PartitionLostError(lost);
}

/**
 * Moves partitions to new offsets for a replay (backfill) and releases them: whichever consumer owns
 * them now cannot commit any more, and each reads from the new offset once the group reassigns it.
 */
export async function resetPartitionOffsets(
  q: Queryable,
  integrationId: string,
  offsets: readonly { topic: string; partition: number; nextOffset: bigint }[],
  now: Date,
): Promise<void> {
  for (const o of offsets) {
    await q.query(
      `INSERT INTO kafka_partition_offsets (integration_id, topic, partition, next_offset, owner, updated_at)
       VALUES ($1, $2, $3, $4::bigint, NULL, $5)
       ON CONFLICT (integration_id, topic, partition)
       DO UPDATE SET next_offset = EXCLUDED.next_offset, owner = NULL, updated_at = EXCLUDED.updated_at`,
      [integrationId, o.topic, o.partition, o.nextOffset.toString(), now],
    );
  }
}

/** Records the partitions' end offsets (high watermarks) as last seen, for lag. */
export async function recordEndOffsets(
  q: Queryable,
  integrationId: string,
  ends: readonly { topic: string; partition: number; endOffset: bigint }[],
  now: Date,
): Promise<void> {
  for (const e of ends) {
    await q.query(
      `UPDATE kafka_partition_offsets SET end_offset = $4::bigint, end_offset_at = $5
       WHERE integration_id = $1 AND topic = $2 AND partition = $3`,
      [integrationId, e.topic, e.partition, e.endOffset.toString(), now],
    );
  }
}

/** Consumer lag of every Kafka partition of every integration, for /metrics. */
export async function kafkaPartitionLag(
  q: Queryable,
): Promise<{ integrationId: string; topic: string; partition: number; lag: number }[]> {
  const result = await q.query<{ integration_id: string; topic: string; partition: number; lag: string }>(
    `SELECT integration_id, topic, partition, GREATEST(end_offset - next_offset, 0)::text AS lag
     FROM kafka_partition_offsets WHERE end_offset IS NOT NULL ORDER BY integration_id, topic, partition`,
  );
  return result.rows.map((r) => ({
    integrationId: r.integration_id,
    topic: r.topic,
    partition: Number(r.partition),
    lag: Number(r.lag),
  }));
}

/** Puts a replay request back when it could not be applied (the broker was away), without a restart. */
export async function restoreReplayRequest(
  q: Queryable,
  integrationId: string,
  replay: unknown,
): Promise<void> {
  await q.query("UPDATE integrations SET replay = coalesce(replay, $2::jsonb) WHERE id = $1", [
    integrationId,
    JSON.stringify(replay),
  ]);
}

/**
 * Copies the partitions' offsets into the integration's checkpoint (`{partitions: {"topic/0": 42}}`),
 * which the status endpoint shows. Call it in the transaction that moved them.
 */
export async function mirrorOffsetsToCheckpoint(q: Queryable, integrationId: string): Promise<void> {
  await q.query(
    `UPDATE integrations SET checkpoint = jsonb_build_object('partitions',
       (SELECT coalesce(jsonb_object_agg(topic || '/' || partition, next_offset), '{}'::jsonb)
        FROM kafka_partition_offsets WHERE integration_id = $1))
     WHERE id = $1`,
    [integrationId],
  );
}

/**
 * A replay (backfill) of a Kafka integration, kept as a run (trigger `backfill`) so its counters —
 * seen, ingested, duplicate, rejected — show what the replay did. It covers each replayed partition
 * from its new offset up to `until`, the partition's end when the replay was applied; it succeeds
 * once every such partition's stored offset has reached it. `details` holds `offsets` (where each
 * partition restarted), `until` and `pending` (the partitions not there yet).
 */
export interface KafkaReplayRun {
  id: string;
  until: Map<string, bigint>;
  pending: Set<string>;
}

/** Starts the run of a replay just applied; a replay still under way is superseded by it. */
export async function startReplayRun(
  q: Queryable,
  run: {
    id: string;
    integrationId: string;
    accountId: string;
    from: Date | null;
    /** `topic/partition` → where it restarts. */
    offsets: ReadonlyMap<string, bigint>;
    /** `topic/partition` → its end when the replay was applied. */
    until: ReadonlyMap<string, bigint>;
  },
  now: Date,
): Promise<void> {
  await q.query(
    `UPDATE integration_runs SET status = 'failed', error = 'Superseded by a newer replay', finished_at = $2
     WHERE integration_id = $1 AND trigger = 'backfill' AND status = 'running'`,
    [run.integrationId, now],
  );
  const pending = [...run.offsets]
    .filter(([key, offset]) => offset < (run.until.get(key) ?? 0n))
    .map(([key]) => key);
  const asNumbers = (map: ReadonlyMap<string, bigint>) =>
    Object.fromEntries([...map].map(([key, value]) => [key, Number(value)]));
  await q.query(
    `INSERT INTO integration_runs (id, integration_id, account_id, trigger, status, range_from, started_at, finished_at, details)
     VALUES ($1, $2, $3, 'backfill', $4, $5, $6, $7, $8::jsonb)`,
    [
      run.id,
      run.integrationId,
      run.accountId,
      pending.length > 0 ? "running" : "succeeded",
      run.from,
      now,
      pending.length > 0 ? null : now,
      JSON.stringify({ offsets: asNumbers(run.offsets), until: asNumbers(run.until), pending }),
    ],
  );
}

/** The replay of an integration still under way, or null. */
export async function activeReplayRun(q: Queryable, integrationId: string): Promise<KafkaReplayRun | null> {
  const result = await q.query<{
    id: string;
    details: { until?: Record<string, number>; pending?: string[] };
  }>(
    `SELECT id, details FROM integration_runs WHERE integration_id = $1 AND trigger = 'backfill' AND status = 'running'
     ORDER BY started_at DESC LIMIT 1`,
    [integrationId],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    id: row.id,
    until: new Map(Object.entries(row.details.until ?? {}).map(([key, value]) => [key, BigInt(value)])),
    pending: new Set(row.details.pending ?? []),
  };
}

/** Marks replayed partitions as caught up (in the transaction that stored their offsets); the last one finishes the run. */
export async function completeReplayPartitions(
  q: Queryable,
  runId: string,
  keys: readonly string[],
  now: Date,
): Promise<void> {
  if (keys.length === 0) return;
  await q.query(
    `UPDATE integration_runs SET details = jsonb_set(details, '{pending}',
       (SELECT coalesce(jsonb_agg(key), '[]'::jsonb) FROM jsonb_array_elements_text(details->'pending') AS key
        WHERE key <> ALL($2::text[])))
     WHERE id = $1 AND status = 'running'`,
    [runId, keys],
  );
  await q.query(
    `UPDATE integration_runs SET status = 'succeeded', finished_at = $2
     WHERE id = $1 AND status = 'running' AND jsonb_array_length(details->'pending') = 0`,
    [runId, now],
  );
}
