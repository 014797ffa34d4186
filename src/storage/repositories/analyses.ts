import type { KpiResult } from "../../core/qualityProfile.ts";
import type { Queryable } from "../db.ts";

export type AnalysisStatus = "queued" | "processing" | "completed" | "failed";

/** One quality profile applied to one interaction. */
export interface AnalysisRecord {
  id: string;
  accountId: string;
  interactionId: string;
  profileId: string;
  profileVersion: number;
  status: AnalysisStatus;
  aiScore: number | null;
  qaScore: number | null;
  finalScore: number | null;
  criticalityAdjustedScore: number | null;
  maxScore: number | null;
  results: KpiResult[] | null;
  failureReason: string | null;
  revision: number;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  updatedAt: Date;
}

/** An analysis with the interaction facts listings show beside it. */
export interface AnalysisListing extends AnalysisRecord {
  externalInteractionId: string;
  metadata: Record<string, string | number | boolean>;
  profileName: string;
}

interface AnalysisRow {
  id: string;
  account_id: string;
  interaction_id: string;
  profile_id: string;
  profile_version: number;
  status: AnalysisStatus;
  ai_score: number | null;
  qa_score: number | null;
  final_score: number | null;
  criticality_adjusted_score: number | null;
  max_score: number | null;
  results: KpiResult[] | null;
  failure_reason: string | null;
  revision: number;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
}

interface ListingRow extends AnalysisRow {
  external_interaction_id: string;
  metadata: Record<string, string | number | boolean>;
  profile_name: string;
}

const columns = `a.id, a.account_id, a.interaction_id, a.profile_id, a.profile_version, a.status, a.ai_score, a.qa_score,
  a.final_score, a.criticality_adjusted_score, a.max_score, a.results, a.failure_reason, a.revision, a.created_at,
  a.started_at, a.completed_at, a.updated_at`;

function toRecord(row: AnalysisRow): AnalysisRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    interactionId: row.interaction_id,
    profileId: row.profile_id,
    profileVersion: row.profile_version,
    status: row.status,
    aiScore: row.ai_score,
    qaScore: row.qa_score,
    finalScore: row.final_score,
    criticalityAdjustedScore: row.criticality_adjusted_score,
    maxScore: row.max_score,
    results: row.results,
    failureReason: row.failure_reason,
    revision: row.revision,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    updatedAt: row.updated_at,
  };
}

function toListing(row: ListingRow): AnalysisListing {
  return {
    ...toRecord(row),
    externalInteractionId: row.external_interaction_id,
    metadata: row.metadata ?? {},
    profileName: row.profile_name,
  };
}

/**
 * Makes sure an analysis row exists for each (interaction, profile) and returns them all. Re-running
 * a crashed job finds the rows it created before instead of adding new ones.
 */
export async function ensureAnalyses(
  q: Queryable,
  rows: { id: string; accountId: string; interactionId: string; profileId: string; profileVersion: number }[],
  now: Date,
): Promise<AnalysisRecord[]> {
  if (rows.length === 0) return [];
  await q.query(
    `INSERT INTO analyses (id, account_id, interaction_id, profile_id, profile_version, status, created_at, updated_at)
     SELECT id, account_id, interaction_id, profile_id, profile_version, 'queued', $2, $2
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, account_id uuid, interaction_id uuid, profile_id uuid,
       profile_version integer)
     ON CONFLICT (interaction_id, profile_id) DO NOTHING`,
    [
      JSON.stringify(
        rows.map((r) => ({
          id: r.id,
          account_id: r.accountId,
          interaction_id: r.interactionId,
          profile_id: r.profileId,
          profile_version: r.profileVersion,
        })),
      ),
      now,
    ],
  );
  const interactionId = rows[0]!.interactionId;
  const result = await q.query<AnalysisRow>(
    `SELECT ${columns} FROM analyses a WHERE a.interaction_id = $1 AND a.profile_id = ANY($2::uuid[])`,
    [interactionId, rows.map((r) => r.profileId)],
  );
  return result.rows.map(toRecord);
}

export async function listAnalysesOfInteraction(
  q: Queryable,
  interactionId: string,
): Promise<AnalysisRecord[]> {
  const result = await q.query<AnalysisRow>(
    `SELECT ${columns} FROM analyses a WHERE a.interaction_id = $1 ORDER BY a.created_at, a.id`,
    [interactionId],
  );
  return result.rows.map(toRecord);
}

/** For many interactions at once: id → its analyses (id, profile, status). */
export async function analysesByInteraction(
  q: Queryable,
  interactionIds: string[],
): Promise<Map<string, { id: string; profileId: string; status: AnalysisStatus }[]>> {
  const map = new Map<string, { id: string; profileId: string; status: AnalysisStatus }[]>();
  if (interactionIds.length === 0) return map;
  const result = await q.query<{
    id: string;
    interaction_id: string;
    profile_id: string;
    status: AnalysisStatus;
  }>(
    `SELECT id, interaction_id, profile_id, status FROM analyses WHERE interaction_id = ANY($1::uuid[])
     ORDER BY created_at, id`,
    [interactionIds],
  );
  for (const row of result.rows) {
    const list = map.get(row.interaction_id) ?? [];
    list.push({ id: row.id, profileId: row.profile_id, status: row.status });
    map.set(row.interaction_id, list);
  }
  return map;
}

export interface AnalysisOutcome {
  status: AnalysisStatus;
  profileVersion?: number;
  aiScore?: number | null;
  qaScore?: number | null;
  finalScore?: number | null;
  criticalityAdjustedScore?: number | null;
  maxScore?: number | null;
  results?: KpiResult[] | null;
  failureReason?: string | null;
  revision?: number;
  startedAt?: Date | null;
  completedAt?: Date | null;
}

/** Writes an analysis' state and scores. */
export async function updateAnalysis(
  q: Queryable,
  id: string,
  outcome: AnalysisOutcome,
  now: Date,
): Promise<void> {
  const sets: string[] = ["status = $2", "updated_at = $3"];
  const params: unknown[] = [id, outcome.status, now];
  const set = (column: string, value: unknown, cast = "") => {
    params.push(value);
    sets.push(`${column} = $${params.length}${cast}`);
  };
  if (outcome.profileVersion !== undefined) set("profile_version", outcome.profileVersion);
  if (outcome.aiScore !== undefined) set("ai_score", outcome.aiScore);
  if (outcome.qaScore !== undefined) set("qa_score", outcome.qaScore);
  if (outcome.finalScore !== undefined) set("final_score", outcome.finalScore);
  if (outcome.criticalityAdjustedScore !== undefined)
    set("criticality_adjusted_score", outcome.criticalityAdjustedScore);
  if (outcome.maxScore !== undefined) set("max_score", outcome.maxScore);
  if (outcome.results !== undefined)
    set("results", outcome.results ? JSON.stringify(outcome.results) : null, "::jsonb");
  if (outcome.failureReason !== undefined) set("failure_reason", outcome.failureReason);
  if (outcome.revision !== undefined) set("revision", outcome.revision);
  if (outcome.startedAt !== undefined) set("started_at", outcome.startedAt);
  if (outcome.completedAt !== undefined) set("completed_at", outcome.completedAt);
  await q.query(`UPDATE analyses SET ${sets.join(", ")} WHERE id = $1`, params);
}

export async function getAnalysis(
  q: Queryable,
  accountId: string,
  id: string,
): Promise<AnalysisListing | null> {
  const result = await q.query<ListingRow>(
    `SELECT ${columns}, i.external_interaction_id, i.metadata, p.name AS profile_name
     FROM analyses a JOIN interactions i ON i.id = a.interaction_id JOIN quality_profiles p ON p.id = a.profile_id
     WHERE a.account_id = $1 AND a.id = $2`,
    [accountId, id],
  );
  const row = result.rows[0];
  return row ? toListing(row) : null;
}

/** Row-level restrictions of the caller: metadata key → allowed values (all must hold). */
export type RowScope = Record<string, string[]>;

export type ScoreOperator =
  | "greater_than"
  | "less_than"
  | "greater_than_or_equal"
  | "less_than_or_equal"
  | "equals";
export type MetadataOperator = "equals" | "not_equals" | "in" | "contains" | "greater_than" | "less_than";

export interface AnalysisFilter {
  from: Date;
  /** Exclusive. */
  to: Date;
  /** Conditions on the final score; all must hold. */
  scores?: { operator: ScoreOperator; value: number }[];
  profileId?: string;
  /** Outer OR of inner AND groups. */
  metadataGroups?: { field: string; operator: MetadataOperator; value: unknown }[][];
  scope?: RowScope;
  limit: number;
  offset: number;
}

const scoreSql: Record<ScoreOperator, string> = {
  greater_than: ">",
  less_than: "<",
  greater_than_or_equal: ">=",
  less_than_or_equal: "<=",
  equals: "=",
};

/** Analyses of an account matching the Analysis API's filters, newest first. */
export async function listAnalyses(
  q: Queryable,
  accountId: string,
  filter: AnalysisFilter,
): Promise<{ rows: AnalysisListing[]; total: number }> {
  const params: unknown[] = [accountId, filter.from, filter.to];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = ["a.account_id = $1", "a.created_at >= $2", "a.created_at < $3"];
  for (const score of filter.scores ?? [])
    where.push(`a.final_score ${scoreSql[score.operator]} ${param(score.value)}::float8`);
  if (filter.profileId) where.push(`a.profile_id = ${param(filter.profileId)}::uuid`);
  if (filter.metadataGroups && filter.metadataGroups.length > 0) {
    const groups = filter.metadataGroups.map(
      (group) => `(${group.map((c) => metadataCondition(c, param)).join(" AND ") || "TRUE"})`,
    );
    where.push(`(${groups.join(" OR ")})`);
  }
  for (const [key, allowed] of Object.entries(filter.scope ?? {})) {
    where.push(`(i.metadata->>${param(key)}) = ANY(${param(allowed)}::text[])`);
  }
  const from =
    "FROM analyses a JOIN interactions i ON i.id = a.interaction_id JOIN quality_profiles p ON p.id = a.profile_id";
  const whereSql = where.join(" AND ");
  const countParams = [...params];
  const [page, count] = await Promise.all([
    q.query<ListingRow>(
      `SELECT ${columns}, i.external_interaction_id, i.metadata, p.name AS profile_name ${from} WHERE ${whereSql}
       ORDER BY a.created_at DESC, a.id DESC LIMIT ${param(filter.limit)} OFFSET ${param(filter.offset)}`,
      params,
    ),
    q.query<{ total: number }>(`SELECT count(*)::int AS total ${from} WHERE ${whereSql}`, countParams),
  ]);
  return { rows: page.rows.map(toListing), total: count.rows[0]?.total ?? 0 };
}

const numericText = "'^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$'";

function metadataCondition(
  condition: { field: string; operator: MetadataOperator; value: unknown },
  param: (value: unknown) => string,
): string {
  const key = param(condition.field);
  const text = `(i.metadata->>${key})`;
  // Numeric comparisons only on values that are numbers; CASE guarantees the cast never sees text.
  const asNumber = `(CASE WHEN ${text} ~ ${numericText} THEN ${text}::numeric END)`;
  switch (condition.operator) {
    case "equals":
      return `lower(${text}) = lower(${param(String(condition.value))})`;
    case "not_equals":
      return `(${text} IS NULL OR lower(${text}) <> lower(${param(String(condition.value))}))`;
    case "in":
      return `lower(${text}) = ANY(${param((condition.value as unknown[]).map((v) => String(v).toLowerCase()))}::text[])`;
    case "contains":
      return `strpos(lower(${text}), lower(${param(String(condition.value))})) > 0`;
    case "greater_than":
      return `${asNumber} > ${param(Number(condition.value))}::numeric`;
    case "less_than":
      return `${asNumber} < ${param(Number(condition.value))}::numeric`;
  }
}
