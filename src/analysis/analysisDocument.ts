import { formatInTimeZone } from "../core/time.ts";
import type { Evidence } from "../core/transcript.ts";
import type { ProfileScores } from "./scoring/scoreProfile.ts";

/**
 * The analysis detail document (`GET /analyses/{id}`), shared by the REST API and the connectors that
 * hand results back (an S3 output folder). Takes the stored analysis with its interaction's facts.
 */
export interface AnalysisView {
  id: string;
  interactionId: string;
  externalInteractionId: string;
  profileId: string;
  profileName: string;
  profileVersion: number;
  status: string;
  aiScore: number | null;
  qaScore: number | null;
  finalScore: number | null;
  criticalityAdjustedScore: number | null;
  maxScore: number | null;
  failureReason: string | null;
  metadata: Record<string, string | number | boolean>;
  createdAt: Date;
  completedAt: Date | null;
}

/** Adds `key: value` only when value is set: the published API omits unset optional fields. */
function optional(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== null && value !== undefined) target[key] = value;
}

/** One row of the analysis list. `created_at` is in the account's time zone, as published. */
export function presentAnalysisSummary(analysis: AnalysisView, timeZone: string): Record<string, unknown> {
  const row: Record<string, unknown> = {
    analysis_id: analysis.id,
    interaction_id: analysis.interactionId,
    external_interaction_id: analysis.externalInteractionId,
    profile_id: analysis.profileId,
    status: analysis.status,
    ai_score: analysis.aiScore,
  };
  optional(row, "qa_score", analysis.qaScore);
  Object.assign(row, {
    final_score: analysis.finalScore,
    criticality_adjusted_score: analysis.criticalityAdjustedScore,
    metadata: analysis.metadata,
    created_at: formatInTimeZone(analysis.createdAt, timeZone),
  });
  return row;
}

function presentEvidence(evidence: Evidence[]): Record<string, unknown>[] {
  return evidence.map((e) => ({
    turn_index: e.turnIndex,
    speaker: e.speaker,
    quote: e.quote,
    char_start: e.charStart,
    char_end: e.charEnd,
    start_seconds: e.startSeconds ?? null,
    end_seconds: e.endSeconds ?? null,
    phrase: e.phrase ?? null,
    similarity: e.similarity ?? null,
    // cqa addition: transcript (default), audio (heard by phrase spotting), measure (a moment of the
    // recording; turn_index -1), llm (a quote the language model gave, found in the transcript).
    source: e.source ?? "transcript",
  }));
}

/** The full scoring breakdown: categories → sub-categories → KPIs, with cqa's evidence per KPI. */
export function presentAnalysisDetail(
  analysis: AnalysisView,
  scores: ProfileScores | null,
  timeZone: string,
): Record<string, unknown> {
  const detail = presentAnalysisSummary(analysis, timeZone);
  detail["profile_name"] = analysis.profileName;
  detail["profile_version"] = analysis.profileVersion;
  detail["max_score"] = analysis.maxScore;
  detail["analysis_completed_at"] = analysis.completedAt
    ? formatInTimeZone(analysis.completedAt, timeZone)
    : null;
  optional(detail, "failure_reason", analysis.failureReason);
  detail["categories"] = (scores?.categories ?? []).map((category) => {
    const c: Record<string, unknown> = {
      category_id: category.id,
      name: category.name,
      ai_score: category.aiScore,
    };
    optional(c, "qa_score", category.qaScore);
    Object.assign(c, {
      final_score: category.finalScore,
      criticality_adjusted_score: category.criticalityAdjustedScore,
      max_score: category.maxScore,
      sub_categories: category.subCategories.map((sub) => {
        const s: Record<string, unknown> = { sub_category_id: sub.id, name: sub.name };
        optional(s, "qa_score", sub.qaScore);
        s["kpis"] = sub.kpis.map((kpi) => {
          const k: Record<string, unknown> = {
            kpi_id: kpi.kpiId,
            kpi_name: kpi.kpiName,
            ai_response: kpi.aiResponse,
            ai_justification: kpi.aiJustification,
          };
          optional(k, "ai_suggestion", kpi.aiSuggestion);
          k["ai_score"] = kpi.aiScore;
          optional(k, "qa_score", kpi.qaScore);
          optional(k, "qa_justification", kpi.qaJustification);
          optional(k, "qa_selected_kpi_option_uid", kpi.qaSelectedOptionUid);
          optional(k, "qa_selected_kpi_option_value", kpi.qaSelectedOptionValue);
          optional(k, "user_comment", kpi.userComment);
          Object.assign(k, {
            final_score: kpi.finalScore,
            criticality_adjusted_score: kpi.criticalityAdjustedScore,
            max_score: kpi.maxScore,
            // cqa additions
            final_response: kpi.finalResponse,
            criticality: kpi.criticality,
            applicable: kpi.applicable,
            evidence: presentEvidence(kpi.evidence),
          });
          return k;
        });
        return s;
      }),
    });
    return c;
  });
  detail["metadata"] = analysis.metadata;
  return detail;
}
