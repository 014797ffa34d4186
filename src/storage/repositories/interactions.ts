import type { RoutableInteraction, RoutingDecision } from "../../core/assignment.ts";
import type { AudioMeasures, AudioMeasuresFailure, SpeechAnalysis } from "../../core/audio.ts";
import type { Transcript } from "../../core/transcript.ts";
import { type Bind, type Queryable, StatementParams } from "../db.ts";
import type { RowScope } from "./analyses.ts";

export type InteractionStatus = "queued" | "processing" | "completed" | "failed";

/** What the pipeline fetched for an interaction: blob keys of recordings and transcripts. */
export interface InteractionMedia {
  audio?: { key: string; size: number; sha256: string; contentType: string | null; url: string }[];
  transcriptSource?: { key: string | null; url: string | null; format: string };
  /** Set for recordings uploaded with the request (multipart). */
  uploadedAudioKey?: string;
}

/** One conversation. */
export interface InteractionRecord {
  id: string;
  accountId: string;
  externalInteractionId: string;
  batchId: string | null;
  integrationId: string | null;
  channelType: string;
  source: string | null;
  language: string | null;
  interactionStartTime: Date | null;
  durationSeconds: number | null;
  audioFormat: string | null;
  callbackUrl: string | null;
  audioUrl: string | null;
  transcriptUrl: string | null;
  transcriptText: string | null;
  piiRedacted: boolean;
  metadata: Record<string, string | number | boolean>;
  status: InteractionStatus;
  statusModifiedAt: Date;
  failureReason: string | null;
  waitingReason: string | null;
  contentHash: string;
  routing: RoutingDecision | null;
  notAnalysedReason: string | null;
  media: InteractionMedia;
  transcript: Transcript | null;
  /** Measured from the recording; a failure record when it could not be decoded; null without audio. */
  audioMeasures: AudioMeasures | AudioMeasuresFailure | null;
  /** What speech engines made of the recording. */
  speech: SpeechAnalysis | null;
  processingRevision: number;
  createdAt: Date;
}

interface InteractionRow {
  id: string;
  account_id: string;
  external_interaction_id: string;
  batch_id: string | null;
  integration_id: string | null;
  channel_type: string;
  source: string | null;
  language: string | null;
  interaction_start_time: Date | null;
  duration_seconds: number | null;
  audio_format: string | null;
  callback_url: string | null;
  audio_url: string | null;
  transcript_url: string | null;
  transcript_text: string | null;
  pii_redacted: boolean;
  metadata: Record<string, string | number | boolean>;
  status: InteractionStatus;
  status_modified_at: Date;
  failure_reason: string | null;
  waiting_reason: string | null;
  content_hash: string;
  routing: RoutingDecision | null;
  not_analysed_reason: string | null;
  media: InteractionMedia;
  transcript: Transcript | null;
  audio_measures: AudioMeasures | AudioMeasuresFailure | null;
  speech: SpeechAnalysis | null;
  processing_revision: number;
  created_at: Date;
}

const columns = `id, account_id, external_interaction_id, batch_id, integration_id, channel_type, source, language,
  interaction_start_time, duration_seconds, audio_format, callback_url, audio_url, transcript_url, transcript_text,
  pii_redacted, metadata, status, status_modified_at, failure_reason, waiting_reason, content_hash, routing,
  not_analysed_reason, media, transcript, audio_measures, speech, processing_revision, created_at`;

/** Columns for listings: everything but the heavy transcript fields. */
const summaryColumns = columns
  .replace("transcript_text,", "NULL::text AS transcript_text,")
  .replace(
    "transcript, audio_measures, speech, processing_revision",
    "NULL::jsonb AS transcript, NULL::jsonb AS audio_measures, NULL::jsonb AS speech, processing_revision",
  );

export function toInteractionRecord(row: InteractionRow): InteractionRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    externalInteractionId: row.external_interaction_id,
    batchId: row.batch_id,
    integrationId: row.integration_id,
    channelType: row.channel_type,
    source: row.source,
    language: row.language,
    interactionStartTime: row.interaction_start_time,
    durationSeconds: row.duration_seconds,
    audioFormat: row.audio_format,
    callbackUrl: row.callback_url,
    audioUrl: row.audio_url,
    transcriptUrl: row.transcript_url,
    transcriptText: row.transcript_text,
    piiRedacted: row.pii_redacted,
    metadata: row.metadata ?? {},
    status: row.status,
    statusModifiedAt: row.status_modified_at,
    failureReason: row.failure_reason,
    waitingReason: row.waiting_reason,
    contentHash: row.content_hash,
    routing: row.routing,
    notAnalysedReason: row.not_analysed_reason,
    media: row.media ?? {},
    transcript: row.transcript,
    audioMeasures: row.audio_measures ?? null,
    speech: row.speech ?? null,
    processingRevision: row.processing_revision,
    createdAt: row.created_at,
  };
}

/** The fields a new interaction is created with. */
export type NewInteraction = Pick<
  InteractionRecord,
  | "id"
  | "accountId"
  | "externalInteractionId"
  | "batchId"
  | "integrationId"
  | "channelType"
  | "source"
  | "language"
  | "interactionStartTime"
  | "durationSeconds"
  | "audioFormat"
  | "callbackUrl"
  | "audioUrl"
  | "transcriptUrl"
  | "transcriptText"
  | "piiRedacted"
  | "metadata"
  | "contentHash"
  | "media"
  | "createdAt"
>;

/**
 * Inserts many interactions in one statement; rows whose (account, external id) already exists
 * are skipped. Returns the ids actually inserted.
 */
export async function insertInteractions(q: Queryable, rows: NewInteraction[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const records = rows.map((r) => ({
    id: r.id,
    account_id: r.accountId,
    external_interaction_id: r.externalInteractionId,
    batch_id: r.batchId,
    integration_id: r.integrationId,
    channel_type: r.channelType,
    source: r.source,
    language: r.language,
    interaction_start_time: r.interactionStartTime?.toISOString() ?? null,
    duration_seconds: r.durationSeconds,
    audio_format: r.audioFormat,
    callback_url: r.callbackUrl,
    audio_url: r.audioUrl,
    transcript_url: r.transcriptUrl,
    transcript_text: r.transcriptText,
    pii_redacted: r.piiRedacted,
    metadata: r.metadata,
    content_hash: r.contentHash,
    media: r.media,
    created_at: r.createdAt.toISOString(),
  }));
  const result = await q.query<{ id: string }>(
    `INSERT INTO interactions (id, account_id, external_interaction_id, batch_id, integration_id, channel_type, source,
       language, interaction_start_time, duration_seconds, audio_format, callback_url, audio_url, transcript_url,
       transcript_text, pii_redacted, metadata, status, status_modified_at, content_hash, media, created_at)
     SELECT id, account_id, external_interaction_id, batch_id, integration_id, channel_type, source, language,
       interaction_start_time, duration_seconds, audio_format, callback_url, audio_url, transcript_url, transcript_text,
       pii_redacted, COALESCE(metadata, '{}'::jsonb), 'queued', created_at, content_hash, COALESCE(media, '{}'::jsonb), created_at
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, account_id uuid, external_interaction_id text, batch_id uuid,
       integration_id uuid, channel_type text, source text, language text, interaction_start_time timestamptz,
       duration_seconds integer, audio_format text, callback_url text, audio_url text, transcript_url text,
       transcript_text text, pii_redacted boolean, metadata jsonb, content_hash text, media jsonb, created_at timestamptz)
     ON CONFLICT (account_id, external_interaction_id) DO NOTHING
     RETURNING id`,
    [JSON.stringify(records)],
  );
  return new Set(result.rows.map((r) => r.id));
}

/** The existing interactions of an account among these external ids. */
export async function findByExternalIds(
  q: Queryable,
  accountId: string,
  externalIds: string[],
): Promise<Map<string, { id: string; contentHash: string }>> {
  if (externalIds.length === 0) return new Map();
  const result = await q.query<{ id: string; external_interaction_id: string; content_hash: string }>(
    `SELECT id, external_interaction_id, content_hash FROM interactions
     WHERE account_id = $1 AND external_interaction_id = ANY($2::text[])`,
    [accountId, externalIds],
  );
  return new Map(
    result.rows.map((r) => [r.external_interaction_id, { id: r.id, contentHash: r.content_hash }]),
  );
}

/** By cqa's UUID or by the sender's external id (the UUID wins when both could match). */
export async function getInteraction(
  q: Queryable,
  accountId: string,
  identifier: string,
  asUuid: boolean,
): Promise<InteractionRecord | null> {
  const result = await q.query<InteractionRow>(
    `SELECT ${columns} FROM interactions
     WHERE account_id = $1 AND (id = $2::uuid OR external_interaction_id = $3)
     ORDER BY (id = $2::uuid) DESC NULLS LAST LIMIT 1`,
    [accountId, asUuid ? identifier : null, identifier],
  );
  const row = result.rows[0];
  return row ? toInteractionRecord(row) : null;
}

export async function getInteractionById(q: Queryable, id: string): Promise<InteractionRecord | null> {
  const result = await q.query<InteractionRow>(`SELECT ${columns} FROM interactions WHERE id = $1`, [id]);
  const row = result.rows[0];
  return row ? toInteractionRecord(row) : null;
}

/** An analysis an interaction has already (from an earlier run, or a reprocess). */
export interface ExistingAnalysis {
  id: string;
  profileId: string;
  /** It has results (only then can it have been reviewed). */
  scored: boolean;
}

/** An interaction taken into processing, with what its run needs to know beside it. */
export interface StartedInteraction {
  interaction: InteractionRecord;
  /** Its account's configuration version, to tell whether a kept configuration is current. */
  accountConfigVersion: number;
  analyses: ExistingAnalysis[];
}

/**
 * Takes an interaction into processing for the given revision: `queued` becomes `processing`, one that
 * is `processing` already (a job run again after a crash) stays so. Returns null when there is nothing
 * to do — the interaction is gone, finished, or superseded by a newer revision.
 */
export async function startProcessing(
  q: Queryable,
  id: string,
  revision: number,
  at: Date,
): Promise<StartedInteraction | null> {
  const result = await q.query<
    InteractionRow & { account_config_version: number; existing_analyses: ExistingAnalysis[] }
  >(
    `UPDATE interactions SET status = 'processing',
       status_modified_at = CASE WHEN status = 'processing' THEN status_modified_at ELSE $3 END
     WHERE id = $1 AND processing_revision = $2 AND status IN ('queued', 'processing')
     RETURNING ${columns},
       (SELECT a.config_version FROM accounts a WHERE a.id = interactions.account_id) AS account_config_version,
       (SELECT COALESCE(json_agg(json_build_object('id', a.id, 'profileId', a.profile_id,
           'scored', a.results IS NOT NULL)), '[]'::json)
        FROM analyses a WHERE a.interaction_id = interactions.id) AS existing_analyses`,
    [id, revision, at],
  );
  const row = result.rows[0];
  if (!row) return null;
  return {
    interaction: toInteractionRecord(row),
    accountConfigVersion: row.account_config_version,
    analyses: row.existing_analyses,
  };
}

/** Locks the interaction row for the rest of the transaction. */
export async function lockInteraction(q: Queryable, id: string): Promise<InteractionRecord | null> {
  const result = await q.query<InteractionRow>(
    `SELECT ${columns} FROM interactions WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const row = result.rows[0];
  return row ? toInteractionRecord(row) : null;
}

/** SQL conditions keeping only rows within `scope`, with their parameters numbered from `first`. */
function scopeConditions(scope: RowScope, first: number): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const conditions = Object.entries(scope).map(([key, allowed]) => {
    params.push(key, allowed);
    return ` AND (metadata->>$${first + params.length - 2}) = ANY($${first + params.length - 1}::text[])`;
  });
  return { sql: conditions.join(""), params };
}

/** A page of a batch's interactions; with a scope, only those within it (and counted so). */
export async function listInteractionsOfBatch(
  q: Queryable,
  accountId: string,
  batchId: string,
  limit: number,
  offset: number,
  scope: RowScope = {},
): Promise<{ rows: InteractionRecord[]; total: number }> {
  const scoped = scopeConditions(scope, 3);
  const where = `account_id = $1 AND batch_id = $2${scoped.sql}`;
  const params = [accountId, batchId, ...scoped.params];
  const [page, count] = await Promise.all([
    q.query<InteractionRow>(
      `SELECT ${summaryColumns} FROM interactions WHERE ${where}
       ORDER BY created_at, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    ),
    q.query<{ total: number }>(`SELECT count(*)::int AS total FROM interactions WHERE ${where}`, params),
  ]);
  return { rows: page.rows.map(toInteractionRecord), total: count.rows[0]?.total ?? 0 };
}

/** How many interactions of a batch are in each status. */
export async function countBatchStatuses(
  q: Queryable,
  batchId: string,
): Promise<Record<InteractionStatus, number>> {
  const result = await q.query<{ status: InteractionStatus; n: number }>(
    "SELECT status, count(*)::int AS n FROM interactions WHERE batch_id = $1 GROUP BY status",
    [batchId],
  );
  const counts: Record<InteractionStatus, number> = { queued: 0, processing: 0, completed: 0, failed: 0 };
  for (const row of result.rows) counts[row.status] = row.n;
  return counts;
}

export interface InteractionStateChange {
  status?: InteractionStatus;
  failureReason?: string | null;
  waitingReason?: string | null;
  routing?: RoutingDecision | null;
  notAnalysedReason?: string | null;
  media?: InteractionMedia;
  transcript?: Transcript | null;
  audioMeasures?: AudioMeasures | AudioMeasuresFailure | null;
  speech?: SpeechAnalysis | null;
  processingRevision?: number;
}

/** Updates pipeline state; status_modified_at moves only when the status actually changes. */
export async function updateInteractionState(
  q: Queryable,
  id: string,
  change: InteractionStateChange,
  at: Date,
): Promise<void> {
  const params = new StatementParams();
  const sql = interactionStateSql(id, change, at, params.bind);
  if (sql) await q.query(sql, params.values);
}

/**
 * The UPDATE of {@link updateInteractionState}, for a statement built from parts (null when nothing
 * changes); `when` is an extra condition it runs under.
 */
export function interactionStateSql(
  id: string,
  change: InteractionStateChange,
  at: Date,
  bind: Bind,
  when = "TRUE",
): string | null {
  const sets: string[] = [];
  const set = (column: string, value: unknown, cast = "") => sets.push(`${column} = ${bind(value)}${cast}`);
  const json = (value: unknown) => (value ? JSON.stringify(value) : null);
  if (change.status !== undefined) {
    const status = bind(change.status);
    sets.push(`status = ${status}`);
    // SET expressions see the old row, so this compares the previous status with the new one.
    sets.push(
      `status_modified_at = CASE WHEN status IS DISTINCT FROM ${status} THEN ${bind(at)}::timestamptz ELSE status_modified_at END`,
    );
  }
  if (change.failureReason !== undefined) set("failure_reason", change.failureReason);
  if (change.waitingReason !== undefined) set("waiting_reason", change.waitingReason);
  if (change.routing !== undefined) set("routing", json(change.routing), "::jsonb");
  if (change.notAnalysedReason !== undefined) set("not_analysed_reason", change.notAnalysedReason);
  if (change.media !== undefined) set("media", JSON.stringify(change.media), "::jsonb");
  if (change.transcript !== undefined) set("transcript", json(change.transcript), "::jsonb");
  if (change.audioMeasures !== undefined) set("audio_measures", json(change.audioMeasures), "::jsonb");
  if (change.speech !== undefined) set("speech", json(change.speech), "::jsonb");
  if (change.processingRevision !== undefined) set("processing_revision", change.processingRevision);
  if (sets.length === 0) return null;
  return `UPDATE interactions SET ${sets.join(", ")} WHERE id = ${bind(id)} AND ${when}`;
}

/** The newest interactions of an account (without transcripts), for dry runs and listings. */
export async function listRecentInteractions(
  q: Queryable,
  accountId: string,
  limit: number,
  scope: RowScope = {},
): Promise<InteractionRecord[]> {
  const scoped = scopeConditions(scope, 3);
  const result = await q.query<InteractionRow>(
    `SELECT ${summaryColumns} FROM interactions WHERE account_id = $1${scoped.sql}
     ORDER BY created_at DESC, id DESC LIMIT $2`,
    [accountId, limit, ...scoped.params],
  );
  return result.rows.map(toInteractionRecord);
}

/** Interactions by cqa id or external id (either may be given), without transcripts. */
export async function findInteractionsByIdentifiers(
  q: Queryable,
  accountId: string,
  identifiers: string[],
): Promise<InteractionRecord[]> {
  const uuids = identifiers.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const result = await q.query<InteractionRow>(
    `SELECT ${summaryColumns} FROM interactions
     WHERE account_id = $1 AND (id = ANY($2::uuid[]) OR external_interaction_id = ANY($3::text[]))
     ORDER BY created_at DESC, id DESC`,
    [accountId, uuids, identifiers],
  );
  return result.rows.map(toInteractionRecord);
}

/** The facts of an interaction that assignment rules look at. */
export function routableFacts(interaction: InteractionRecord): RoutableInteraction {
  return {
    externalInteractionId: interaction.externalInteractionId,
    channelType: interaction.channelType,
    source: interaction.source,
    language: interaction.language,
    durationSeconds: interaction.durationSeconds,
    integrationId: interaction.integrationId,
    metadata: interaction.metadata,
  };
}
