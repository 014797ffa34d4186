import type { Queryable } from "../db.ts";

export type IngestJobType = "batch" | "file";
export type IngestJobStatus = "pending" | "processing" | "completed" | "failed";

/** A batch or file ingestion job. */
export interface IngestJobRecord {
  id: string;
  accountId: string;
  type: IngestJobType;
  status: IngestJobStatus;
  request: Record<string, unknown>;
  callbackUrl: string | null;
  totalRows: number;
  accepted: number;
  rejected: number;
  rowsCheckpoint: number;
  errorMessage: string | null;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  updatedAt: Date;
}

interface IngestJobRow {
  id: string;
  account_id: string;
  type: IngestJobType;
  status: IngestJobStatus;
  request: Record<string, unknown>;
  callback_url: string | null;
  total_rows: number;
  accepted: number;
  rejected: number;
  rows_checkpoint: number;
  error_message: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
}

const columns = `id, account_id, type, status, request, callback_url, total_rows, accepted, rejected, rows_checkpoint,
  error_message, created_at, started_at, completed_at, updated_at`;

function toRecord(row: IngestJobRow): IngestJobRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    type: row.type,
    status: row.status,
    request: row.request ?? {},
    callbackUrl: row.callback_url,
    totalRows: row.total_rows,
    accepted: row.accepted,
    rejected: row.rejected,
    rowsCheckpoint: row.rows_checkpoint,
    errorMessage: row.error_message,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    updatedAt: row.updated_at,
  };
}

export async function insertIngestJob(
  q: Queryable,
  job: Pick<
    IngestJobRecord,
    | "id"
    | "accountId"
    | "type"
    | "status"
    | "request"
    | "callbackUrl"
    | "totalRows"
    | "accepted"
    | "rejected"
    | "createdAt"
  >,
): Promise<void> {
  await q.query(
    `INSERT INTO ingest_jobs (id, account_id, type, status, request, callback_url, total_rows, accepted, rejected,
       created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
    [
      job.id,
      job.accountId,
      job.type,
      job.status,
      JSON.stringify(job.request),
      job.callbackUrl,
      job.totalRows,
      job.accepted,
      job.rejected,
      job.createdAt,
    ],
  );
}

export async function getIngestJob(
  q: Queryable,
  accountId: string,
  id: string,
): Promise<IngestJobRecord | null> {
  const result = await q.query<IngestJobRow>(
    `SELECT ${columns} FROM ingest_jobs WHERE account_id = $1 AND id = $2`,
    [accountId, id],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function lockIngestJob(q: Queryable, id: string): Promise<IngestJobRecord | null> {
  const result = await q.query<IngestJobRow>(`SELECT ${columns} FROM ingest_jobs WHERE id = $1 FOR UPDATE`, [
    id,
  ]);
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

/** File jobs of an account not yet finished, for the concurrent-jobs limit. */
export async function countActiveFileJobs(q: Queryable, accountId: string): Promise<number> {
  const result = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ingest_jobs
     WHERE account_id = $1 AND type = 'file' AND status IN ('pending', 'processing')`,
    [accountId],
  );
  return result.rows[0]?.n ?? 0;
}

export interface IngestJobProgress {
  status?: IngestJobStatus;
  totalRows?: number;
  acceptedDelta?: number;
  rejectedDelta?: number;
  rowsCheckpoint?: number;
  errorMessage?: string | null;
  startedAt?: Date;
  completedAt?: Date;
}

export async function updateIngestJob(
  q: Queryable,
  id: string,
  progress: IngestJobProgress,
  now: Date,
): Promise<void> {
  await q.query(
    `UPDATE ingest_jobs SET
       status = COALESCE($2, status),
       total_rows = COALESCE($3, total_rows),
       accepted = accepted + $4,
       rejected = rejected + $5,
       rows_checkpoint = COALESCE($6, rows_checkpoint),
       error_message = CASE WHEN $7::boolean THEN $8 ELSE error_message END,
       started_at = COALESCE(started_at, $9),
       completed_at = COALESCE($10, completed_at),
       updated_at = $11
     WHERE id = $1`,
    [
      id,
      progress.status ?? null,
      progress.totalRows ?? null,
      progress.acceptedDelta ?? 0,
      progress.rejectedDelta ?? 0,
      progress.rowsCheckpoint ?? null,
      progress.errorMessage !== undefined,
      progress.errorMessage ?? null,
      progress.startedAt ?? null,
      progress.completedAt ?? null,
      now,
    ],
  );
}

export interface JobError {
  line: number;
  externalInteractionId: string | null;
  reason: string;
}

export async function addIngestJobErrors(q: Queryable, jobId: string, errors: JobError[]): Promise<void> {
  if (errors.length === 0) return;
  await q.query(
    `INSERT INTO ingest_job_errors (job_id, line, external_interaction_id, reason)
     SELECT $1, line, external_interaction_id, reason
     FROM jsonb_to_recordset($2::jsonb) AS x(line integer, external_interaction_id text, reason text)
     ON CONFLICT (job_id, line) DO NOTHING`,
    [
      jobId,
      JSON.stringify(
        errors.map((e) => ({
          line: e.line,
          external_interaction_id: e.externalInteractionId,
          reason: e.reason,
        })),
      ),
    ],
  );
}

export async function listIngestJobErrors(q: Queryable, jobId: string, limit: number): Promise<JobError[]> {
  const result = await q.query<{ line: number; external_interaction_id: string | null; reason: string }>(
    "SELECT line, external_interaction_id, reason FROM ingest_job_errors WHERE job_id = $1 ORDER BY line LIMIT $2",
    [jobId, limit],
  );
  return result.rows.map((r) => ({
    line: r.line,
    externalInteractionId: r.external_interaction_id,
    reason: r.reason,
  }));
}
