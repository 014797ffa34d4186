import { z } from "zod";
import { retryDeadLetter } from "../../connectors/connectorContext.ts";
import {
  checkReplayOffsets,
  createIntegration,
  integrationInputSchema,
  integrationStatus,
  presentIntegration,
  presentRun,
  replaceIntegration,
  testIntegration,
} from "../../connectors/integrationService.ts";
import { queueIntegrationRun } from "../../connectors/supervisor.ts";
import { AppError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import type { Queryable } from "../../storage/db.ts";
import {
  type DeadLetterRecord,
  deleteIntegration,
  getDeadLetter,
  getIntegration,
  type IntegrationRecord,
  listDeadLetters,
  listIntegrations,
  listRuns,
  requestReplay,
  setIntegrationPaused,
} from "../../storage/repositories/integrations.ts";
import { parseOrThrow } from "../../validation/validate.ts";
import { auditAction } from "../auditTrail.ts";
import { type AccountCaller, defineRoute } from "../route.ts";

const base = "/api/v1/accounts/{account_id}/integrations";

const page = (max: number) =>
  z.object({
    limit: z
      .string()
      .regex(/^\d+$/, { error: `limit must be a whole number from 1 to ${max}` })
      .transform(Number)
      .pipe(
        z
          .number()
          .min(1, { error: `limit must be from 1 to ${max}` })
          .max(max, { error: `limit must be from 1 to ${max}` }),
      )
      .optional(),
    offset: z
      .string()
      .regex(/^\d+$/, { error: "offset must be a whole number" })
      .transform(Number)
      .optional(),
  });

async function requireIntegration(
  q: Queryable,
  caller: AccountCaller,
  id: string | undefined,
): Promise<IntegrationRecord> {
  const integration = id && isUuid(id) ? await getIntegration(q, caller.account.id, id) : null;
  if (!integration) throw new AppError("NOT_FOUND", `No integration '${id ?? ""}' in this account`);
  return integration;
}

const catalogueRoute = defineRoute({
  method: "get",
  path: "/api/v1/connector-kinds",
  operationId: "listConnectorKinds",
  summary: "The connector kinds, each with the JSON Schema of its config (secrets are writeOnly)",
  tag: "Integrations",
  auth: "public",
  responses: { 200: { description: "The catalogue" } },
  async handle({ services }) {
    return { status: 200, data: { connector_kinds: services.connectors.registry.catalogue() } };
  },
});

const createRoute = defineRoute({
  method: "post",
  path: base,
  operationId: "createIntegration",
  summary: "Create an integration",
  description:
    "`config` follows the kind's schema from GET /api/v1/connector-kinds; every problem is named with its path.",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  body: integrationInputSchema,
  responses: {
    201: { description: "The integration" },
    400: { description: "VALIDATION_ERROR" },
    409: { description: "DUPLICATE name" },
  },
  async handle({ body, caller, services }) {
    const integration = await createIntegration(services.connectors, caller.account, body);
    await auditAction(services.db, caller, services.clock.now(), "integration.created", integration.id, {
      kind: integration.kind,
      name: integration.name,
    });
    services.onIntegrationsChanged();
    return {
      status: 201,
      data: {
        integration_id: integration.id,
        integration: presentIntegration(services.connectors, integration),
      },
    };
  },
});

const listRoute = defineRoute({
  method: "get",
  path: base,
  operationId: "listIntegrations",
  summary: "Integrations of the account",
  tag: "Integrations",
  auth: "account",
  permission: "read:integrations",
  rate: "other",
  responses: { 200: { description: "The integrations" } },
  async handle({ caller, services }) {
    const integrations = await listIntegrations(services.db, caller.account.id);
    return {
      status: 200,
      data: { integrations: integrations.map((i) => presentIntegration(services.connectors, i)) },
    };
  },
});

const getRoute = defineRoute({
  method: "get",
  path: `${base}/{integration_id}`,
  operationId: "getIntegration",
  summary: "One integration (secrets are never returned)",
  tag: "Integrations",
  auth: "account",
  permission: "read:integrations",
  rate: "other",
  responses: { 200: { description: "The integration" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    return { status: 200, data: presentIntegration(services.connectors, integration) };
  },
});

const replaceRoute = defineRoute({
  method: "put",
  path: `${base}/{integration_id}`,
  operationId: "replaceIntegration",
  summary: "Replace an integration's settings; secrets left out or sent back as ******** are kept",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  // Validated after the integration is found, so an unknown id is a 404 whatever the body.
  body: z.unknown(),
  documentedBody: integrationInputSchema,
  responses: { 200: { description: "The integration" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, body: raw, caller, services }) {
    const current = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    const body = parseOrThrow(integrationInputSchema, raw);
    const updated = await replaceIntegration(services.connectors, caller.account, current, body);
    await auditAction(services.db, caller, services.clock.now(), "integration.updated", current.id, {
      name: body.name,
      version: updated.configVersion,
    });
    services.onIntegrationsChanged();
    return { status: 200, data: presentIntegration(services.connectors, updated) };
  },
});

const deleteRoute = defineRoute({
  method: "delete",
  path: `${base}/{integration_id}`,
  operationId: "deleteIntegration",
  summary: "Delete an integration (its interactions stay)",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  responses: { 200: { description: "Deleted" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    await deleteIntegration(services.db, caller.account.id, integration.id);
    await auditAction(services.db, caller, services.clock.now(), "integration.deleted", integration.id, {
      kind: integration.kind,
      name: integration.name,
    });
    services.onIntegrationsChanged();
    return { status: 200, data: { integration_id: integration.id, deleted: true } };
  },
});

const testRoute = defineRoute({
  method: "post",
  path: `${base}/{integration_id}/test`,
  operationId: "testIntegration",
  summary: "Test the connection: reach, auth, permissions, format — each check with a message",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  responses: { 200: { description: "The checks (ok is false when any failed)" } },
  async handle({ context, caller, services }) {
    const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    const checks = await testIntegration(services.connectors, integration);
    return { status: 200, data: { ok: checks.every((c) => c.ok), checks } };
  },
});

/** `{"<topic>": {"<partition>": offset}}`: where a stream replay starts, by position. */
const replayOffsetsSchema = z
  .record(
    z.string().min(1),
    z
      .record(
        z.string().regex(/^\d{1,6}$/),
        z
          .number({ error: "offsets: each offset must be a whole number" })
          .int({ error: "offsets: each offset must be a whole number" })
          .min(0, {
            error: "offsets: an offset cannot be negative (the first offset of a partition is 0 or more)",
          })
          .max(Number.MAX_SAFE_INTEGER),
        {
          // zod reports a bad key with the record's message.
          error: (issue) =>
            issue.code === "invalid_key"
              ? `offsets: '${String(issue.input)}' is not a partition number (0, 1, 2…); give {"<topic>": {"<partition>": <offset>}}`
              : 'offsets: each topic takes an object of partition → offset, e.g. {"0": 1200, "1": 900}',
        },
      )
      .refine((partitions) => Object.keys(partitions).length > 0, {
        error: "offsets: name at least one partition of each topic given",
      }),
    {
      error: (issue) =>
        issue.code === "invalid_key"
          ? "offsets: a topic name must not be empty"
          : 'offsets must be an object {"<topic>": {"<partition>": <offset>}}',
    },
  )
  .refine((topics) => Object.keys(topics).length > 0, {
    error: "offsets must name at least one topic and partition",
  });

const rangeSchema = z
  .object({
    from: z.iso
      .datetime({ offset: true, error: "from must be an ISO-8601 date-time such as 2026-04-01T00:00:00Z" })
      .optional(),
    to: z.iso
      .datetime({ offset: true, error: "to must be an ISO-8601 date-time such as 2026-04-02T00:00:00Z" })
      .optional(),
    offsets: replayOffsetsSchema
      .optional()
      .describe('Stream integrations: replay from these offsets, {"<topic>": {"<partition>": <offset>}}'),
  })
  .refine((r) => !r.from || !r.to || Date.parse(r.from) < Date.parse(r.to), {
    error: "from must be before to",
  })
  .refine((r) => !r.offsets || (!r.from && !r.to), {
    error: "send either {from} (a time) or {offsets} (positions) to replay, not both",
  });

const runRoute = defineRoute({
  method: "post",
  path: `${base}/{integration_id}/run`,
  operationId: "runIntegration",
  summary:
    "Run now, or backfill / replay a range {from, to}; stream integrations replay from {from} or {offsets}",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  body: rangeSchema,
  responses: { 202: { description: "Queued" }, 409: { description: "A run is already queued or running" } },
  async handle({ context, body, caller, services }) {
    const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    const definition = services.connectors.registry.require(integration.kind);
    const ranged = body.from !== undefined || body.to !== undefined;
    if (body.offsets !== undefined && definition.mode !== "stream") {
      throw new AppError(
        "VALIDATION_ERROR",
        `${integration.kind} integrations do not replay from offsets; send {from, to} or {} to run now`,
      );
    }
    if (ranged && !definition.supportsRange) {
      throw new AppError(
        "VALIDATION_ERROR",
        `${integration.kind} integrations do not take a from/to range; send {} to run now`,
      );
    }
    const now = services.clock.now();
    if (definition.mode === "stream") {
      if (!ranged && body.offsets === undefined) {
        throw new AppError(
          "VALIDATION_ERROR",
          `${integration.kind} integrations consume continuously; send {from} to replay from a time, or {offsets} from positions`,
        );
      }
      // Offsets are checked against the source now (topics, partitions, their ends), not at the restart.
      if (body.offsets !== undefined)
        await checkReplayOffsets(services.connectors, integration, body.offsets);
      await requestReplay(
        services.db,
        caller.account.id,
        integration.id,
        {
          from: body.from ?? null,
          to: body.to ?? null,
          offsets: body.offsets ?? null,
          requested_at: now.toISOString(),
        },
        now,
      );
      await auditAction(services.db, caller, now, "integration.replay_requested", integration.id, body);
      services.onIntegrationsChanged();
      return {
        status: 202,
        message: "Replay requested: the consumer restarts from there (GET …/runs shows the backfill)",
        data: { integration_id: integration.id, replay: body },
      };
    }
    const runId = await queueIntegrationRun(
      services.db,
      integration,
      {
        trigger: ranged ? "backfill" : "manual",
        from: body.from ? new Date(body.from) : null,
        to: body.to ? new Date(body.to) : null,
      },
      now,
    );
    if (!runId)
      throw new AppError(
        "DUPLICATE",
        "A run of this integration is already queued or running; wait for it to finish",
      );
    await auditAction(services.db, caller, now, "integration.run_requested", integration.id, body);
    services.onQueued();
    return { status: 202, message: "Run queued", data: { integration_id: integration.id, run_id: runId } };
  },
});

function pauseRoute(paused: boolean) {
  return defineRoute({
    method: "post",
    path: `${base}/{integration_id}/${paused ? "pause" : "resume"}`,
    operationId: paused ? "pauseIntegration" : "resumeIntegration",
    summary: paused ? "Pause: stop consuming / polling until resumed" : "Resume a paused integration",
    tag: "Integrations",
    auth: "account",
    permission: "manage:integrations",
    rate: "other",
    responses: { 200: { description: "The status" } },
    async handle({ context, caller, services }) {
      const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
      const now = services.clock.now();
      await setIntegrationPaused(services.db, caller.account.id, integration.id, paused, now);
      await auditAction(
        services.db,
        caller,
        now,
        paused ? "integration.paused" : "integration.resumed",
        integration.id,
      );
      services.onIntegrationsChanged();
      const fresh = await requireIntegration(services.db, caller, integration.id);
      const runs = await listRuns(services.db, caller.account.id, integration.id, 1, 0);
      return { status: 200, data: integrationStatus(services.connectors, fresh, runs.rows[0] ?? null) };
    },
  });
}

const statusRoute = defineRoute({
  method: "get",
  path: `${base}/{integration_id}/status`,
  operationId: "getIntegrationStatus",
  summary: "State (running / idle / paused / failing), last run and success, last error, lag",
  tag: "Integrations",
  auth: "account",
  permission: "read:integrations",
  rate: "other",
  responses: { 200: { description: "The status" } },
  async handle({ context, caller, services }) {
    const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    const runs = await listRuns(services.db, caller.account.id, integration.id, 1, 0);
    return { status: 200, data: integrationStatus(services.connectors, integration, runs.rows[0] ?? null) };
  },
});

const runsRoute = defineRoute({
  method: "get",
  path: `${base}/{integration_id}/runs`,
  operationId: "listIntegrationRuns",
  summary: "Runs, newest first, with counts seen / ingested / duplicate / rejected / failed",
  tag: "Integrations",
  auth: "account",
  permission: "read:integrations",
  rate: "other",
  query: page(100),
  responses: { 200: { description: "A page of runs" } },
  async handle({ context, query, caller, services }) {
    const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const { rows, total } = await listRuns(services.db, caller.account.id, integration.id, limit, offset);
    return { status: 200, data: { runs: rows.map(presentRun), pagination: { limit, offset, total } } };
  },
});

function presentDeadLetter(letter: DeadLetterRecord): Record<string, unknown> {
  return {
    dead_letter_id: letter.id,
    run_id: letter.runId,
    source_ref: letter.sourceRef,
    code: letter.code,
    reason: letter.reason,
    status: letter.status,
    attempts: letter.attempts,
    interaction_id: letter.interactionId,
    payload: letter.payload,
    created_at: letter.createdAt.toISOString(),
    updated_at: letter.updatedAt.toISOString(),
  };
}

const deadLettersRoute = defineRoute({
  method: "get",
  path: `${base}/{integration_id}/dead-letters`,
  operationId: "listDeadLetters",
  summary: "Items the source gave that could not be ingested, each with its payload and reason",
  tag: "Integrations",
  auth: "account",
  permission: "read:integrations",
  rate: "other",
  query: page(100).extend({
    status: z
      .enum(["open", "retried", "discarded"], { error: "status must be open, retried or discarded" })
      .optional(),
  }),
  responses: { 200: { description: "A page of dead letters" } },
  async handle({ context, query, caller, services }) {
    const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const { rows, total } = await listDeadLetters(services.db, caller.account.id, integration.id, {
      ...(query.status ? { status: query.status } : {}),
      limit,
      offset,
    });
    return {
      status: 200,
      data: { dead_letters: rows.map(presentDeadLetter), pagination: { limit, offset, total } },
    };
  },
});

const retryRoute = defineRoute({
  method: "post",
  path: `${base}/{integration_id}/dead-letters/{dead_letter_id}/retry`,
  operationId: "retryDeadLetter",
  summary: "Try a dead letter again through the ingest path (after fixing the mapping or the peer)",
  tag: "Integrations",
  auth: "account",
  permission: "manage:integrations",
  rate: "other",
  responses: { 200: { description: "The outcome: ingested, duplicate, or still rejected with the reason" } },
  async handle({ context, caller, services }) {
    const integration = await requireIntegration(services.db, caller, context.req.param("integration_id"));
    const id = context.req.param("dead_letter_id") ?? "";
    const letter = isUuid(id)
      ? await getDeadLetter(services.db, caller.account.id, integration.id, id)
      : null;
    if (!letter) throw new AppError("NOT_FOUND", `No dead letter '${id}' in this integration`);
    if (letter.status === "retried") {
      throw new AppError(
        "VALIDATION_ERROR",
        `This dead letter was already ingested as interaction ${letter.interactionId}`,
      );
    }
    const outcome = await retryDeadLetter(services.connectors, integration, letter);
    await auditAction(
      services.db,
      caller,
      services.clock.now(),
      "integration.dead_letter_retried",
      letter.id,
      {
        outcome: outcome.status,
      },
    );
    const fresh = await getDeadLetter(services.db, caller.account.id, integration.id, letter.id);
    return {
      status: 200,
      data: {
        outcome: outcome.status,
        ...(outcome.status === "rejected"
          ? { reason: outcome.reason }
          : { interaction_id: outcome.interactionId }),
        dead_letter: presentDeadLetter(fresh!),
      },
    };
  },
});

export const integrationRoutes = [
  catalogueRoute,
  createRoute,
  listRoute,
  getRoute,
  replaceRoute,
  deleteRoute,
  testRoute,
  runRoute,
  pauseRoute(true),
  pauseRoute(false),
  statusRoute,
  runsRoute,
  deadLettersRoute,
  retryRoute,
];
