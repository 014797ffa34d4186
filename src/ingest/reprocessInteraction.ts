import type { Queryable } from "../storage/db.ts";
import { enqueueJobs } from "../storage/jobQueue.ts";
import { lockInteraction, updateInteractionState } from "../storage/repositories/interactions.ts";
import { type ProcessInteractionPayload, processInteractionJob } from "./ingestInteractions.ts";

/**
 * Runs a stored interaction through the pipeline again because its source content changed (an S3
 * object overwritten with a new recording): the recordings are fetched again and the analyses are
 * re-scored in place (same ids), with a new processing revision. Inside the caller's transaction.
 */
export async function reprocessForNewContent(
  tx: Queryable,
  interactionId: string,
  now: Date,
): Promise<number | null> {
  const interaction = await lockInteraction(tx, interactionId);
  if (!interaction) return null;
  const next = interaction.processingRevision + 1;
  await updateInteractionState(
    tx,
    interactionId,
    {
      status: "queued",
      failureReason: null,
      waitingReason: null,
      processingRevision: next,
      // Forget the stored recordings and transcript so the new content is fetched.
      media: {},
      transcript: null,
    },
    now,
  );
  await tx.query("UPDATE analyses SET status = 'queued', updated_at = $2 WHERE interaction_id = $1", [
    interactionId,
    now,
  ]);
  await enqueueJobs(
    tx,
    [
      {
        kind: processInteractionJob,
        accountId: interaction.accountId,
        payload: {
          interactionId,
          accountId: interaction.accountId,
          revision: next,
        } satisfies ProcessInteractionPayload,
        dedupeKey: `${processInteractionJob}:${interactionId}:${next}`,
        maxAttempts: 20,
      },
    ],
    now,
  );
  return next;
}
