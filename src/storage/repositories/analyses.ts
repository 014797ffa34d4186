import type { KpiResult } from "../../core/qualityProfile.ts";
import type { Bind, Queryable } from "../db.ts";

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
  const wanted = [...new Map(rows.map((r) => [`${r.interactionId}:${r.profileId}`, r])).values()];
  if (wanted.length === 0) return [];
  // One statement: a row that exists already takes a no-op update, so RETURNING gives it too.
  const result = await q.query<AnalysisRow>(
    `INSERT INTO analyses AS a (id, account_id, interaction_id, profile_id, profile_version, status, created_at,
       updated_at)
     SELECT id, account_id, interaction_id, profile_id, profile_version, 'queued', $2, $2
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, account_id uuid, interaction_id uuid, profile_id uuid,
       profile_version integer)
     ON CONFLICT (interaction_id, profile_id) DO UPDATE SET profile_id = EXCLUDED.profile_id
     RETURNING ${columns}`,
    [
      JSON.stringify(
        wanted.map((r) => ({
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
  return result.rows.map(toRecord);
}

/**
 * Analyses a reprocess queued whose profile the rules no longer select are not re-run: they go back to
 * their earlier result (or stay failed) instead of waiting in `queued` for ever. An UPDATE for a
 * statement built from parts; `when` is an extra condition it runs under.
 */
export function settleAnalysesSql(
  interactionId: string,
  rerunProfileIds: readonly string[],
  now: Date,
  bind: Bind,
  when = "TRUE",
): string {
  const reason = bind(
    "Not re-run when the interaction was reprocessed: the assignment rules no longer select this profile",
  );
  return `UPDATE analyses SET status = CASE WHEN results IS NOT NULL THEN 'completed' ELSE 'failed' END,
       failure_reason = CASE WHEN results IS NOT NULL THEN failure_reason ELSE COALESCE(failure_reason, ${reason}) END,
       updated_at = ${bind(now)}
     WHERE interaction_id = ${bind(interactionId)} AND status = 'queued'
       AND NOT (profile_id = ANY(${bind(rerunProfileIds)}::uuid[])) AND ${when}`;
}

/** The state of one analysis a run writes: in progress, or its outcome. */
export interface AnalysisRunState {
  id: string;
  accountId: string;
  interactionId: string;
  profileId: string;
  profileVersion: number;
  revision: number;
  status: "processing" | "completed" | "failed";
  /** When the run started; null keeps the time stored. */
  startedAt: Date | null;
  /** When it ended; null keeps the time stored. */
  completedAt: Date | null;
  failureReason: string | null;
  /** For `completed`: the scores and KPI results (other states keep those of the last completed run). */
  scores: {
    aiScore: number;
    qaScore: number | null;
    finalScore: number;
    criticalityAdjustedScore: number;
    maxScore: number;
  } | null;
  results: KpiResult[] | null;
}

/**
 * Creates or updates analyses (by id) with the state of a run, for a statement built from parts;
 * `when` is an extra condition it runs under. A failed run keeps the scores of the last completed one.
 * An analysis of the same interaction and profile under another id fails the statement (unique key).
 */
export function analysisRunStatesSql(
  states: readonly AnalysisRunState[],
  now: Date,
  bind: Bind,
  when = "TRUE",
): string | null {
  if (states.length === 0) return null;
  const rows = states.map((a) => ({
    id: a.id,
    account_id: a.accountId,
    interaction_id: a.interactionId,
    profile_id: a.profileId,
    profile_version: a.profileVersion,
    revision: a.revision,
    status: a.status,
    started_at: a.startedAt?.toISOString() ?? null,
    completed_at: a.completedAt?.toISOString() ?? null,
    failure_reason: a.failureReason,
    ai_score: a.scores?.aiScore ?? null,
    qa_score: a.scores?.qaScore ?? null,
    final_score: a.scores?.finalScore ?? null,
    criticality_adjusted_score: a.scores?.criticalityAdjustedScore ?? null,
    max_score: a.scores?.maxScore ?? null,
    results: a.results,
  }));
  const at = bind(now);
  const scored = (column: string) =>
    `${column} = CASE WHEN EXCLUDED.status = 'completed' THEN EXCLUDED.${column} ELSE a.${column} END`;
  return `INSERT INTO analyses AS a (id, account_id, interaction_id, profile_id, profile_version, revision, status,
       started_at, completed_at, failure_reason, ai_score, qa_score, final_score, criticality_adjusted_score,
       max_score, results, created_at, updated_at)
     SELECT id, account_id, interaction_id, profile_id, profile_version, revision, status, started_at, completed_at,
       failure_reason, ai_score, qa_score, final_score, criticality_adjusted_score, max_score, results, ${at}, ${at}
     FROM jsonb_to_recordset(${bind(JSON.stringify(rows))}::jsonb) AS x(id uuid, account_id uuid, interaction_id uuid,
       profile_id uuid, profile_version integer, revision integer, status text, started_at timestamptz,
       completed_at timestamptz, failure_reason text, ai_score double precision, qa_score double precision,
       final_score double precision, criticality_adjusted_score double precision, max_score double precision,
       results jsonb)
     WHERE ${when}
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, profile_version = EXCLUDED.profile_version,
       revision = EXCLUDED.revision, started_at = COALESCE(EXCLUDED.started_at, a.started_at),
       completed_at = COALESCE(EXCLUDED.completed_at, a.completed_at), failure_reason = EXCLUDED.failure_reason,
       ${["ai_score", "qa_score", "final_score", "criticality_adjusted_score", "max_score", "results"].map(scored).join(", ")},
       updated_at = EXCLUDED.updated_at`;
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
