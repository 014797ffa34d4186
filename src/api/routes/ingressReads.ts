import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import { analysesByInteraction } from "../../storage/repositories/analyses.ts";
import {
  getIngestJob,
  type IngestJobStatus,
  listIngestJobErrors,
} from "../../storage/repositories/ingestJobs.ts";
import {
  countBatchStatuses,
  getInteraction,
  type InteractionRecord,
  listInteractionsOfBatch,
} from "../../storage/repositories/interactions.ts";
import { canSee, rowScopeOf } from "../access.ts";
import { presentRedactions } from "../presenters/audio.ts";
import { presentInteraction } from "../presenters/interaction.ts";
import { type AccountCaller, defineRoute } from "../route.ts";
import type { ApiServices } from "../services.ts";

const base = "/api/v1/accounts/{account_id}/ingress";

const wholeNumber = (name: string, min: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `${name} must be a whole number of ${min} or more` })
    .transform(Number)
    .refine((n) => n >= min, { error: `${name} must be a whole number of ${min} or more` });

/** Finds an interaction the caller may see, or answers NOT_FOUND (also for ones out of scope). */
export async function findVisibleInteraction(
  services: ApiServices,
  caller: AccountCaller,
  identifier: string,
): Promise<InteractionRecord> {
  const interaction = await getInteraction(services.db, caller.account.id, identifier, isUuid(identifier));
  if (!interaction || !canSee(caller, interaction.metadata)) {
    throw new AppError(
      "NOT_FOUND",
      `No interaction '${identifier}' in this account (by interaction_id or external_interaction_id)`,
    );
  }
  return interaction;
}

/** Where an uploaded recording can be downloaded, for `audio_url`. */
export function recordingUrlOf(services: ApiServices, interaction: InteractionRecord): string | null {
  if (!interaction.media.uploadedAudioKey) return null;
  const path = `/api/v1/accounts/${interaction.accountId}/ingress/interactions/${interaction.id}/recording`;
  return `${services.publicUrl ?? ""}${path}`;
}

export const interactionDetailRoute = defineRoute({
  method: "get",
  path: `${base}/interactions/{interaction_identifier}`,
  operationId: "getInteraction",
  summary: "Get an interaction by interaction_id or external_interaction_id",
  tag: "Data import",
  auth: "account",
  permission: "read",
  rate: "ingest_get",
  responses: { 200: { description: "The interaction" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const identifier = context.req.param("interaction_identifier") ?? "";
    const interaction = await findVisibleInteraction(services, caller, identifier);
    const analyses = (await analysesByInteraction(services.db, [interaction.id])).get(interaction.id) ?? [];
    return {
      status: 200,
      data: presentInteraction(interaction, analyses, recordingUrlOf(services, interaction)),
    };
  },
});

export const batchTrackingRoute = defineRoute({
  method: "get",
  path: `${base}/interactions/batch/{id}`,
  operationId: "trackJob",
  summary: "Track a batch or file job",
  tag: "Data import",
  auth: "account",
  permission: "read",
  rate: "ingest_get",
  query: z.object({
    page: wholeNumber("page", 0).optional(),
    size: wholeNumber("size", 1).optional(),
  }),
  responses: {
    200: { description: "The job and a page of its interactions" },
    404: { description: "NOT_FOUND" },
  },
  async handle({ context, query, caller, services }) {
    const id = context.req.param("id") ?? "";
    const job = isUuid(id) ? await getIngestJob(services.db, caller.account.id, id) : null;
    if (!job) throw new AppError("NOT_FOUND", `No batch or file job '${id}' in this account`);
    const page = query.page ?? 0;
    const size = Math.min(query.size ?? 20, 100);
    const [listing, errors, statuses] = await Promise.all([
      // Scoped in the query, so totals and pages count only what the caller may see.
      listInteractionsOfBatch(services.db, caller.account.id, job.id, size, page * size, rowScopeOf(caller)),
      listIngestJobErrors(services.db, job.id, 100),
      job.type === "batch" ? countBatchStatuses(services.db, job.id) : Promise.resolve(null),
    ]);
    const analyses = await analysesByInteraction(
      services.db,
      listing.rows.map((r) => r.id),
    );
    const visible = listing.rows.filter((row) => canSee(caller, row.metadata));
    let jobStatus: IngestJobStatus = job.status;
    let completedAt = job.completedAt;
    if (statuses) {
      // A batch is done when each accepted interaction has finished (completed or failed).
      const finished = statuses.completed + statuses.failed;
      const total = finished + statuses.queued + statuses.processing;
      jobStatus = finished === total ? "completed" : statuses.queued === total ? "pending" : "processing";
      if (jobStatus === "completed") {
        const last = await services.db.query<{ at: Date | null }>(
          "SELECT max(status_modified_at) AS at FROM interactions WHERE batch_id = $1",
          [job.id],
        );
        completedAt = last.rows[0]?.at ?? null;
      }
    }
    const data: Record<string, unknown> = {
      id: job.id,
      total: listing.total,
      interactions: visible.map((row) =>
        presentInteraction(row, analyses.get(row.id) ?? [], recordingUrlOf(services, row)),
      ),
      pagination: {
        page,
        size,
        total_elements: listing.total,
        total_pages: Math.ceil(listing.total / size),
      },
      job_status: jobStatus,
      job_type: job.type,
      total_rows: job.totalRows,
      accepted: job.accepted,
      rejected: job.rejected,
      errors: errors.map((e) => ({
        line: e.line,
        reason: e.reason,
        external_interaction_id: e.externalInteractionId,
      })),
    };
    if (job.errorMessage) data["error_message"] = job.errorMessage;
    if (completedAt && jobStatus === "completed") data["completed_at"] = completedAt.toISOString();
    if (job.status === "failed" && job.completedAt) data["completed_at"] = job.completedAt.toISOString();
    return { status: 200, data };
  },
});

export const recordingRoute = defineRoute({
  method: "get",
  path: `${base}/interactions/{interaction_identifier}/recording`,
  operationId: "getRecording",
  summary: "Download the stored recording of an interaction (cqa addition)",
  tag: "Data import",
  auth: "account",
  permission: "read",
  rate: "ingest_get",
  responses: { 200: { description: "The audio file" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const identifier = context.req.param("interaction_identifier") ?? "";
    const interaction = await findVisibleInteraction(services, caller, identifier);
    const audio = interaction.media.audio?.[0];
    if (!audio) throw new AppError("NOT_FOUND", "This interaction has no stored recording (yet)");
    const stream = await services.blobs.getStream(audio.key);
    return new Response(stream as unknown as ReadableStream, {
      status: 200,
      headers: {
        "content-type": audio.contentType ?? "application/octet-stream",
        "content-length": String(audio.size),
      },
    });
  },
});

export const transcriptRoute = defineRoute({
  method: "get",
  path: `${base}/interactions/{interaction_identifier}/transcript`,
  operationId: "getTranscript",
  summary: "The transcript cqa analysed, turn by turn (cqa addition)",
  tag: "Data import",
  auth: "account",
  permission: "read",
  rate: "ingest_get",
  responses: { 200: { description: "The transcript" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const identifier = context.req.param("interaction_identifier") ?? "";
    const interaction = await findVisibleInteraction(services, caller, identifier);
    const transcript = interaction.transcript;
    if (!transcript) {
      throw new AppError(
        "NOT_FOUND",
        interaction.status === "completed"
          ? `This interaction has no transcript: ${interaction.speech?.error ?? interaction.speech?.notes.find((n) => n.startsWith("Not transcribed")) ?? "audio only, and no speech engine transcribed it"}`
          : `No transcript yet: the interaction is ${interaction.status}`,
      );
    }
    return {
      status: 200,
      data: {
        interaction_id: interaction.id,
        format: transcript.format,
        timed: transcript.timed,
        notes: transcript.notes,
        // cqa additions: who redacted personal data, and where the placeholders stand.
        redaction: transcript.redaction ?? null,
        redactions: presentRedactions(transcript.redactions),
        turns: transcript.turns.map((t) => ({
          index: t.index,
          speaker: t.speaker,
          speaker_label: t.speakerLabel,
          text: t.text,
          start: t.start ?? null,
          end: t.end ?? null,
        })),
      },
    };
  },
});
