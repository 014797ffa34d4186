import { z } from "zod";
import { connectorMediaFetcher } from "../../connectors/mediaAccess.ts";
import { AppError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import type { AccountLimits } from "../../core/limits.ts";
import { defaultLimits } from "../../core/limits.ts";
import { capWindow } from "../../ingest/conversationCap.ts";
import { fileSubmissionSchema, submitFileJob } from "../../ingest/fileIngestion.ts";
import { type IngestItemResult, ingestInteractions } from "../../ingest/ingestInteractions.ts";
import { interactionItemSchema } from "../../ingest/interactionSchema.ts";
import { addIngestJobErrors, insertIngestJob } from "../../storage/repositories/ingestJobs.ts";
import type { InteractionMedia } from "../../storage/repositories/interactions.ts";
import { defineRoute, type HandlerInput } from "../route.ts";
import {
  batchTrackingRoute,
  interactionDetailRoute,
  recordingRoute,
  transcriptRoute,
} from "./ingressReads.ts";

const accountParams = z.object({ account_id: z.string() });
const base = "/api/v1/accounts/{account_id}/ingress";
const documentedItem = interactionItemSchema(defaultLimits);

const createdSchema = z.object({
  interaction_id: z.string(),
  external_interaction_id: z.string(),
  status: z.literal("queued"),
});

/** POST /ingress/interactions — one interaction, JSON or multipart with an `audio` file part. */
const ingestSingle = defineRoute({
  method: "post",
  path: `${base}/interactions`,
  operationId: "ingestInteraction",
  summary: "Ingest a single interaction",
  description:
    "Queues one interaction for analysis. Also accepts multipart/form-data with the same fields as form fields " +
    "(metadata as a JSON string) and the recording as an `audio` file part.",
  tag: "Data import",
  auth: "account",
  permission: "ingest",
  rate: "ingest_post",
  params: accountParams,
  body: z.unknown(),
  documentedBody: documentedItem,
  multipart: true,
  maxBodyBytes: 250 * 1024 * 1024,
  responses: {
    201: { description: "Queued for processing", schema: createdSchema },
    400: { description: "VALIDATION_ERROR / INVALID_JSON / INVALID_REQUEST" },
    409: { description: "DUPLICATE: an interaction with this external_interaction_id exists" },
    429: { description: "RATE_LIMIT_EXCEEDED or CONVERSATION_CAP_EXCEEDED (with Retry-After)" },
  },
  async handle(input) {
    const { caller, services } = input;
    if (typeof input.body !== "object" || input.body === null || Array.isArray(input.body)) {
      throw new AppError(
        "VALIDATION_ERROR",
        "The request body must be one JSON object (an interaction); send several with POST /ingress/interactions/batch",
      );
    }
    const media = await storeUploadedAudio(input);
    let results: IngestItemResult[];
    try {
      results = await ingestInteractions(
        { db: services.db, clock: services.clock, onQueued: services.onQueued },
        {
          account: caller.account,
          items: [input.body],
          announce: true,
          ...(media ? { media: new Map([[0, media]]) } : {}),
        },
      );
    } catch (error) {
      if (media?.uploadedAudioKey) await services.blobs.delete(media.uploadedAudioKey).catch(() => {});
      throw error;
    }
    const result = results[0]!;
    if (result.status !== "accepted" && media?.uploadedAudioKey) {
      await services.blobs.delete(media.uploadedAudioKey).catch(() => {});
    }
    switch (result.status) {
      case "accepted":
        return {
          status: 201,
          message: "Queued for processing",
          data: {
            interaction_id: result.interactionId,
            external_interaction_id: result.externalInteractionId,
            status: "queued",
          },
        };
      case "duplicate":
        throw new AppError(
          "DUPLICATE",
          "Duplicate: interaction with this external_interaction_id already exists",
        );
      case "rejected":
        throw rejectionError(result, caller.limits, caller.account.timezone, services.clock.now());
    }
  },
});

function rejectionError(
  result: Extract<IngestItemResult, { status: "rejected" }>,
  limits: AccountLimits,
  timeZone: string,
  now: Date,
): AppError {
  if (result.code === "CONVERSATION_CAP_EXCEEDED" && limits.conversationCap !== "unlimited") {
    const window = capWindow(limits.conversationCap, now, timeZone);
    const retryAfterSeconds = Math.max(1, Math.ceil((window.resetsAt.getTime() - now.getTime()) / 1000));
    return new AppError("CONVERSATION_CAP_EXCEEDED", result.reason, { retryAfterSeconds });
  }
  return new AppError(result.code, result.reason);
}

/** Keeps an uploaded recording in the blob store before the interaction exists. */
async function storeUploadedAudio(
  input: HandlerInput<unknown, unknown, unknown>,
): Promise<InteractionMedia | null> {
  const file = input.files.get("audio");
  const others = [...input.files.keys()].filter((name) => name !== "audio");
  if (others.length > 0) {
    throw new AppError(
      "VALIDATION_ERROR",
      `Unexpected file part(s) ${others.join(", ")}: send the recording as the 'audio' part`,
    );
  }
  if (!file) return null;
  if (file.size === 0) throw new AppError("VALIDATION_ERROR", "The uploaded audio file is empty (0 bytes)");
  const safeName = (file.name || "audio").replace(/[^A-Za-z0-9._-]/g, "_").slice(-100) || "audio";
  const key = `uploads/${input.caller.account.id}/${newId()}/${safeName}`;
  const stored = await input.services.blobs.put(key, Buffer.from(await file.arrayBuffer()));
  return {
    uploadedAudioKey: stored.key,
    audio: [
      {
        key: stored.key,
        size: stored.size,
        sha256: stored.sha256,
        contentType: file.type || null,
        url: `upload:${safeName}`,
      },
    ],
  };
}

const batchBody = z.object({
  interactions: z.array(z.unknown(), { error: "interactions must be an array of interaction objects" }),
});

/** POST /ingress/interactions/batch — up to 100 interactions; valid ones queued, invalid ones listed. */
const ingestBatch = defineRoute({
  method: "post",
  path: `${base}/interactions/batch`,
  operationId: "ingestBatch",
  summary: "Ingest a batch of interactions",
  description:
    "Valid items are queued and invalid ones rejected at once (listed in `errors`). Any item whose transcript_text " +
    "exceeds the limit rejects the whole batch.",
  tag: "Data import",
  auth: "account",
  permission: "ingest",
  rate: "ingest_post",
  params: accountParams,
  body: batchBody,
  documentedBody: z.object({ interactions: z.array(documentedItem).min(1).max(100) }),
  maxBodyBytes: 20 * 1024 * 1024,
  responses: {
    202: {
      description: "Accepted (possibly partially)",
      schema: z.object({ id: z.string(), type: z.literal("batch"), status: z.literal("pending") }),
    },
    400: { description: "VALIDATION_ERROR (no job created)" },
    409: { description: "DUPLICATE: every item already exists" },
    429: { description: "RATE_LIMIT_EXCEEDED or CONVERSATION_CAP_EXCEEDED" },
  },
  async handle({ body, caller, services }) {
    const { limits } = caller;
    const items = body.interactions;
    if (items.length === 0)
      throw new AppError("VALIDATION_ERROR", "interactions must contain at least 1 item");
    if (items.length > limits.batchMaxItems) {
      throw new AppError(
        "VALIDATION_ERROR",
        `interactions must contain at most ${limits.batchMaxItems} items (got ${items.length}); split the batch`,
      );
    }
    items.forEach((item, index) => {
      const text = (item as { transcript_text?: unknown } | null)?.transcript_text;
      if (typeof text === "string" && Buffer.byteLength(text, "utf8") > limits.transcriptTextMaxBytes) {
        throw new AppError(
          "VALIDATION_ERROR",
          `interactions[${index}].transcript_text exceeds ${limits.transcriptTextMaxBytes} bytes; the whole batch was rejected and no job was created`,
        );
      }
    });
    const batchId = newId();
    const results = await ingestInteractions(
      { db: services.db, clock: services.clock, onQueued: services.onQueued },
      {
        account: caller.account,
        items,
        batchId,
        announce: true,
        inTransaction: async (tx, outcome) => {
          const accepted = outcome.filter((r) => r.status === "accepted").length;
          if (accepted === 0) return;
          await insertIngestJob(tx, {
            id: batchId,
            accountId: caller.account.id,
            type: "batch",
            status: "pending",
            request: {},
            callbackUrl: null,
            totalRows: items.length,
            accepted,
            rejected: items.length - accepted,
            createdAt: services.clock.now(),
          });
          await addIngestJobErrors(tx, batchId, outcome.flatMap(toJobError));
        },
      },
    );
    const accepted = results.filter((r) => r.status === "accepted").length;
    const errors = results.flatMap(toBatchError);
    if (accepted === 0) {
      const codes = new Set(errors.map((e) => e.code));
      const code = codes.size === 1 ? [...codes][0]! : "VALIDATION_ERROR";
      const capped =
        code === "CONVERSATION_CAP_EXCEEDED"
          ? capRetry(caller.limits, caller.account.timezone, services.clock.now())
          : {};
      throw new AppError(
        code,
        `No interaction of the batch was accepted: ${errors
          .map((e) => `item ${e.line}: ${e.reason}`)
          .slice(0, 5)
          .join("; ")}${errors.length > 5 ? "; …" : ""}`,
        {
          details: { errors },
          ...capped,
        },
      );
    }
    const data: Record<string, unknown> = { id: batchId, type: "batch", status: "pending" };
    let message: string | undefined;
    if (errors.length > 0) {
      Object.assign(data, { accepted, rejected: errors.length, errors });
      message = `${accepted} interaction(s) queued, ${errors.length} rejected`;
    }
    return { status: 202, data, ...(message ? { message } : {}) };
  },
});

function capRetry(limits: AccountLimits, timeZone: string, now: Date): { retryAfterSeconds?: number } {
  if (limits.conversationCap === "unlimited") return {};
  const window = capWindow(limits.conversationCap, now, timeZone);
  return { retryAfterSeconds: Math.max(1, Math.ceil((window.resetsAt.getTime() - now.getTime()) / 1000)) };
}

function toBatchError(result: IngestItemResult) {
  if (result.status === "accepted") return [];
  const reason =
    result.status === "duplicate"
      ? "Duplicate: interaction with this external_interaction_id already exists"
      : result.reason;
  const code = result.status === "duplicate" ? "DUPLICATE" : result.code;
  return [{ line: result.index + 1, external_interaction_id: result.externalInteractionId, code, reason }];
}

function toJobError(result: IngestItemResult) {
  return toBatchError(result).map((e) => ({
    line: e.line,
    externalInteractionId: e.external_interaction_id,
    reason: e.reason,
  }));
}

/** POST /ingress/interactions/files — a CSV or NDJSON file fetched and ingested in the background. */
const ingestFile = defineRoute({
  method: "post",
  path: `${base}/interactions/files`,
  operationId: "ingestFile",
  summary: "Submit a file for ingestion",
  tag: "Data import",
  auth: "account",
  permission: "ingest",
  rate: "ingest_post",
  params: accountParams,
  body: (caller) => fileSubmissionSchema(caller?.limits ?? defaultLimits),
  responses: {
    202: {
      description: "File job accepted",
      schema: z.object({ id: z.string(), type: z.literal("file"), status: z.literal("pending") }),
    },
    400: { description: "VALIDATION_ERROR" },
    429: { description: "TOO_MANY_JOBS, RATE_LIMIT_EXCEEDED" },
  },
  async handle({ body, caller, services }) {
    const jobId = await submitFileJob(
      {
        db: services.db,
        clock: services.clock,
        allow: services.allow,
        onQueued: services.onQueued,
        // s3:// file URLs are opened with the account's S3 integration (see docs/integrations/s3.md).
        credentials: connectorMediaFetcher(services.connectors),
      },
      caller.account,
      caller.limits,
      body,
    );
    return { status: 202, data: { id: jobId, type: "file", status: "pending" } };
  },
});

export const ingressRoutes = [
  ingestSingle,
  ingestBatch,
  ingestFile,
  batchTrackingRoute,
  interactionDetailRoute,
  recordingRoute,
  transcriptRoute,
];
