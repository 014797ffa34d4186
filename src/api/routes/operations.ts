import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import { webhookEvents } from "../../core/webhookEvents.ts";
import { type ProcessInteractionPayload, processInteractionJob } from "../../ingest/ingestInteractions.ts";
import { enqueueJobs } from "../../storage/jobQueue.ts";
import {
  getOutboxMessage,
  listOutbox,
  listOutboxAttempts,
  type OutboxRecord,
  resendOutboxMessage,
} from "../../storage/outbox.ts";
import {
  getInteractionById,
  lockInteraction,
  updateInteractionState,
} from "../../storage/repositories/interactions.ts";
import { canSee, rowScopeOf } from "../access.ts";
import { auditAction } from "../auditTrail.ts";
import { type AccountCaller, defineRoute } from "../route.ts";
import type { ApiServices } from "../services.ts";
import { findVisibleInteraction } from "./ingressReads.ts";

const base = "/api/v1/accounts/{account_id}";

function presentDelivery(message: OutboxRecord): Record<string, unknown> {
  return {
    delivery_id: message.id,
    event: message.event,
    interaction_id: message.interactionId,
    url: message.target,
    status: message.status.toUpperCase(),
    attempts: message.attempts,
    next_attempt_at: message.status === "pending" ? message.nextAttemptAt.toISOString() : null,
    last_status_code: message.lastStatusCode,
    last_error: message.lastError,
    created_at: message.createdAt.toISOString(),
    delivered_at: message.deliveredAt?.toISOString() ?? null,
  };
}

/** Whether a delivery is about a conversation the caller may see; a scoped caller sees no other. */
async function deliveryVisible(
  services: ApiServices,
  caller: AccountCaller,
  message: OutboxRecord,
): Promise<boolean> {
  if (Object.keys(rowScopeOf(caller)).length === 0) return true;
  if (!message.interactionId) return false;
  const interaction = await getInteractionById(services.db, message.interactionId);
  return interaction !== null && canSee(caller, interaction.metadata);
}

const listDeliveriesRoute = defineRoute({
  method: "get",
  path: `${base}/webhook-deliveries`,
  operationId: "listWebhookDeliveries",
  summary: "Webhook deliveries, newest first (status PENDING, DELIVERED or FAILED)",
  tag: "Webhooks",
  auth: "account",
  permission: "manage:webhooks",
  rate: "other",
  query: z.object({
    status: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(
        z.enum(["pending", "delivered", "failed"], { error: "status must be PENDING, DELIVERED or FAILED" }),
      )
      .optional(),
    event: z
      .enum(webhookEvents as [string, ...string[]], {
        error: `event must be one of ${webhookEvents.join(", ")}`,
      })
      .optional(),
    interaction_id: z.string().uuid({ error: "interaction_id must be a UUID" }).optional(),
    limit: z
      .string()
      .regex(/^\d+$/, { error: "limit must be a whole number" })
      .transform(Number)
      .pipe(z.number().min(1).max(100))
      .optional(),
    offset: z
      .string()
      .regex(/^\d+$/, { error: "offset must be a whole number" })
      .transform(Number)
      .optional(),
  }),
  responses: { 200: { description: "A page of deliveries" } },
  async handle({ query, caller, services }) {
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const { rows, total } = await listOutbox(services.db, caller.account.id, {
      ...(query.status ? { status: query.status } : {}),
      ...(query.event ? { event: query.event } : {}),
      ...(query.interaction_id ? { interactionId: query.interaction_id } : {}),
      scope: rowScopeOf(caller),
      limit,
      offset,
    });
    return {
      status: 200,
      data: { deliveries: rows.map(presentDelivery), pagination: { limit, offset, total } },
    };
  },
});

const getDeliveryRoute = defineRoute({
  method: "get",
  path: `${base}/webhook-deliveries/{delivery_id}`,
  operationId: "getWebhookDelivery",
  summary: "One delivery with its body and every attempt",
  tag: "Webhooks",
  auth: "account",
  permission: "manage:webhooks",
  rate: "other",
  responses: { 200: { description: "The delivery" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const id = context.req.param("delivery_id") ?? "";
    const message = isUuid(id) ? await getOutboxMessage(services.db, caller.account.id, id) : null;
    if (!message || !(await deliveryVisible(services, caller, message))) {
      throw new AppError("NOT_FOUND", `No webhook delivery '${id}' in this account`);
    }
    const attempts = await listOutboxAttempts(services.db, message.id);
    return {
      status: 200,
      data: {
        ...presentDelivery(message),
        payload: JSON.parse(message.payload),
        attempt_log: attempts.map((a) => ({
          attempt: a.attempt,
          attempted_at: a.attemptedAt.toISOString(),
          status_code: a.statusCode,
          error: a.error,
          duration_ms: a.durationMs,
        })),
      },
    };
  },
});

const resendDeliveryRoute = defineRoute({
  method: "post",
  path: `${base}/webhook-deliveries/{delivery_id}/resend`,
  operationId: "resendWebhookDelivery",
  summary: "Send a delivery again (same deliveryId and body, a fresh budget of 3 attempts)",
  tag: "Webhooks",
  auth: "account",
  permission: "manage:webhooks",
  rate: "other",
  responses: { 202: { description: "Queued" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const id = context.req.param("delivery_id") ?? "";
    const now = services.clock.now();
    const existing = isUuid(id) ? await getOutboxMessage(services.db, caller.account.id, id) : null;
    const done =
      existing !== null &&
      (await deliveryVisible(services, caller, existing)) &&
      (await resendOutboxMessage(services.db, caller.account.id, id, now));
    if (!done) throw new AppError("NOT_FOUND", `No webhook delivery '${id}' in this account`);
    await auditAction(services.db, caller, now, "webhook.resent", id);
    services.onQueued();
    const message = await getOutboxMessage(services.db, caller.account.id, id);
    return { status: 202, message: "Queued for delivery", data: presentDelivery(message!) };
  },
});

const reprocessRoute = defineRoute({
  method: "post",
  path: `${base}/ingress/interactions/{interaction_identifier}/reprocess`,
  operationId: "reprocessInteraction",
  summary:
    "Run an interaction through the pipeline again (current rules and profile versions; reviews are kept)",
  tag: "Review",
  auth: "account",
  permission: "review",
  rate: "other",
  responses: { 202: { description: "Queued" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const identifier = context.req.param("interaction_identifier") ?? "";
    const visible = await findVisibleInteraction(services, caller, identifier);
    const revision = await services.db.transaction(async (tx) => {
      const interaction = await lockInteraction(tx, visible.id);
      if (!interaction) throw new AppError("NOT_FOUND", `No interaction '${identifier}'`);
      const next = interaction.processingRevision + 1;
      const now = services.clock.now();
      await updateInteractionState(
        tx,
        interaction.id,
        { status: "queued", failureReason: null, waitingReason: null, processingRevision: next },
        now,
      );
      // Analyses are re-scored in place (same ids), so clients keep their references.
      await tx.query("UPDATE analyses SET status = 'queued', updated_at = $2 WHERE interaction_id = $1", [
        interaction.id,
        now,
      ]);
      await enqueueJobs(
        tx,
        [
          {
            kind: processInteractionJob,
            accountId: interaction.accountId,
            payload: {
              interactionId: interaction.id,
              accountId: interaction.accountId,
              revision: next,
            } satisfies ProcessInteractionPayload,
            dedupeKey: `${processInteractionJob}:${interaction.id}:${next}`,
            maxAttempts: 20,
          },
        ],
        now,
      );
      await auditAction(tx, caller, now, "interaction.reprocessed", interaction.id, { revision: next });
      return next;
    });
    services.onQueued();
    return {
      status: 202,
      message: "Queued for processing",
      data: {
        interaction_id: visible.id,
        external_interaction_id: visible.externalInteractionId,
        status: "queued",
        revision,
      },
    };
  },
});

export const operationRoutes = [listDeliveriesRoute, getDeliveryRoute, resendDeliveryRoute, reprocessRoute];
