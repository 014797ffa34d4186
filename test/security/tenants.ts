import assert from "node:assert/strict";
import type { TestCqa, TestResponse } from "../support/testCqa.ts";

/** Every route of these suites is under this; tests build paths from an account id. */
export const accountPath = (accountId: string) => `/api/v1/accounts/${accountId}`;

export const strongPassword = "correct horse battery staple";

/** Limits high enough that a suite's hundreds of calls never meet a rate limit. */
export const roomyLimits = {
  conversation_cap: "unlimited",
  other_requests_per_minute: 100_000,
  ingest_posts_per_minute: 100_000,
  ingest_gets_per_minute: 100_000,
};

let counter = 0;
/** A unique suffix, so ids and e-mails never collide between accounts of one database. */
export const unique = (label: string) => `${label}-${process.pid}-${++counter}`;

/** A short chat conversation the starter profile scores. */
export function chat(
  externalId: string,
  metadata: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    external_interaction_id: externalId,
    channel_type: "CHAT",
    source: "web-chat",
    language: "en",
    transcript_text:
      "Agent: Hello, thank you for calling. How can I help you today?\n" +
      "Customer: My parcel never arrived.\nAgent: I am sorry about that, let me check the order for you.",
    metadata,
    ...extra,
  };
}

/** Asserts the 401 envelope: status, request id, a message, UNAUTHORIZED, and no data. */
export function assertUnauthorized(answer: TestResponse, context: string): void {
  assert.equal(answer.status, 401, `${context}: expected 401, got ${answer.status} ${answer.text}`);
  assert.equal(answer.body?.status, 401, `${context}: envelope status`);
  assert.equal(answer.body?.error?.code, "UNAUTHORIZED", `${context}: ${answer.text}`);
  assert.equal(typeof answer.body?.request_id, "string", `${context}: request_id`);
  assert.ok(
    typeof answer.body?.message === "string" && answer.body.message.length > 0,
    `${context}: message`,
  );
  assert.ok(!("data" in answer.body), `${context}: a 401 carries no data: ${answer.text}`);
}

/** Asserts a 403 FORBIDDEN that names the roles that would be allowed. */
export function assertForbidden(answer: TestResponse, neededRoles: readonly string[], context: string): void {
  assert.equal(answer.status, 403, `${context}: expected 403, got ${answer.status} ${answer.text}`);
  assert.equal(answer.body?.error?.code, "FORBIDDEN", `${context}: ${answer.text}`);
  assert.ok(!("data" in answer.body), `${context}: a 403 carries no data`);
  for (const role of neededRoles) {
    assert.ok(
      answer.body.message.includes(role),
      `${context}: message should name ${role}: ${answer.body.message}`,
    );
  }
}

export interface UserLogin {
  userId: string;
  email: string;
  password: string;
}

/** Creates a user through the API (as the account's admin key) and answers its id and credentials. */
export async function createUser(
  cqa: TestCqa,
  accountId: string,
  adminKey: string,
  input: { role: string; agent_id?: string; metadata_scope?: Record<string, string[]>; email?: string },
): Promise<UserLogin> {
  const email = input.email ?? `${unique(input.role)}@example.com`;
  const answer = await cqa.request("POST", `${accountPath(accountId)}/users`, {
    apiKey: adminKey,
    body: { password: strongPassword, ...input, email },
  });
  assert.equal(answer.status, 201, answer.text);
  return { userId: answer.body.data.user_id, email, password: strongPassword };
}

/** Signs a user in and answers the session token. */
export async function login(cqa: TestCqa, accountId: string, user: { email: string; password: string }) {
  const answer = await cqa.request("POST", "/api/v1/auth/login", {
    body: { account_id: accountId, email: user.email, password: user.password },
  });
  assert.equal(answer.status, 200, answer.text);
  return answer.body.data.token as string;
}

/** Creates an API key with a role; answers the key and its id. */
export async function createKey(
  cqa: TestCqa,
  accountId: string,
  adminKey: string,
  role: string,
  name = role,
) {
  const answer = await cqa.request("POST", `${accountPath(accountId)}/api-keys`, {
    apiKey: adminKey,
    body: { name, role },
  });
  assert.equal(answer.status, 201, answer.text);
  return { key: answer.body.data.api_key as string, id: answer.body.data.api_key_id as string };
}

/** The date filter POST /analyses requires: yesterday to tomorrow (UTC), around the clock's now. */
export function aroundToday(now = new Date()) {
  const day = (offset: number) => new Date(now.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
  return { field: "date", operator: "range", value: { start_date: day(-1), end_date: day(1) } };
}

/** Lists the analyses a caller sees today (all pages of up to 100). */
export async function listAnalyses(
  cqa: TestCqa,
  accountId: string,
  auth: { apiKey?: string; bearer?: string },
  extra: Record<string, unknown> = {},
): Promise<TestResponse> {
  return cqa.request("POST", `${accountPath(accountId)}/analyses?limit=100`, {
    ...auth,
    body: { other_filters: [aroundToday()], ...extra },
  });
}

/** One account with one of each object, created through the API, and the ids and data of each. */
export interface Tenant {
  accountId: string;
  apiKey: string;
  apiKeyId: string;
  signingSecret: string;
  name: string;
  profileId: string;
  ruleId: string;
  interactionId: string;
  externalId: string;
  analysisId: string;
  kpiId: string;
  /** The starter profile's definition as the API shows it (and accepts it back). */
  profileDefinition: Record<string, unknown>;
  batchId: string;
  disputeId: string;
  deliveryId: string;
  user: UserLogin;
  /** A second admin key, safe to revoke. */
  spareKeyId: string;
  spareKey: string;
  /** A quality profile safe to archive. */
  spareProfileId: string;
  /** A user safe to delete. */
  spareUserId: string;
  /** Ids and values of this tenant that must never appear in an answer to another tenant. */
  secrets: string[];
}

/**
 * Creates an account and, through the API, one of each object a route can address: an analysed
 * interaction (with a webhook delivery to `callbackUrl`), a batch, a dispute, users and keys.
 */
export async function createTenant(cqa: TestCqa, label: string, callbackUrl: string): Promise<Tenant> {
  const name = `Tenant ${label} ${unique("name")}`;
  const account = await cqa.createAccount({ name, limits: roomyLimits, webhooks_enabled: true });
  const base = accountPath(account.accountId);
  const apiKey = account.apiKey;

  const externalId = unique(`conv-${label}`);
  const single = await cqa.request("POST", `${base}/ingress/interactions`, {
    apiKey,
    body: chat(
      externalId,
      { region: "north", customer_ref: unique(`cust-${label}`) },
      { callback_url: callbackUrl },
    ),
  });
  assert.equal(single.status, 201, single.text);
  const batch = await cqa.request("POST", `${base}/ingress/interactions/batch`, {
    apiKey,
    body: { interactions: [chat(unique(`batch-${label}`)), chat(unique(`batch-${label}`))] },
  });
  assert.equal(batch.status, 202, batch.text);
  await cqa.drain();

  const detail = await cqa.request("GET", `${base}/ingress/interactions/${single.body.data.interaction_id}`, {
    apiKey,
  });
  assert.equal(detail.body.data.status, "completed", detail.text);
  const analysisId = detail.body.data.analyses[0].analysis_id as string;
  const analysis = await cqa.request("GET", `${base}/analyses/${analysisId}`, { apiKey });
  assert.equal(analysis.status, 200, analysis.text);
  const profile = await cqa.request("GET", `${base}/quality-profiles/${account.starterProfileId}`, {
    apiKey,
  });
  assert.equal(profile.status, 200, profile.text);
  const profileDefinition = profile.body.data.definition;
  const kpiId = profileDefinition.categories[0].sub_categories[0].kpis[0].id as string;
  const spareProfile = await cqa.request("POST", `${base}/quality-profiles`, {
    apiKey,
    body: { ...profileDefinition, name: `Spare profile ${label}` },
  });
  assert.equal(spareProfile.status, 201, spareProfile.text);

  const dispute = await cqa.request("POST", `${base}/analyses/${analysisId}/disputes`, {
    apiKey,
    body: { reason: `The greeting was there (${label})` },
  });
  assert.equal(dispute.status, 201, dispute.text);

  const deliveries = await cqa.request("GET", `${base}/webhook-deliveries`, { apiKey });
  assert.equal(deliveries.status, 200, deliveries.text);
  const deliveryId = deliveries.body.data.deliveries[0]?.delivery_id as string;
  assert.ok(deliveryId, `the tenant has webhook deliveries: ${deliveries.text}`);

  const user = await createUser(cqa, account.accountId, apiKey, { role: "analyst" });
  const spareUser = await createUser(cqa, account.accountId, apiKey, { role: "supervisor" });
  const spare = await createKey(cqa, account.accountId, apiKey, "admin", "spare");

  const tenant: Tenant = {
    accountId: account.accountId,
    apiKey,
    apiKeyId: account.apiKeyId,
    signingSecret: account.signingSecret,
    name,
    profileId: account.starterProfileId,
    ruleId: account.catchAllRuleId,
    interactionId: single.body.data.interaction_id,
    externalId,
    analysisId,
    kpiId,
    profileDefinition,
    batchId: batch.body.data.id,
    disputeId: dispute.body.data.dispute_id,
    deliveryId,
    user,
    spareKeyId: spare.id,
    spareKey: spare.key,
    spareUserId: spareUser.userId,
    spareProfileId: spareProfile.body.data.profile_id,
    secrets: [],
  };
  tenant.secrets = [
    tenant.accountId,
    tenant.apiKey,
    tenant.apiKeyId,
    tenant.signingSecret,
    tenant.name,
    tenant.profileId,
    tenant.ruleId,
    tenant.interactionId,
    tenant.externalId,
    tenant.analysisId,
    tenant.batchId,
    tenant.disputeId,
    tenant.deliveryId,
    tenant.user.userId,
    tenant.user.email,
    tenant.spareKeyId,
    tenant.spareKey,
    tenant.spareUserId,
    tenant.spareProfileId,
    tenant.apiKey.split("_")[1]!,
  ];
  return tenant;
}

/** Fills an OpenAPI-style path with values by parameter name; unknown names get `fallback`. */
export function fillPath(path: string, values: Record<string, string>, fallback: (name: string) => string) {
  return path.replace(/\{([a-z_]+)\}/g, (_, name: string) =>
    encodeURIComponent(values[name] ?? fallback(name)),
  );
}
