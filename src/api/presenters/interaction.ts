import type { AnalysisStatus } from "../../storage/repositories/analyses.ts";
import type { InteractionRecord } from "../../storage/repositories/interactions.ts";
import { presentAudioMeasures, presentSpeech } from "./audio.ts";
import { presentRoutingDecision } from "./routing.ts";

/** The Standard API's interaction detail (snake_case), with cqa's additions after the published fields. */
export function presentInteraction(
  interaction: InteractionRecord,
  analyses: { id: string; profileId: string; status: AnalysisStatus }[],
  recordingUrl: string | null,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    interaction_id: interaction.id,
    external_interaction_id: interaction.externalInteractionId,
  };
  if (interaction.batchId) body["batch_id"] = interaction.batchId;
  Object.assign(body, {
    channel_type: interaction.channelType,
    source: interaction.source,
    status: interaction.status,
    status_modified_at: interaction.statusModifiedAt.toISOString(),
  });
  if (interaction.status === "failed" && interaction.failureReason)
    body["failure_reason"] = interaction.failureReason;
  Object.assign(body, {
    audio_url: interaction.audioUrl ?? recordingUrl,
    transcript_url: interaction.transcriptUrl,
    pii_redacted: interaction.piiRedacted,
    created_at: interaction.createdAt.toISOString(),
    metadata: interaction.metadata,
    analyses: analyses.map((a) => ({ analysis_id: a.id, profile_id: a.profileId, status: a.status })),
    // cqa additions
    language: interaction.language,
    interaction_start_time: interaction.interactionStartTime?.toISOString() ?? null,
    duration_seconds: interaction.durationSeconds,
    waiting_reason: interaction.waitingReason,
    not_analysed_reason: interaction.notAnalysedReason,
    routing: interaction.routing ? presentRoutingDecision(interaction.routing) : null,
    audio_measures: presentAudioMeasures(interaction.audioMeasures),
    speech: presentSpeech(interaction.speech),
  });
  return body;
}
