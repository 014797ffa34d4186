import { presentAnalysisDetail } from "../analysis/analysisDocument.ts";
import { rollUp } from "../analysis/scoring/scoreProfile.ts";
import type { Queryable } from "../storage/db.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import { getAnalysis, listAnalysesOfInteraction } from "../storage/repositories/analyses.ts";
import { getInteractionById } from "../storage/repositories/interactions.ts";
import { getProfile } from "../storage/repositories/profiles.ts";
import { latestReviews } from "../storage/repositories/reviews.ts";

/**
 * The result of one interaction as a document for the source it came from: the interaction's facts
 * and, for each quality profile applied, the analysis detail document of `GET /analyses/{id}`. Built
 * from storage when it is delivered, so a re-delivery carries the current state (QA overrides too).
 */
export async function interactionResultDocument(
  q: Queryable,
  accountId: string,
  interactionId: string,
): Promise<Record<string, unknown> | null> {
  const interaction = await getInteractionById(q, interactionId);
  if (!interaction || interaction.accountId !== accountId) return null;
  const timeZone = (await getAccount(q, accountId))?.timezone ?? "UTC";
  const analyses: Record<string, unknown>[] = [];
  for (const record of await listAnalysesOfInteraction(q, interactionId)) {
    const analysis = await getAnalysis(q, accountId, record.id);
    if (!analysis) continue;
    const profile = analysis.results
      ? await getProfile(q, accountId, analysis.profileId, analysis.profileVersion)
      : null;
    const scores =
      profile && analysis.results
        ? rollUp(profile.definition, analysis.results, await latestReviews(q, analysis.id))
        : null;
    analyses.push(presentAnalysisDetail(analysis, scores, timeZone));
  }
  return {
    interaction_id: interaction.id,
    external_interaction_id: interaction.externalInteractionId,
    status: interaction.status,
    ...(interaction.failureReason ? { failure_reason: interaction.failureReason } : {}),
    channel_type: interaction.channelType,
    source: interaction.source,
    interaction_start_time: interaction.interactionStartTime?.toISOString() ?? null,
    duration_seconds: interaction.durationSeconds,
    metadata: interaction.metadata,
    analyses,
  };
}
