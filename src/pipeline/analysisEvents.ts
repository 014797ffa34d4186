import type { ProfileScores } from "../analysis/scoring/scoreProfile.ts";
import { newId } from "../core/ids.ts";
import type { WebhookEvent } from "../core/webhookEvents.ts";
import { integrationResultMessage, type OutboxMessage, webhookMessage } from "../storage/outbox.ts";
import type { InteractionRecord } from "../storage/repositories/interactions.ts";

/** The interaction facts every analysis event carries. */
interface EventSubject {
  accountId: string;
  interaction: Pick<InteractionRecord, "id" | "externalInteractionId" | "callbackUrl" | "integrationId">;
}

/**
 * Builds the messages of one event: a webhook to the interaction's callback (if it has one) and, for
 * results (`toIntegration`), one for the integration it came from (if any), whose connector sends the
 * result back to the source system.
 */
function analysisEvent(
  subject: EventSubject,
  event: WebhookEvent,
  dedupeKey: string,
  data: Record<string, unknown>,
  now: Date,
  toIntegration = false,
): OutboxMessage[] {
  const envelope = {
    event,
    timestamp: now,
    accountId: subject.accountId,
    interactionId: subject.interaction.id,
    externalInteractionId: subject.interaction.externalInteractionId,
    data,
  };
  const messages: OutboxMessage[] = [];
  const url = subject.interaction.callbackUrl;
  if (url) messages.push(webhookMessage({ id: newId(), dedupeKey, url, envelope }));
  const integrationId = subject.interaction.integrationId;
  if (toIntegration && integrationId) {
    messages.push(
      integrationResultMessage({
        id: newId(),
        dedupeKey: `integration:${dedupeKey}`,
        integrationId,
        envelope,
      }),
    );
  }
  return messages;
}

export function analysisInProgressEvent(
  subject: EventSubject,
  analysis: { id: string; profileId: string; profileName: string; revision: number },
  now: Date,
): OutboxMessage[] {
  return analysisEvent(
    subject,
    "INTERACTION_ANALYSIS_IN_PROGRESS",
    `INTERACTION_ANALYSIS_IN_PROGRESS:${analysis.id}:${analysis.revision}`,
    { analysisId: analysis.id, profileId: analysis.profileId, profileName: analysis.profileName },
    now,
  );
}

/** The COMPLETED event with per-KPI results, camelCase as published. */
export function analysisCompletedEvent(
  subject: EventSubject,
  analysis: { id: string; profileId: string; revision: number; completedAt: Date },
  scores: ProfileScores,
  now: Date,
): OutboxMessage[] {
  const kpiResults = scores.categories.flatMap((category) =>
    category.subCategories.flatMap((sub) =>
      sub.kpis.map((kpi) => ({
        kpiId: kpi.kpiId,
        categoryId: category.id,
        subCategoryId: sub.id,
        aiResponse: kpi.aiResponse,
        aiJustification: kpi.aiJustification,
        aiScore: kpi.aiScore,
        qaScore: kpi.qaScore,
        finalScore: kpi.finalScore,
        criticalityAdjustedScore: kpi.criticalityAdjustedScore,
      })),
    ),
  );
  return analysisEvent(
    subject,
    "INTERACTION_ANALYSIS_COMPLETED",
    `INTERACTION_ANALYSIS_COMPLETED:${analysis.id}:${analysis.revision}`,
    {
      analysisId: analysis.id,
      status: "COMPLETED",
      profileId: analysis.profileId,
      aiScore: scores.aiScore,
      qaScore: scores.qaScore,
      finalScore: scores.finalScore,
      criticalityAdjustedScore: scores.criticalityAdjustedScore,
      analysisCompletedAt: analysis.completedAt.toISOString(),
      kpiResults,
    },
    now,
    true,
  );
}

/**
 * The FAILED event. `analysis` is absent when the interaction failed before any profile was
 * applied (e.g. its recording never became available); the key then uses the interaction.
 */
export function analysisFailedEvent(
  subject: EventSubject,
  failure: { errorCode: string; errorMessage: string; revision: number },
  analysis: { id: string; profileId: string } | null,
  now: Date,
): OutboxMessage[] {
  const key = analysis ? analysis.id : `interaction:${subject.interaction.id}`;
  return analysisEvent(
    subject,
    "INTERACTION_ANALYSIS_FAILED",
    `INTERACTION_ANALYSIS_FAILED:${key}:${failure.revision}`,
    {
      errorCode: failure.errorCode,
      errorMessage: failure.errorMessage,
      ...(analysis ? { analysisId: analysis.id, profileId: analysis.profileId } : {}),
    },
    now,
    true,
  );
}

/** The events to write: webhooks only when the account's webhook flag is on; integration results always. */
export function deliverableEvents(events: OutboxMessage[], webhooksEnabled: boolean): OutboxMessage[] {
  return webhooksEnabled ? events : events.filter((e) => e.channel !== "webhook");
}
