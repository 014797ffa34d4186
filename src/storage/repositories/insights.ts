import type { Queryable } from "../db.ts";
import type { RowScope } from "./analyses.ts";

/** Which completed analyses an insight covers. */
export interface InsightFilter {
  accountId: string;
  from: Date;
  /** Exclusive. */
  to: Date;
  timeZone: string;
  interval: "day" | "week" | "month";
  profileId?: string;
  scope: RowScope;
}

/** A count and a sum of score percentages, so averages of several buckets combine exactly. */
export interface ScoreBucket {
  period: string;
  analyses: number;
  scored: number;
  percentSum: number;
}

export interface GroupBucket extends ScoreBucket {
  value: string | null;
}

export interface KpiAnswerCount {
  period: string;
  profileId: string;
  profileVersion: number;
  kpiId: string;
  aiAnswer: string | null;
  aiScore: number | null;
  reviewValue: string | null;
  reviewScore: number | null;
  count: number;
}

export interface LowScoringAnalysis {
  analysisId: string;
  interactionId: string;
  externalInteractionId: string;
  profileId: string;
  finalScore: number;
  maxScore: number;
  percent: number;
  createdAt: Date;
  metadata: Record<string, unknown>;
}

export interface InsightTotals {
  analyses: number;
  scored: number;
  percentSum: number;
  adjustedPercentSum: number;
  reviewed: number;
}

/** The completed, scoped analyses of the filter, with their score percentage and period, as a CTE. */
function scopedAnalyses(filter: InsightFilter): { sql: string; params: unknown[] } {
  const params: unknown[] = [filter.accountId, filter.from, filter.to, filter.timeZone, filter.interval];
  const where = ["a.account_id = $1", "a.created_at >= $2", "a.created_at < $3", "a.status = 'completed'"];
  if (filter.profileId) {
    params.push(filter.profileId);
    where.push(`a.profile_id = $${params.length}::uuid`);
  }
  for (const [key, allowed] of Object.entries(filter.scope)) {
    params.push(key, allowed);
    where.push(`(i.metadata->>$${params.length - 1}) = ANY($${params.length}::text[])`);
  }
  const sql = `WITH scoped AS (
      SELECT a.id, a.interaction_id, a.profile_id, a.profile_version, a.final_score, a.max_score, a.qa_score,
        a.criticality_adjusted_score, a.created_at, i.external_interaction_id, i.metadata,
        to_char(date_trunc($5, a.created_at AT TIME ZONE $4), 'YYYY-MM-DD') AS period,
        CASE WHEN a.max_score > 0 THEN 100.0 * a.final_score / a.max_score END AS percent,
        CASE WHEN a.max_score > 0 THEN 100.0 * a.criticality_adjusted_score / a.max_score END AS adjusted_percent
      FROM analyses a JOIN interactions i ON i.id = a.interaction_id
      WHERE ${where.join(" AND ")}
    )`;
  return { sql, params };
}

interface BucketRow {
  period: string;
  analyses: number;
  scored: number;
  percent_sum: number | null;
}

const toBucket = (row: BucketRow): ScoreBucket => ({
  period: row.period,
  analyses: row.analyses,
  scored: row.scored,
  percentSum: row.percent_sum ?? 0,
});

export async function insightTotals(q: Queryable, filter: InsightFilter): Promise<InsightTotals> {
  const { sql, params } = scopedAnalyses(filter);
  const result = await q.query<{
    analyses: number;
    scored: number;
    percent_sum: number | null;
    adjusted_percent_sum: number | null;
    reviewed: number;
  }>(
    `${sql} SELECT count(*)::int AS analyses, count(percent)::int AS scored, sum(percent)::float8 AS percent_sum,
       sum(adjusted_percent)::float8 AS adjusted_percent_sum,
       count(*) FILTER (WHERE qa_score IS NOT NULL)::int AS reviewed
     FROM scoped`,
    params,
  );
  const row = result.rows[0];
  return {
    analyses: row?.analyses ?? 0,
    scored: row?.scored ?? 0,
    percentSum: row?.percent_sum ?? 0,
    adjustedPercentSum: row?.adjusted_percent_sum ?? 0,
    reviewed: row?.reviewed ?? 0,
  };
}

/** Score per period. */
export async function scoreTrend(q: Queryable, filter: InsightFilter): Promise<ScoreBucket[]> {
  const { sql, params } = scopedAnalyses(filter);
  const result = await q.query<BucketRow>(
    `${sql} SELECT period, count(*)::int AS analyses, count(percent)::int AS scored,
       sum(percent)::float8 AS percent_sum
     FROM scoped GROUP BY period ORDER BY period`,
    params,
  );
  return result.rows.map(toBucket);
}

/** Score per value of a metadata key (agent, team, campaign…) and period. */
export async function scoreByGroup(
  q: Queryable,
  filter: InsightFilter,
  metadataKey: string,
): Promise<GroupBucket[]> {
  const { sql, params } = scopedAnalyses(filter);
  params.push(metadataKey);
  const result = await q.query<BucketRow & { value: string | null }>(
    `${sql} SELECT metadata->>$${params.length} AS value, period, count(*)::int AS analyses,
       count(percent)::int AS scored, sum(percent)::float8 AS percent_sum
     FROM scoped GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  return result.rows.map((row) => ({ ...toBucket(row), value: row.value }));
}

/**
 * How often each KPI got each answer, counted per distinct (AI answer, review in force): few rows,
 * from which the final answer is worked out exactly as the scoring does.
 */
export async function kpiAnswerCounts(q: Queryable, filter: InsightFilter): Promise<KpiAnswerCount[]> {
  const { sql, params } = scopedAnalyses(filter);
  const result = await q.query<{
    period: string;
    profile_id: string;
    profile_version: number;
    kpi_id: string;
    ai_answer: string | null;
    ai_score: number | null;
    review_value: string | null;
    review_score: number | null;
    count: number;
  }>(
    `${sql},
     kpi AS (
       SELECT s.id AS analysis_id, s.period, s.profile_id, s.profile_version, r->>'kpiId' AS kpi_id,
         r->>'answer' AS ai_answer,
         (r->>'aiScore')::float8 AS ai_score
       FROM scoped s JOIN analyses a ON a.id = s.id
         CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(a.results) = 'array' THEN a.results
           ELSE '[]'::jsonb END) AS r
     ),
     latest AS (
       SELECT DISTINCT ON (kr.analysis_id, kr.kpi_id) kr.analysis_id, kr.kpi_id, kr.option_value, kr.score
       FROM kpi_reviews kr JOIN scoped s ON s.id = kr.analysis_id
       ORDER BY kr.analysis_id, kr.kpi_id, kr.created_at DESC, kr.id DESC
     )
     SELECT k.period, k.profile_id, k.profile_version, k.kpi_id, k.ai_answer, k.ai_score,
       l.option_value AS review_value, l.score AS review_score, count(*)::int AS count
     FROM kpi k LEFT JOIN latest l ON l.analysis_id = k.analysis_id AND l.kpi_id = k.kpi_id
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
    params,
  );
  return result.rows.map((row) => ({
    period: row.period,
    profileId: row.profile_id,
    profileVersion: row.profile_version,
    kpiId: row.kpi_id,
    aiAnswer: row.ai_answer,
    aiScore: row.ai_score,
    reviewValue: row.review_value,
    reviewScore: row.review_score,
    count: row.count,
  }));
}

/** The analyses with the lowest score percentage. */
export async function lowestScoring(
  q: Queryable,
  filter: InsightFilter,
  limit: number,
): Promise<LowScoringAnalysis[]> {
  const { sql, params } = scopedAnalyses(filter);
  params.push(limit);
  const result = await q.query<{
    id: string;
    interaction_id: string;
    external_interaction_id: string;
    profile_id: string;
    final_score: number;
    max_score: number;
    percent: number;
    created_at: Date;
    metadata: Record<string, unknown>;
  }>(
    `${sql} SELECT id, interaction_id, external_interaction_id, profile_id, final_score, max_score,
       percent::float8 AS percent, created_at, metadata
     FROM scoped WHERE percent IS NOT NULL ORDER BY percent, created_at DESC, id LIMIT $${params.length}`,
    params,
  );
  return result.rows.map((row) => ({
    analysisId: row.id,
    interactionId: row.interaction_id,
    externalInteractionId: row.external_interaction_id,
    profileId: row.profile_id,
    finalScore: row.final_score,
    maxScore: row.max_score,
    percent: row.percent,
    createdAt: row.created_at,
    metadata: row.metadata ?? {},
  }));
}
