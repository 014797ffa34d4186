import { AppError, describeError } from "../../core/errors.ts";
import type {
  Criticality,
  Kpi,
  KpiAnswer,
  KpiEvaluation,
  KpiResult,
  KpiReview,
  ProfileDefinition,
} from "../../core/qualityProfile.ts";
import type { Evidence } from "../../core/transcript.ts";
import { type EvaluationContext, evaluateKpi } from "./evaluateKpi.ts";

/** Every KPI of a profile in tree order (category, sub-category, KPI). */
function kpisOf(definition: ProfileDefinition): Kpi[] {
  return definition.categories.flatMap((c) => c.subCategories.flatMap((s) => s.kpis));
}

/** The most a KPI can score: its highest option. */
export function maxScoreOf(kpi: Kpi): number {
  return Math.max(0, ...kpi.options.map((o) => o.score));
}

/** Evaluates every KPI of a profile against one conversation, in tree order, with AI scores. */
export function scoreProfile(definition: ProfileDefinition, context: EvaluationContext): KpiResult[] {
  return kpisOf(definition).map((kpi) => scoreKpi(kpi, context));
}

function scoreKpi(kpi: Kpi, context: EvaluationContext): KpiResult {
  let evaluation: KpiEvaluation;
  try {
    evaluation = evaluateKpi(kpi, context);
  } catch (error) {
    throw new AppError(
      "ANALYSIS_FAILED",
      `KPI "${kpi.name}" (${kpi.id}) could not be evaluated: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  let { answer, justification } = evaluation;
  let option = kpi.options.find((o) => o.value === answer);
  if (option === undefined && answer === "Partially") {
    // A KPI without a Partially option is pass/fail: half a job is not a pass.
    option = kpi.options.find((o) => o.value === "No");
    answer = "No";
    justification += " This KPI has no Partially option, so it is scored as No.";
  }
  const result: KpiResult = {
    kpiId: kpi.id,
    answer,
    justification,
    evidence: evaluation.evidence,
    optionUid: option?.uid ?? null,
    aiScore: answer === "N/A" ? 0 : (option?.score ?? 0),
    maxScore: maxScoreOf(kpi),
  };
  if (kpi.suggestion !== undefined && answer !== "Yes" && answer !== "N/A")
    result.suggestion = kpi.suggestion;
  return result;
}

/** One KPI's AI answer, the reviewer's override and the scores that follow. */
export interface KpiScores {
  kpiId: string;
  kpiName: string;
  criticality: Criticality;
  /** False when the final answer is N/A: the KPI then counts in neither numerator nor denominator. */
  applicable: boolean;
  aiResponse: KpiAnswer;
  aiJustification: string;
  aiSuggestion?: string;
  evidence: Evidence[];
  aiScore: number;
  qaScore: number | null;
  qaJustification: string | null;
  qaSelectedOptionUid: string | null;
  qaSelectedOptionValue: string | null;
  userComment: string | null;
  finalResponse: KpiAnswer;
  finalScore: number;
  criticalityAdjustedScore: number;
  maxScore: number;
  /** True when this critical or fatal KPI failed and so zeroed adjusted scores above it. */
  criticalityFailed: boolean;
}

/** The points of a group of KPIs (sub-category, category or profile). */
export interface ScoreTotals {
  aiScore: number;
  /** Null until a reviewer has scored at least one KPI of the group. */
  qaScore: number | null;
  finalScore: number;
  criticalityAdjustedScore: number;
  maxScore: number;
}

export interface SubCategoryScores extends ScoreTotals {
  id: string;
  name: string;
  kpis: KpiScores[];
}

export interface CategoryScores extends ScoreTotals {
  id: string;
  name: string;
  subCategories: SubCategoryScores[];
}

export interface ProfileScores extends ScoreTotals {
  profileName: string;
  categories: CategoryScores[];
}

/**
 * Rolls KPI results and reviews up into sub-category, category and profile scores.
 *
 * - Scores are points, not percentages: a group's `maxScore` is the sum of its applicable KPIs' highest
 *   option scores.
 * - A reviewed KPI (the last review per KPI in `reviews` applies) takes the review's score, and its
 *   answer from the review's option (by value, else by uid). A score-only review keeps the AI answer when
 *   the score agrees with it; otherwise the answer is the option worth that score (Yes at or above the
 *   maximum, No at 0, Partially in between).
 * - A KPI whose final answer is N/A leaves both numerator and denominator.
 * - A group's `aiScore` sums the AI scores of its applicable KPIs; `qaScore` sums their final scores once
 *   any KPI in the group was reviewed, else it is null; `finalScore` is `qaScore ?? aiScore`.
 * - A `critical` KPI that failed (final answer No; for a score-only review, 0 points out of more than 0)
 *   zeroes its category's `criticalityAdjustedScore`; a failed `fatal` KPI zeroes the profile's and
 *   every category's. Otherwise a group's adjusted score is its final score, and the profile's is the
 *   sum of its categories' adjusted scores, so a zeroed category lowers the profile too. KPI and
 *   sub-category adjusted scores are zeroed with their category.
 * - Results and reviews of KPIs not in the definition are ignored; a KPI without a result counts as N/A
 *   unless a reviewer answered it.
 */
export function rollUp(
  definition: ProfileDefinition,
  results: KpiResult[],
  reviews: KpiReview[],
): ProfileScores {
  const resultById = new Map(results.map((r) => [r.kpiId, r]));
  const reviewById = new Map(reviews.map((r) => [r.kpiId, r]));
  const categories = definition.categories.map((category) => {
    const subCategories = category.subCategories.map((sub) => ({
      id: sub.id,
      name: sub.name,
      kpis: sub.kpis.map((kpi) => finalKpiScores(kpi, resultById.get(kpi.id), reviewById.get(kpi.id))),
    }));
    return { id: category.id, name: category.name, subCategories };
  });
  const everyKpi = categories.flatMap((c) => c.subCategories.flatMap((s) => s.kpis));
  const fatalFailed = everyKpi.some((k) => k.criticalityFailed && k.criticality === "fatal");

  const scoredCategories: CategoryScores[] = categories.map((category) => {
    const kpis = category.subCategories.flatMap((s) => s.kpis);
    const zeroed = fatalFailed || kpis.some((k) => k.criticalityFailed);
    const subCategories = category.subCategories.map((sub) => {
      const scoredKpis = sub.kpis.map((k) => ({
        ...k,
        criticalityAdjustedScore: zeroed || !k.applicable ? 0 : k.finalScore,
      }));
      return { id: sub.id, name: sub.name, ...totals(scoredKpis, zeroed), kpis: scoredKpis };
    });
    return { id: category.id, name: category.name, ...totals(kpis, zeroed), subCategories };
  });
  const profileTotals = totals(everyKpi, fatalFailed);
  return {
    profileName: definition.name,
    ...profileTotals,
    criticalityAdjustedScore: fatalFailed
      ? 0
      : roundPoints(scoredCategories.reduce((sum, c) => sum + c.criticalityAdjustedScore, 0)),
    categories: scoredCategories,
  };
}

function totals(kpis: readonly KpiScores[], zeroed: boolean): ScoreTotals {
  const applicable = kpis.filter((k) => k.applicable);
  const aiScore = roundPoints(sum(applicable.map((k) => k.aiScore)));
  const reviewed = kpis.some((k) => k.qaScore !== null);
  const qaScore = reviewed ? roundPoints(sum(applicable.map((k) => k.finalScore))) : null;
  const finalScore = qaScore ?? aiScore;
  return {
    aiScore,
    qaScore,
    finalScore,
    criticalityAdjustedScore: zeroed ? 0 : finalScore,
    maxScore: roundPoints(sum(applicable.map((k) => k.maxScore))),
  };
}

const answers: readonly KpiAnswer[] = ["Yes", "No", "Partially", "N/A"];

function asAnswer(value: string | null | undefined): KpiAnswer | null {
  if (value === null || value === undefined) return null;
  const normalised = value.trim().toLowerCase();
  return answers.find((a) => a.toLowerCase() === normalised) ?? null;
}

/** The answer a score stands for when a reviewer gave only a score. */
function answerForScore(kpi: Kpi, score: number, maxScore: number): KpiAnswer {
  const option = kpi.options.find((o) => o.value !== "N/A" && o.score === score);
  if (option !== undefined) return option.value;
  if (score >= maxScore) return "Yes";
  return score <= 0 ? "No" : "Partially";
}

function finalKpiScores(kpi: Kpi, result: KpiResult | undefined, review: KpiReview | undefined): KpiScores {
  const maxScore = maxScoreOf(kpi);
  const aiResponse: KpiAnswer = result?.answer ?? "N/A";
  const aiScore = result?.aiScore ?? 0;
  const optionByUid = review?.optionUid ? kpi.options.find((o) => o.uid === review.optionUid) : undefined;
  const reviewedAnswer = asAnswer(review?.optionValue) ?? optionByUid?.value ?? null;
  const optionByValue =
    reviewedAnswer === null ? undefined : kpi.options.find((o) => o.value === reviewedAnswer);
  const scoreOnly = review !== undefined && reviewedAnswer === null;

  let finalResponse = aiResponse;
  if (review !== undefined) {
    if (reviewedAnswer !== null) finalResponse = reviewedAnswer;
    else if (review.score !== aiScore) finalResponse = answerForScore(kpi, review.score, maxScore);
  }
  const finalScore = review?.score ?? aiScore;
  const applicable = finalResponse !== "N/A";
  const failed =
    applicable &&
    kpi.criticality !== "normal" &&
    (finalResponse === "No" || (scoreOnly && finalScore === 0 && maxScore > 0));

  const scores: KpiScores = {
    kpiId: kpi.id,
    kpiName: kpi.name,
    criticality: kpi.criticality,
    applicable,
    aiResponse,
    aiJustification: result?.justification ?? "This KPI was not evaluated: no result was stored for it.",
    evidence: result?.evidence ?? [],
    aiScore,
    qaScore: review?.score ?? null,
    qaJustification: review?.justification ?? null,
    qaSelectedOptionUid: review?.optionUid ?? optionByValue?.uid ?? null,
    qaSelectedOptionValue: review?.optionValue ?? optionByUid?.value ?? null,
    userComment: review?.userComment ?? null,
    finalResponse,
    finalScore,
    criticalityAdjustedScore: applicable ? finalScore : 0,
    maxScore,
    criticalityFailed: failed,
  };
  if (result?.suggestion !== undefined) scores.aiSuggestion = result.suggestion;
  return scores;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, v) => total + v, 0);
}

/** Points are kept to two decimals so that halves and thirds add up without float noise. */
function roundPoints(value: number): number {
  return Math.round(value * 100) / 100;
}
