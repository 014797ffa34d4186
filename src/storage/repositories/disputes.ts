import type { Queryable } from "../db.ts";

export type DisputeStatus = "open" | "resolved";
export type DisputeResolution = "ACCEPTED" | "REJECTED";

/** An agent's objection to an analysis (or one KPI of it), and how it was settled. */
export interface DisputeRecord {
  id: string;
  accountId: string;
  analysisId: string;
  kpiId: string | null;
  reason: string;
  raisedBy: string;
  status: DisputeStatus;
  resolution: DisputeResolution | null;
  resolutionComment: string | null;
  resolvedBy: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
}

interface DisputeRow {
  id: string;
  account_id: string;
  analysis_id: string;
  kpi_id: string | null;
  reason: string;
  raised_by: string;
  status: DisputeStatus;
  resolution: DisputeResolution | null;
  resolution_comment: string | null;
  resolved_by: string | null;
  created_at: Date;
  resolved_at: Date | null;
}

const columns =
  "id, account_id, analysis_id, kpi_id, reason, raised_by, status, resolution, resolution_comment, resolved_by, created_at, resolved_at";

function toRecord(row: DisputeRow): DisputeRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    analysisId: row.analysis_id,
    kpiId: row.kpi_id,
    reason: row.reason,
    raisedBy: row.raised_by,
    status: row.status,
    resolution: row.resolution,
    resolutionComment: row.resolution_comment,
    resolvedBy: row.resolved_by,
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
  };
}

export async function insertDispute(q: Queryable, dispute: DisputeRecord): Promise<void> {
  await q.query(
    `INSERT INTO disputes (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      dispute.id,
      dispute.accountId,
      dispute.analysisId,
      dispute.kpiId,
      dispute.reason,
      dispute.raisedBy,
      dispute.status,
      dispute.resolution,
      dispute.resolutionComment,
      dispute.resolvedBy,
      dispute.createdAt,
      dispute.resolvedAt,
    ],
  );
}

export async function getDispute(q: Queryable, accountId: string, id: string): Promise<DisputeRecord | null> {
  const result = await q.query<DisputeRow>(
    `SELECT ${columns} FROM disputes WHERE account_id = $1 AND id = $2`,
    [accountId, id],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function listDisputesOfAnalysis(q: Queryable, analysisId: string): Promise<DisputeRecord[]> {
  const result = await q.query<DisputeRow>(
    `SELECT ${columns} FROM disputes WHERE analysis_id = $1 ORDER BY created_at, id`,
    [analysisId],
  );
  return result.rows.map(toRecord);
}

/** Settles an open dispute; false when it was already resolved. */
export async function resolveDispute(
  q: Queryable,
  id: string,
  resolution: DisputeResolution,
  comment: string | null,
  resolvedBy: string,
  at: Date,
): Promise<boolean> {
  const result = await q.query(
    `UPDATE disputes SET status = 'resolved', resolution = $2, resolution_comment = $3, resolved_by = $4, resolved_at = $5
     WHERE id = $1 AND status = 'open'`,
    [id, resolution, comment, resolvedBy, at],
  );
  return result.rowCount > 0;
}
