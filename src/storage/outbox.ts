import { type WebhookEnvelope, webhookBody } from "../core/webhookEvents.ts";
import { type Bind, type Queryable, StatementParams } from "./db.ts";

/**
 * `webhook`: an HTTP callback; `integration`: an analysis result for the integration the
 * interaction came from (Kafka feedback topic, S3 output prefix…), delivered by its connector.
 */
export type OutboxChannel = "webhook" | "integration";
export type OutboxStatus = "pending" | "delivered" | "failed";

/** A message that must leave cqa, written in the same transaction as the change it reports. */
export interface OutboxMessage {
  /** Also the webhook `deliveryId`: stable across re-deliveries. */
  id: string;
  accountId: string;
  channel: OutboxChannel;
  event: string;
  /** One message per key: writing the same event twice (a re-run job) is a no-op. */
  dedupeKey: string;
  interactionId: string | null;
  /** Where it goes: a URL for webhooks. */
  target: string;
  /** The exact body to send. */
  payload: string;
}

export interface OutboxRecord extends OutboxMessage {
  status: OutboxStatus;
  attempts: number;
  attemptsBeforeResend: number;
  nextAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  updatedAt: Date;
}

interface OutboxRow {
  id: string;
  account_id: string;
  channel: OutboxChannel;
  event: string;
  dedupe_key: string;
  interaction_id: string | null;
  target: string;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  attempts_before_resend: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  updated_at: Date;
}

const columns = `id, account_id, channel, event, dedupe_key, interaction_id, target, payload, status, attempts,
  attempts_before_resend, next_attempt_at, last_status_code, last_error, created_at, delivered_at, updated_at`;

function toRecord(row: OutboxRow): OutboxRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    channel: row.channel,
    event: row.event,
    dedupeKey: row.dedupe_key,
    interactionId: row.interaction_id,
    target: row.target,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    attemptsBeforeResend: row.attempts_before_resend,
    nextAttemptAt: row.next_attempt_at,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    updatedAt: row.updated_at,
  };
}

/** Adds messages; one whose dedupe key exists already is skipped. Returns how many were added. */
export async function addToOutbox(q: Queryable, messages: OutboxMessage[], now: Date): Promise<number> {
  const params = new StatementParams();
  const sql = outboxInsertSql(messages, now, params.bind);
  if (!sql) return 0;
  const result = await q.query(sql, params.values);
  return result.rowCount;
}

/**
 * The INSERT of {@link addToOutbox}, for a statement built from parts (null without messages); `when`
 * is an extra condition it runs under.
 */
export function outboxInsertSql(
  messages: OutboxMessage[],
  now: Date,
  bind: Bind,
  when = "TRUE",
): string | null {
  if (messages.length === 0) return null;
  const rows = messages.map((m) => ({
    id: m.id,
    account_id: m.accountId,
    channel: m.channel,
    event: m.event,
    dedupe_key: m.dedupeKey,
    interaction_id: m.interactionId,
    target: m.target,
    payload: m.payload,
  }));
  const at = bind(now);
  return `INSERT INTO outbox (id, account_id, channel, event, dedupe_key, interaction_id, target, payload, status,
       attempts, next_attempt_at, created_at, updated_at)
     SELECT id, account_id, channel, event, dedupe_key, interaction_id, target, payload, 'pending', 0, ${at}, ${at}, ${at}
     FROM jsonb_to_recordset(${bind(JSON.stringify(rows))}::jsonb) AS x(id uuid, account_id uuid, channel text,
       event text, dedupe_key text, interaction_id uuid, target text, payload text)
     WHERE ${when}
     ON CONFLICT (dedupe_key) DO NOTHING`;
}

/**
 * Leases due messages of a channel so that only one sender attempts each at a time. The messages of
 * one interaction leave in the order they were written (ids are time-ordered): one waits while an
 * earlier one is still pending, so a receiver never sees COMPLETED before IN_PROGRESS.
 */
export async function claimDueOutbox(
  q: Queryable,
  options: { channel: OutboxChannel; limit: number; now: Date; leaseMs: number },
): Promise<OutboxRecord[]> {
  const result = await q.query<OutboxRow>(
    `UPDATE outbox SET locked_until = $4
     WHERE id IN (
       SELECT id FROM outbox o
       WHERE status = 'pending' AND channel = $1 AND next_attempt_at <= $2
         AND (locked_until IS NULL OR locked_until < $2)
         AND NOT EXISTS (
           SELECT 1 FROM outbox earlier
           WHERE earlier.interaction_id = o.interaction_id AND earlier.channel = o.channel
             AND earlier.status = 'pending' AND earlier.id < o.id)
       ORDER BY next_attempt_at, id
       LIMIT $3
       FOR UPDATE SKIP LOCKED)
     RETURNING ${columns}`,
    [options.channel, options.now, options.limit, new Date(options.now.getTime() + options.leaseMs)],
  );
  return result.rows.map(toRecord);
}

export interface AttemptRecord {
  attempt: number;
  attemptedAt: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Records one delivery attempt and the message's next state. */
export async function recordOutboxAttempt(
  q: Queryable,
  id: string,
  attempt: AttemptRecord,
  next: { status: OutboxStatus; nextAttemptAt: Date },
): Promise<void> {
  await recordOutboxAttempts(q, [{ id, attempt, next }]);
}

/** One message's attempt and its next state. */
export interface OutboxAttemptEntry {
  id: string;
  attempt: AttemptRecord;
  next: { status: OutboxStatus; nextAttemptAt: Date };
}

/** Records an attempt of each of several messages and their next states, in one statement. */
export async function recordOutboxAttempts(
  q: Queryable,
  entries: readonly OutboxAttemptEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map(({ id, attempt, next }) => ({
    id,
    attempt: attempt.attempt,
    attempted_at: attempt.attemptedAt.toISOString(),
    status_code: attempt.statusCode,
    error: attempt.error,
    duration_ms: attempt.durationMs,
    status: next.status,
    next_attempt_at: next.nextAttemptAt.toISOString(),
  }));
  await q.query(
    `WITH x AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, attempt integer, attempted_at timestamptz,
         status_code integer, error text, duration_ms integer, status text, next_attempt_at timestamptz)),
     logged AS (
       INSERT INTO outbox_attempts (outbox_id, attempt, attempted_at, status_code, error, duration_ms)
       SELECT id, attempt, attempted_at, status_code, error, duration_ms FROM x
       ON CONFLICT (outbox_id, attempt) DO NOTHING)
     UPDATE outbox o SET status = x.status, attempts = x.attempt, next_attempt_at = x.next_attempt_at,
       last_status_code = x.status_code, last_error = x.error,
       delivered_at = CASE WHEN x.status = 'delivered' THEN x.attempted_at ELSE o.delivered_at END,
       locked_until = NULL, updated_at = x.attempted_at
     FROM x WHERE o.id = x.id`,
    [JSON.stringify(rows)],
  );
}

export async function getOutboxMessage(
  q: Queryable,
  accountId: string,
  id: string,
): Promise<OutboxRecord | null> {
  const result = await q.query<OutboxRow>(`SELECT ${columns} FROM outbox WHERE account_id = $1 AND id = $2`, [
    accountId,
    id,
  ]);
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function listOutboxAttempts(q: Queryable, id: string): Promise<AttemptRecord[]> {
  const result = await q.query<{
    attempt: number;
    attempted_at: Date;
    status_code: number | null;
    error: string | null;
    duration_ms: number;
  }>(
    "SELECT attempt, attempted_at, status_code, error, duration_ms FROM outbox_attempts WHERE outbox_id = $1 ORDER BY attempt",
    [id],
  );
  return result.rows.map((r) => ({
    attempt: r.attempt,
    attemptedAt: r.attempted_at,
    statusCode: r.status_code,
    error: r.error,
    durationMs: r.duration_ms,
  }));
}

export interface OutboxFilter {
  status?: OutboxStatus;
  event?: string;
  interactionId?: string;
  /**
   * A caller's row scope (metadata key → allowed values): when given, only messages about an
   * interaction within it are listed.
   */
  scope?: Record<string, string[]>;
  limit: number;
  offset: number;
}

export async function listOutbox(
  q: Queryable,
  accountId: string,
  filter: OutboxFilter,
): Promise<{ rows: OutboxRecord[]; total: number }> {
  let where = `account_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR event = $3)
    AND ($4::uuid IS NULL OR interaction_id = $4)`;
  const params: unknown[] = [
    accountId,
    filter.status ?? null,
    filter.event ?? null,
    filter.interactionId ?? null,
  ];
  const scope = Object.entries(filter.scope ?? {});
  if (scope.length > 0) {
    const conditions = scope.map(([key, allowed]) => {
      params.push(key, allowed);
      return `(i.metadata->>$${params.length - 1}) = ANY($${params.length}::text[])`;
    });
    where += ` AND interaction_id IN (SELECT i.id FROM interactions i WHERE i.account_id = $1 AND ${conditions.join(" AND ")})`;
  }
  const [page, count] = await Promise.all([
    q.query<OutboxRow>(
      `SELECT ${columns} FROM outbox WHERE ${where} ORDER BY created_at DESC, id DESC
       LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
    ),
    q.query<{ total: number }>(`SELECT count(*)::int AS total FROM outbox WHERE ${where}`, params),
  ]);
  return { rows: page.rows.map(toRecord), total: count.rows[0]?.total ?? 0 };
}

/** Queues a delivered or failed message to be sent again now (same deliveryId, same body). */
export async function resendOutboxMessage(
  q: Queryable,
  accountId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const result = await q.query(
    `UPDATE outbox SET status = 'pending', next_attempt_at = $3, locked_until = NULL, updated_at = $3,
       attempts_before_resend = attempts
     WHERE account_id = $1 AND id = $2`,
    [accountId, id, now],
  );
  return result.rowCount > 0;
}

/**
 * Frees every outbox lease so pending messages go out now. Only for when no other sender can be
 * running: the embedded database's start, after a process that held leases died.
 */
export async function releaseOutboxLeases(q: Queryable): Promise<number> {
  const result = await q.query(
    "UPDATE outbox SET locked_until = NULL WHERE status = 'pending' AND locked_until IS NOT NULL",
  );
  return result.rowCount;
}

/** Pending and failed message counts, for metrics. */
export async function outboxDepth(
  q: Queryable,
): Promise<{ channel: string; status: string; count: number }[]> {
  const result = await q.query<{ channel: string; status: string; count: number }>(
    "SELECT channel, status, count(*)::int AS count FROM outbox WHERE status <> 'delivered' GROUP BY channel, status",
  );
  return result.rows;
}

/** A webhook message for the outbox; its id is the stable `deliveryId` of every attempt. */
export function webhookMessage(args: {
  id: string;
  dedupeKey: string;
  url: string;
  envelope: Omit<WebhookEnvelope, "deliveryId">;
}): OutboxMessage {
  return {
    id: args.id,
    accountId: args.envelope.accountId,
    channel: "webhook",
    event: args.envelope.event,
    dedupeKey: args.dedupeKey,
    interactionId: args.envelope.interactionId ?? null,
    target: args.url,
    payload: webhookBody({ ...args.envelope, deliveryId: args.id }),
  };
}

/** An analysis result for the integration an interaction came from; its connector delivers it. */
export function integrationResultMessage(args: {
  id: string;
  dedupeKey: string;
  integrationId: string;
  envelope: Omit<WebhookEnvelope, "deliveryId">;
}): OutboxMessage {
  return {
    id: args.id,
    accountId: args.envelope.accountId,
    channel: "integration",
    event: args.envelope.event,
    dedupeKey: args.dedupeKey,
    interactionId: args.envelope.interactionId ?? null,
    target: args.integrationId,
    payload: webhookBody({ ...args.envelope, deliveryId: args.id }),
  };
}
