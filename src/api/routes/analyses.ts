import { z } from "zod";
import { type ProfileScores, rollUp } from "../../analysis/scoring/scoreProfile.ts";
import { AppError } from "../../core/errors.ts";
import { isUuid, newId } from "../../core/ids.ts";
import type { Queryable } from "../../storage/db.ts";
import { addToOutbox, webhookMessage } from "../../storage/outbox.ts";
import {
  type AnalysisListing,
  getAnalysis,
  listAnalyses,
  updateAnalysis,
} from "../../storage/repositories/analyses.ts";
import { audit } from "../../storage/repositories/auditLog.ts";
import {
  type DisputeRecord,
  getDispute,
  insertDispute,
  listDisputesOfAnalysis,
  resolveDispute,
} from "../../storage/repositories/disputes.ts";
import { getInteractionById } from "../../storage/repositories/interactions.ts";
import { getProfile } from "../../storage/repositories/profiles.ts";
import { insertReview, latestReviews, reviewHistory } from "../../storage/repositories/reviews.ts";
import { actorName } from "../../tenancy/authenticate.ts";
import { canSee, rowScopeOf } from "../access.ts";
import { analysisQueryDocSchema, parseAnalysisQuery } from "../analysisQuery.ts";
import { presentAnalysisDetail, presentAnalysisSummary } from "../presenters/analysis.ts";
import { type AccountCaller, defineRoute } from "../route.ts";
import type { ApiServices } from "../services.ts";

const base = "/api/v1/accounts/{account_id}/analyses";

/** Loads an analysis the caller may see, or answers NOT_FOUND. */
async function findVisibleAnalysis(
  q: Queryable,
  caller: AccountCaller,
  analysisId: string | undefined,
): Promise<AnalysisListing> {
  const analysis =
    analysisId && isUuid(analysisId) ? await getAnalysis(q, caller.account.id, analysisId) : null;
  if (!analysis || !canSee(caller, analysis.metadata)) {
    throw new AppError("NOT_FOUND", `No analysis '${analysisId ?? ""}' in this account`);
  }
  return analysis;
}

/** Recomputes the score tree of an analysis from its stored AI results and the reviews in force. */
async function scoresOf(q: Queryable, analysis: AnalysisListing): Promise<ProfileScores | null> {
  if (!analysis.results) return null;
  const profile = await getProfile(q, analysis.accountId, analysis.profileId, analysis.profileVersion);
  if (!profile) return null;
  return rollUp(profile.definition, analysis.results, await latestReviews(q, analysis.id));
}

const listAnalysesRoute = defineRoute({
  method: "post",
  path: base,
  operationId: "listAnalyses",
  summary: "List analyses",
  description:
    "A date filter is required (range of at most 31 days). Dates without a time are whole days in the account's " +
    "time zone; end_date is inclusive. `metadata_filter_group`: inner arrays AND, outer array OR.",
  tag: "Analysis",
  auth: "account",
  permission: "read",
  rate: "other",
  // Listed for the OpenAPI document; parseAnalysisQuery checks them with the published messages.
  query: z.object({ limit: z.string().optional(), offset: z.string().optional() }),
  body: z.unknown(),
  documentedBody: analysisQueryDocSchema,
  responses: { 200: { description: "A page of analyses" }, 400: { description: "VALIDATION_ERROR" } },
  async handle({ context, body, caller, services }) {
    const query = Object.fromEntries(new URL(context.req.url).searchParams.entries());
    const filter = parseAnalysisQuery(query, body, caller.account.timezone);
    const { rows, total } = await listAnalyses(services.db, caller.account.id, {
      ...filter,
      scope: rowScopeOf(caller),
    });
    return {
      status: 200,
      data: {
        analyses: rows.map((row) => presentAnalysisSummary(row, caller.account.timezone)),
        pagination: { limit: filter.limit, offset: filter.offset, total },
      },
    };
  },
});

const analysisDetailRoute = defineRoute({
  method: "get",
  path: `${base}/{analysis_id}`,
  operationId: "getAnalysis",
  summary: "Get an analysis with its categories, sub-categories and KPIs",
  tag: "Analysis",
  auth: "account",
  permission: "read",
  rate: "other",
  responses: { 200: { description: "The analysis" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const analysis = await findVisibleAnalysis(services.db, caller, context.req.param("analysis_id"));
    return {
      status: 200,
      data: presentAnalysisDetail(analysis, await scoresOf(services.db, analysis), caller.account.timezone),
    };
  },
});

const reviewBody = z
  .object({
    option_uid: z.string().min(1).optional(),
    score: z.number().min(0).optional(),
    justification: z
      .string({ error: "justification is required: say why the AI answer is overridden" })
      .trim()
      .min(1, { error: "justification is required: say why the AI answer is overridden" })
      .max(4000),
    user_comment: z.string().max(4000).optional(),
  })
  .refine((b) => b.option_uid !== undefined || b.score !== undefined, {
    error: "Give option_uid (one of the KPI's options) or score",
  });

/** Applies a QA override inside a transaction; returns the recomputed scores. */
async function applyReview(
  tx: Queryable,
  services: ApiServices,
  analysis: AnalysisListing,
  kpiId: string,
  review: z.output<typeof reviewBody>,
  reviewer: string,
): Promise<ProfileScores> {
  if (analysis.status !== "completed" || !analysis.results) {
    throw new AppError(
      "VALIDATION_ERROR",
      `Only completed analyses can be reviewed; this one is ${analysis.status}`,
    );
  }
  const profile = await getProfile(tx, analysis.accountId, analysis.profileId, analysis.profileVersion);
  const kpi = profile?.definition.categories
    .flatMap((c) => c.subCategories.flatMap((s) => s.kpis))
    .find((k) => k.id === kpiId);
  if (!profile || !kpi) throw new AppError("NOT_FOUND", `The profile of this analysis has no KPI '${kpiId}'`);
  const maxScore = Math.max(...kpi.options.map((o) => o.score));
  let option = null;
  if (review.option_uid !== undefined) {
    option = kpi.options.find((o) => o.uid === review.option_uid) ?? null;
    if (!option) {
      throw new AppError(
        "VALIDATION_ERROR",
        `option_uid '${review.option_uid}' is not an option of KPI '${kpi.name}'; use one of: ${kpi.options.map((o) => `${o.uid} (${o.label})`).join(", ")}`,
      );
    }
  }
  const score = review.score ?? option?.score ?? 0;
  if (score > maxScore)
    throw new AppError("VALIDATION_ERROR", `score must be at most ${maxScore}, the KPI's maximum`);
  const now = services.clock.now();
  await insertReview(tx, {
    id: newId(),
    accountId: analysis.accountId,
    analysisId: analysis.id,
    kpiId,
    optionUid: option?.uid ?? null,
    optionValue: option?.value ?? null,
    score,
    justification: review.justification,
    userComment: review.user_comment ?? null,
    reviewer,
    createdAt: now,
  });
  const scores = rollUp(profile.definition, analysis.results, await latestReviews(tx, analysis.id));
  await updateAnalysis(
    tx,
    analysis.id,
    {
      status: "completed",
      qaScore: scores.qaScore,
      finalScore: scores.finalScore,
      criticalityAdjustedScore: scores.criticalityAdjustedScore,
    },
    now,
  );
  await audit(tx, {
    accountId: analysis.accountId,
    actor: reviewer,
    action: "analysis.kpi_reviewed",
    target: analysis.id,
    details: { kpi_id: kpiId, option_uid: option?.uid ?? null, score, justification: review.justification },
    at: now,
  });
  return scores;
}

const reviewKpiRoute = defineRoute({
  method: "put",
  path: `${base}/{analysis_id}/kpis/{kpi_id}/review`,
  operationId: "reviewKpi",
  summary: "Override the AI answer of one KPI (QA review; every change is kept in the history)",
  tag: "Review",
  auth: "account",
  permission: "review",
  rate: "other",
  body: reviewBody,
  responses: {
    200: { description: "The analysis with recomputed scores" },
    404: { description: "NOT_FOUND" },
  },
  async handle({ context, body, caller, services }) {
    const detail = await services.db.transaction(async (tx) => {
      const analysis = await findVisibleAnalysis(tx, caller, context.req.param("analysis_id"));
      await tx.query("SELECT id FROM analyses WHERE id = $1 FOR UPDATE", [analysis.id]);
      const scores = await applyReview(
        tx,
        services,
        analysis,
        context.req.param("kpi_id") ?? "",
        body,
        actorName(caller.principal),
      );
      const fresh = await findVisibleAnalysis(tx, caller, analysis.id);
      return presentAnalysisDetail(fresh, scores, caller.account.timezone);
    });
    return { status: 200, data: detail };
  },
});

const historyRoute = defineRoute({
  method: "get",
  path: `${base}/{analysis_id}/history`,
  operationId: "getAnalysisHistory",
  summary: "Every QA review and dispute of an analysis, oldest first",
  tag: "Review",
  auth: "account",
  permission: "read",
  rate: "other",
  responses: { 200: { description: "The audit trail" } },
  async handle({ context, caller, services }) {
    const analysis = await findVisibleAnalysis(services.db, caller, context.req.param("analysis_id"));
    const [reviews, disputes] = await Promise.all([
      reviewHistory(services.db, analysis.id),
      listDisputesOfAnalysis(services.db, analysis.id),
    ]);
    return {
      status: 200,
      data: {
        analysis_id: analysis.id,
        reviews: reviews.map((r) => ({
          review_id: r.id,
          kpi_id: r.kpiId,
          option_uid: r.optionUid,
          option_value: r.optionValue,
          score: r.score,
          justification: r.justification,
          user_comment: r.userComment,
          reviewer: r.reviewer,
          created_at: r.createdAt.toISOString(),
        })),
        disputes: disputes.map(presentDispute),
      },
    };
  },
});

function presentDispute(d: DisputeRecord): Record<string, unknown> {
  return {
    dispute_id: d.id,
    analysis_id: d.analysisId,
    kpi_id: d.kpiId,
    reason: d.reason,
    raised_by: d.raisedBy,
    status: d.status,
    resolution: d.resolution,
    resolution_comment: d.resolutionComment,
    resolved_by: d.resolvedBy,
    created_at: d.createdAt.toISOString(),
    resolved_at: d.resolvedAt?.toISOString() ?? null,
  };
}

/** Queues a dispute webhook to the interaction's callback, when it has one and webhooks are on. */
async function queueDisputeEvent(
  tx: Queryable,
  caller: AccountCaller,
  analysis: AnalysisListing,
  event: "INTERACTION_DISPUTE_RAISED" | "INTERACTION_DISPUTE_RESOLVED",
  data: Record<string, unknown>,
  dedupeKey: string,
  now: Date,
): Promise<void> {
  if (!caller.account.webhooksEnabled) return;
  const interaction = await getInteractionById(tx, analysis.interactionId);
  if (!interaction?.callbackUrl) return;
  await addToOutbox(
    tx,
    [
      webhookMessage({
        id: newId(),
        dedupeKey,
        url: interaction.callbackUrl,
        envelope: {
          event,
          timestamp: now,
          accountId: caller.account.id,
          interactionId: interaction.id,
          externalInteractionId: interaction.externalInteractionId,
          data,
        },
      }),
    ],
    now,
  );
}

const raiseDisputeRoute = defineRoute({
  method: "post",
  path: `${base}/{analysis_id}/disputes`,
  operationId: "raiseDispute",
  summary: "Raise a dispute on an analysis or one of its KPIs",
  tag: "Review",
  auth: "account",
  permission: "dispute:raise",
  rate: "other",
  body: z.object({
    kpi_id: z.string().min(1).optional(),
    reason: z
      .string({ error: "reason is required: say what is wrong with the analysis" })
      .trim()
      .min(1, { error: "reason is required: say what is wrong with the analysis" })
      .max(4000),
  }),
  responses: { 201: { description: "The dispute" } },
  async handle({ context, body, caller, services }) {
    const dispute = await services.db.transaction(async (tx) => {
      const analysis = await findVisibleAnalysis(tx, caller, context.req.param("analysis_id"));
      if (body.kpi_id && !analysis.results?.some((r) => r.kpiId === body.kpi_id)) {
        throw new AppError("VALIDATION_ERROR", `kpi_id '${body.kpi_id}' is not a KPI of this analysis`);
      }
      const now = services.clock.now();
      const record: DisputeRecord = {
        id: newId(),
        accountId: caller.account.id,
        analysisId: analysis.id,
        kpiId: body.kpi_id ?? null,
        reason: body.reason,
        raisedBy: actorName(caller.principal),
        status: "open",
        resolution: null,
        resolutionComment: null,
        resolvedBy: null,
        createdAt: now,
        resolvedAt: null,
      };
      await insertDispute(tx, record);
      await queueDisputeEvent(
        tx,
        caller,
        analysis,
        "INTERACTION_DISPUTE_RAISED",
        { analysisId: analysis.id, disputeId: record.id },
        `INTERACTION_DISPUTE_RAISED:${record.id}`,
        now,
      );
      return record;
    });
    return { status: 201, data: presentDispute(dispute) };
  },
});

const listDisputesRoute = defineRoute({
  method: "get",
  path: `${base}/{analysis_id}/disputes`,
  operationId: "listDisputes",
  summary: "Disputes of an analysis",
  tag: "Review",
  auth: "account",
  permission: "read",
  rate: "other",
  responses: { 200: { description: "The disputes" } },
  async handle({ context, caller, services }) {
    const analysis = await findVisibleAnalysis(services.db, caller, context.req.param("analysis_id"));
    return {
      status: 200,
      data: { disputes: (await listDisputesOfAnalysis(services.db, analysis.id)).map(presentDispute) },
    };
  },
});

const resolveDisputeRoute = defineRoute({
  method: "post",
  path: `${base}/{analysis_id}/disputes/{dispute_id}/resolve`,
  operationId: "resolveDispute",
  summary: "Resolve a dispute, optionally overriding the disputed KPI",
  tag: "Review",
  auth: "account",
  permission: "dispute:resolve",
  rate: "other",
  body: z.object({
    resolution: z.enum(["ACCEPTED", "REJECTED"], { error: "resolution must be ACCEPTED or REJECTED" }),
    comment: z.string().max(4000).optional(),
    override: z
      .object({
        kpi_id: z.string().min(1),
        option_uid: z.string().min(1).optional(),
        score: z.number().min(0).optional(),
        justification: z.string().trim().min(1).max(4000),
      })
      .optional(),
  }),
  responses: { 200: { description: "The resolved dispute and the analysis' final score" } },
  async handle({ context, body, caller, services }) {
    const result = await services.db.transaction(async (tx) => {
      const analysis = await findVisibleAnalysis(tx, caller, context.req.param("analysis_id"));
      await tx.query("SELECT id FROM analyses WHERE id = $1 FOR UPDATE", [analysis.id]);
      const disputeId = context.req.param("dispute_id") ?? "";
      const dispute = isUuid(disputeId) ? await getDispute(tx, caller.account.id, disputeId) : null;
      if (!dispute || dispute.analysisId !== analysis.id) {
        throw new AppError("NOT_FOUND", `No dispute '${disputeId}' on this analysis`);
      }
      if (dispute.status !== "open")
        throw new AppError("VALIDATION_ERROR", "This dispute is already resolved");
      const actor = actorName(caller.principal);
      let finalScore = analysis.finalScore;
      if (body.override) {
        if (body.resolution !== "ACCEPTED") {
          throw new AppError("VALIDATION_ERROR", "An override can only come with resolution ACCEPTED");
        }
        const { kpi_id, ...review } = body.override;
        finalScore = (await applyReview(tx, services, analysis, kpi_id, review, actor)).finalScore;
      }
      const now = services.clock.now();
      await resolveDispute(tx, dispute.id, body.resolution, body.comment ?? null, actor, now);
      await queueDisputeEvent(
        tx,
        caller,
        analysis,
        "INTERACTION_DISPUTE_RESOLVED",
        {
          analysisId: analysis.id,
          disputeId: dispute.id,
          resolution: body.resolution,
          updatedScore: finalScore,
        },
        `INTERACTION_DISPUTE_RESOLVED:${dispute.id}`,
        now,
      );
      return { dispute: (await getDispute(tx, caller.account.id, dispute.id))!, finalScore };
    });
    return { status: 200, data: { ...presentDispute(result.dispute), updated_score: result.finalScore } };
  },
});

export const analysisRoutes = [
  listAnalysesRoute,
  analysisDetailRoute,
  reviewKpiRoute,
  historyRoute,
  raiseDisputeRoute,
  listDisputesRoute,
  resolveDisputeRoute,
];
