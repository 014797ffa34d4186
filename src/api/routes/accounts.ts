import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import type { LimitOverrides } from "../../core/limits.ts";
import { resolveLimits } from "../../core/limits.ts";
import { formatInTimeZone, isValidTimeZone } from "../../core/time.ts";
import { capWindow } from "../../ingest/conversationCap.ts";
import {
  type AccountRecord,
  getAccount,
  listAccounts,
  updateAccount,
} from "../../storage/repositories/accounts.ts";
import { getApiKey } from "../../storage/repositories/apiKeys.ts";
import { getUsage } from "../../storage/repositories/usage.ts";
import { provisionAccount } from "../../tenancy/provisionAccount.ts";
import { auditAction } from "../auditTrail.ts";
import { defineRoute } from "../route.ts";
import type { ApiServices } from "../services.ts";

const timezone = z.string().refine(isValidTimeZone, {
  error: "timezone must be an IANA time zone such as Asia/Kolkata or Europe/London",
});

const positive = (name: string) =>
  z
    .number({ error: `${name} must be a whole number` })
    .int({ error: `${name} must be a whole number` })
    .min(1, { error: `${name} must be at least 1` });

/** Limit overrides the operator may set per account (snake_case, as stored). */
export const limitOverridesSchema = z
  .object({
    ingest_posts_per_minute: positive("ingest_posts_per_minute").optional(),
    ingest_gets_per_minute: positive("ingest_gets_per_minute").optional(),
    other_requests_per_minute: positive("other_requests_per_minute").optional(),
    batch_max_items: positive("batch_max_items").max(1000).optional(),
    metadata_max_keys: positive("metadata_max_keys").max(500).optional(),
    transcript_text_max_bytes: positive("transcript_text_max_bytes")
      .max(10 * 1024 * 1024)
      .optional(),
    file_max_rows: positive("file_max_rows").max(10_000_000).optional(),
    file_max_bytes: positive("file_max_bytes")
      .max(10 * 1024 * 1024 * 1024)
      .optional(),
    max_concurrent_file_jobs: positive("max_concurrent_file_jobs").max(100).optional(),
    conversation_cap: z
      .union(
        [
          z.literal("unlimited"),
          z.object({
            period: z.enum(["day", "week", "month"], {
              error: "conversation_cap.period must be day, week or month",
            }),
            limit: z.number().int().min(0),
          }),
        ],
        {
          error:
            'conversation_cap must be "unlimited" or { "period": "day" | "week" | "month", "limit": <n> }',
        },
      )
      .optional(),
  })
  .strict();

const origins = z.array(
  z.string().refine((v) => /^https?:\/\/[^/]+$/.test(v), {
    error: "embed_origins entries must be origins such as https://ecc.example.com",
  }),
);

/** The account as its admins and the operator see it. */
async function presentAccount(
  services: ApiServices,
  account: AccountRecord,
): Promise<Record<string, unknown>> {
  const limits = resolveLimits(account.limits);
  let usage: Record<string, unknown> | null = null;
  if (limits.conversationCap !== "unlimited") {
    const window = capWindow(limits.conversationCap, services.clock.now(), account.timezone);
    usage = {
      period: window.period,
      period_start: window.periodStart,
      used: await getUsage(services.db, account.id, window.period, window.periodStart),
      limit: limits.conversationCap.limit,
      resets_at: formatInTimeZone(window.resetsAt, account.timezone),
    };
  }
  return {
    account_id: account.id,
    name: account.name,
    timezone: account.timezone,
    webhooks_enabled: account.webhooksEnabled,
    embed_origins: account.embedOrigins,
    webhook_signing_key_id: account.webhookSigningKeyId,
    limits: {
      ingest_posts_per_minute: limits.ingestPostsPerMinute,
      ingest_gets_per_minute: limits.ingestGetsPerMinute,
      other_requests_per_minute: limits.otherRequestsPerMinute,
      batch_max_items: limits.batchMaxItems,
      metadata_max_keys: limits.metadataMaxKeys,
      transcript_text_max_bytes: limits.transcriptTextMaxBytes,
      file_max_rows: limits.fileMaxRows,
      file_max_bytes: limits.fileMaxBytes,
      max_concurrent_file_jobs: limits.maxConcurrentFileJobs,
      conversation_cap: limits.conversationCap,
    },
    conversation_usage: usage,
    created_at: account.createdAt.toISOString(),
    updated_at: account.updatedAt.toISOString(),
  };
}

const createAccountRoute = defineRoute({
  method: "post",
  path: "/api/v1/accounts",
  operationId: "createAccount",
  summary: "Create an account (operator)",
  description:
    "Creates a tenant with an admin API key (shown once), a starter quality profile and a catch-all assignment " +
    "rule, so the first conversation ingested is analysed without configuration.",
  tag: "Operator",
  auth: "operator",
  body: z.object({
    name: z
      .string({ error: (i) => (i.input === undefined ? "name is required" : "name must be a string") })
      .trim()
      .min(1, { error: "name must not be empty" })
      .max(200),
    timezone: timezone.optional(),
    webhooks_enabled: z.boolean().optional(),
    embed_origins: origins.optional(),
    limits: limitOverridesSchema.optional(),
  }),
  responses: { 201: { description: "The account, its API key and webhook signing secret (shown once)" } },
  async handle({ body, services }) {
    const provisioned = await provisionAccount(
      { db: services.db, clock: services.clock, masterKey: services.masterKey },
      {
        name: body.name,
        ...(body.timezone ? { timezone: body.timezone } : {}),
        ...(body.webhooks_enabled === undefined ? {} : { webhooksEnabled: body.webhooks_enabled }),
        ...(body.embed_origins ? { embedOrigins: body.embed_origins } : {}),
        ...(body.limits ? { limits: body.limits as LimitOverrides } : {}),
      },
    );
    return {
      status: 201,
      message: "Account created. Store the api_key and webhook_signing_secret now: they are not shown again.",
      data: {
        account_id: provisioned.account.id,
        api_key: provisioned.apiKey.key,
        api_key_id: provisioned.apiKey.record.id,
        webhook_signing_secret: provisioned.apiKey.webhookSigningSecret,
        starter_profile_id: provisioned.starterProfileId,
        catch_all_rule_id: provisioned.catchAllRuleId,
        account: await presentAccount(services, provisioned.account),
      },
    };
  },
});

const listAccountsRoute = defineRoute({
  method: "get",
  path: "/api/v1/accounts",
  operationId: "listAccounts",
  summary: "List accounts (operator)",
  tag: "Operator",
  auth: "operator",
  query: z.object({
    limit: z.string().regex(/^\d+$/).transform(Number).pipe(z.number().min(1).max(500)).optional(),
    offset: z.string().regex(/^\d+$/).transform(Number).optional(),
  }),
  responses: { 200: { description: "Accounts" } },
  async handle({ query, services }) {
    const accounts = await listAccounts(services.db, query.limit ?? 100, query.offset ?? 0);
    return {
      status: 200,
      data: { accounts: await Promise.all(accounts.map((a) => presentAccount(services, a))) },
    };
  },
});

const setLimitsRoute = defineRoute({
  method: "put",
  path: "/api/v1/accounts/{account_id}/limits",
  operationId: "setAccountLimits",
  summary: "Replace an account's limit overrides (operator)",
  tag: "Operator",
  auth: "operator",
  body: limitOverridesSchema,
  responses: { 200: { description: "The account" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, body, services }) {
    const id = context.req.param("account_id") ?? "";
    const updated = /^[0-9a-f-]{36}$/i.test(id)
      ? await updateAccount(services.db, id, { limits: body as LimitOverrides }, services.clock.now())
      : null;
    if (!updated) throw new AppError("NOT_FOUND", `No account '${id}'`);
    return { status: 200, data: await presentAccount(services, updated) };
  },
});

const getAccountRoute = defineRoute({
  method: "get",
  path: "/api/v1/accounts/{account_id}",
  operationId: "getAccount",
  summary: "The account's settings, limits and conversation usage",
  tag: "Account",
  auth: "account",
  permission: "read",
  rate: "other",
  responses: { 200: { description: "The account" } },
  async handle({ caller, services }) {
    return { status: 200, data: await presentAccount(services, caller.account) };
  },
});

const updateAccountRoute = defineRoute({
  method: "patch",
  path: "/api/v1/accounts/{account_id}",
  operationId: "updateAccount",
  summary: "Change the account's name, time zone, webhook flag, embed origins or webhook signing key",
  tag: "Account",
  auth: "account",
  permission: "manage:account",
  rate: "other",
  body: z
    .object({
      name: z.string().trim().min(1).max(200).optional(),
      timezone: timezone.optional(),
      webhooks_enabled: z.boolean().optional(),
      embed_origins: origins.optional(),
      webhook_signing_key_id: z
        .string()
        .uuid({ error: "webhook_signing_key_id must be an API key id" })
        .optional(),
    })
    .strict(),
  responses: { 200: { description: "The account" } },
  async handle({ body, caller, services }) {
    if (body.webhook_signing_key_id) {
      const key = await getApiKey(services.db, caller.account.id, body.webhook_signing_key_id);
      if (!key || key.revokedAt) {
        throw new AppError(
          "VALIDATION_ERROR",
          "webhook_signing_key_id must be an active API key of this account",
        );
      }
    }
    const now = services.clock.now();
    const updated = await services.db.transaction(async (tx) => {
      const result = await updateAccount(
        tx,
        caller.account.id,
        {
          ...(body.name ? { name: body.name } : {}),
          ...(body.timezone ? { timezone: body.timezone } : {}),
          ...(body.webhooks_enabled === undefined ? {} : { webhooksEnabled: body.webhooks_enabled }),
          ...(body.embed_origins ? { embedOrigins: body.embed_origins } : {}),
          ...(body.webhook_signing_key_id ? { webhookSigningKeyId: body.webhook_signing_key_id } : {}),
        },
        now,
      );
      await auditAction(tx, caller, now, "account.updated", undefined, body);
      return result;
    });
    return {
      status: 200,
      data: await presentAccount(services, updated ?? (await getAccount(services.db, caller.account.id))!),
    };
  },
});

export const accountRoutes = [
  createAccountRoute,
  listAccountsRoute,
  setLimitsRoute,
  getAccountRoute,
  updateAccountRoute,
];
