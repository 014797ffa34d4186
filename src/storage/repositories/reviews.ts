import type { KpiReview } from "../../core/qualityProfile.ts";
import type { Queryable } from "../db.ts";

/** One QA override as kept in the audit trail. */
export interface ReviewRecord extends KpiReview {
  id: string;
  accountId: string;
  analysisId: string;
  reviewer: string;
  createdAt: Date;
}

interface ReviewRow {
  id: string;
  account_id: string;
  analysis_id: string;
  kpi_id: string;
  option_uid: string | null;
  option_value: string | null;
  score: number;
  justification: string | null;
  user_comment: string | null;
  reviewer: string;
  created_at: Date;
}

function toRecord(row: ReviewRow): ReviewRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    analysisId: row.analysis_id,
    kpiId: row.kpi_id,
    optionUid: row.option_uid,
    optionValue: row.option_value,
    score: row.score,
    justification: row.justification,
    userComment: row.user_comment,
    reviewer: row.reviewer,
    createdAt: row.created_at,
  };
}

export async function insertReview(q: Queryable, review: ReviewRecord): Promise<void> {
  await q.query(
    `INSERT INTO kpi_reviews (id, account_id, analysis_id, kpi_id, option_uid, option_value, score, justification,
       user_comment, reviewer, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      review.id,
      review.accountId,
      review.analysisId,
      review.kpiId,
      review.optionUid,
      review.optionValue,
      review.score,
      review.justification,
      review.userComment,
      review.reviewer,
      review.createdAt,
    ],
  );
}

/** The review in force for each KPI of an analysis (the latest one). */
export async function latestReviews(q: Queryable, analysisId: string): Promise<ReviewRecord[]> {
  return (await latestReviewsOf(q, [analysisId])).get(analysisId) ?? [];
}

/** {@link latestReviews} of several analyses in one query, by analysis id (absent: none reviewed). */
export async function latestReviewsOf(
  q: Queryable,
  analysisIds: readonly string[],
): Promise<Map<string, ReviewRecord[]>> {
  const byAnalysis = new Map<string, ReviewRecord[]>();
  if (analysisIds.length === 0) return byAnalysis;
  const result = await q.query<ReviewRow>(
    `SELECT DISTINCT ON (analysis_id, kpi_id) id, account_id, analysis_id, kpi_id, option_uid, option_value, score,
       justification, user_comment, reviewer, created_at
     FROM kpi_reviews WHERE analysis_id = ANY($1::uuid[])
     ORDER BY analysis_id, kpi_id, created_at DESC, id DESC`,
    [analysisIds],
  );
  for (const row of result.rows) {
    const reviews = byAnalysis.get(row.analysis_id) ?? [];
    reviews.push(toRecord(row));
    byAnalysis.set(row.analysis_id, reviews);
  }
  return byAnalysis;
}

/** Every review of an analysis, oldest first: the audit trail. */
export async function reviewHistory(q: Queryable, analysisId: string): Promise<ReviewRecord[]> {
  const result = await q.query<ReviewRow>(
    `SELECT id, account_id, analysis_id, kpi_id, option_uid, option_value, score, justification, user_comment,
       reviewer, created_at
     FROM kpi_reviews WHERE analysis_id = $1 ORDER BY created_at, id`,
    [analysisId],
  );
  return result.rows.map(toRecord);
}
