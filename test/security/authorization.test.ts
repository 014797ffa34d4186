import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { apiRoutes } from "../../src/api/index.ts";
import type { RouteSpec } from "../../src/api/route.ts";
import { type LocalServer, startLocalServer } from "../support/httpPeers.ts";
import {
  operatorToken,
  type RequestOptions,
  startTestCqa,
  type TestCqa,
  type TestResponse,
} from "../support/testCqa.ts";
import {
  accountPath,
  aroundToday,
  assertUnauthorized,
  chat,
  createKey,
  createTenant,
  createUser,
  fillPath,
  listAnalyses,
  login,
  roomyLimits,
  strongPassword,
  type Tenant,
  unique,
} from "./tenants.ts";

const routes = apiRoutes("test");
/** Public routes whose credential is a signed link in the request itself (tested with real links elsewhere). */
const signedLinkRoutes = new Set(["exoliteLaunch"]);
const knownAuthKinds = new Set(["public", "operator", "account", "session"]);

/** Path parameters the matrix fills with real ids of the target tenant. */
function idsOf(tenant: Tenant): Record<string, string> {
  return {
    account_id: tenant.accountId,
    api_key_id: tenant.spareKeyId,
    user_id: tenant.spareUserId,
    id: tenant.batchId,
    interaction_identifier: tenant.interactionId,
    delivery_id: tenant.deliveryId,
    analysis_id: tenant.analysisId,
    kpi_id: tenant.kpiId,
    dispute_id: tenant.disputeId,
    profile_id: tenant.spareProfileId,
    rule_id: tenant.ruleId,
    preference_key: "analysis_list_columns",
  };
}

/** A body each operation accepts when called by its own account, so the "it works" call does real work. */
function bodyFor(route: RouteSpec, target: Tenant, fileUrl: string): unknown {
  switch (route.operationId) {
    case "createAccount":
      return { name: "Created by the authorization matrix" };
    case "setAccountLimits":
      return roomyLimits;
    case "updateAccount":
      return { name: target.name };
    case "createApiKey":
      return { name: "matrix", role: "analyst" };
    case "createUser":
      return { email: `${unique("matrix")}@example.com`, password: strongPassword, role: "analyst" };
    case "updateUser":
      return { display_name: "Matrix" };
    case "login":
      return { account_id: target.accountId, email: target.user.email, password: target.user.password };
    case "ingestInteraction":
      return chat(unique("matrix"));
    case "ingestBatch":
      return { interactions: [chat(unique("matrix"))] };
    case "ingestFile":
      return { file_url: fileUrl, format: "csv" };
    case "listAnalyses":
      return { other_filters: [aroundToday()] };
    case "reviewKpi":
      return { score: 0, justification: "checked by the authorization matrix" };
    case "raiseDispute":
      return { reason: "raised by the authorization matrix" };
    case "resolveDispute":
      return { resolution: "REJECTED", comment: "matrix" };
    case "createQualityProfile":
      return { ...target.profileDefinition, name: "Matrix profile" };
    case "updateQualityProfile":
      return { ...target.profileDefinition, name: "Matrix profile v2" };
    case "createAssignmentRule":
      return { name: "Matrix rule", priority: 5, conditions: { all: [] }, profile_ids: [target.profileId] };
    case "updateAssignmentRule":
      return { name: "Matrix rule renamed" };
    case "saveMyPreference":
      return { value: ["created", "status", "meta:agent_id"] };
    default:
      return route.body ? {} : undefined;
  }
}

/** Asserts that an answer to someone else carries none of the target tenant's ids or data. */
function assertNoLeak(
  answer: TestResponse,
  target: Tenant,
  context: string,
  allowed: readonly string[] = [],
) {
  for (const secret of target.secrets) {
    if (allowed.includes(secret)) continue;
    assert.ok(!answer.text.includes(secret), `${context}: the answer reveals '${secret}': ${answer.text}`);
  }
}

describe("tenant isolation: every route, two accounts", () => {
  let cqa: TestCqa;
  let webhookPeer: LocalServer;
  let a: Tenant;
  let b: Tenant;
  let aSession: string;
  let bAdminLogin: { email: string; password: string };
  let fileUrl: string;

  before(async () => {
    cqa = await startTestCqa();
    webhookPeer = await startLocalServer((request, response) => {
      response.statusCode = 200;
      response.end(
        request.path.endsWith(".csv") ? "external_interaction_id,channel_type,transcript_text\n" : "",
      );
    });
    fileUrl = `${webhookPeer.url}/calls.csv`;
    a = await createTenant(cqa, "a", `${webhookPeer.url}/hooks/a`);
    b = await createTenant(cqa, "b", `${webhookPeer.url}/hooks/b`);
    const aAdmin = await createUser(cqa, a.accountId, a.apiKey, { role: "admin" });
    aSession = await login(cqa, a.accountId, aAdmin);
    bAdminLogin = await createUser(cqa, b.accountId, b.apiKey, { role: "admin" });
  });

  after(async () => {
    await cqa?.stop();
    await webhookPeer?.close();
  });

  test("every route has an auth kind the matrix knows", () => {
    assert.ok(routes.length > 30, "the route list is complete");
    for (const route of routes) {
      assert.ok(
        knownAuthKinds.has(route.auth),
        `${route.method.toUpperCase()} ${route.path} has auth '${route.auth}'; teach the authorization matrix about it`,
      );
      if (route.auth === "account" || route.auth === "session") {
        assert.ok(
          route.path.startsWith("/api/v1/accounts/{account_id}"),
          `${route.path}: an account route must name its account in the path`,
        );
      }
    }
  });

  test("public routes answer without credentials and show no tenant's data", async (t) => {
    for (const route of routes.filter((r) => r.auth === "public")) {
      await t.test(`${route.method.toUpperCase()} ${route.path}`, async () => {
        const answer = await cqa.request(
          route.method.toUpperCase(),
          route.path,
          optionsWith(bodyFor(route, b, fileUrl)),
        );
        if (signedLinkRoutes.has(route.operationId)) {
          // Opened only by a signed link: without one it refuses (400, never 5xx) and shows no data.
          assert.equal(answer.status, 400, `${route.path} answered ${answer.status}: ${answer.text}`);
        } else {
          assert.ok(answer.status < 400, `${route.path} answered ${answer.status}: ${answer.text}`);
        }
        if (route.operationId !== "login") {
          assertNoLeak(answer, a, route.path);
          assertNoLeak(answer, b, route.path);
        }
      });
    }
  });

  test("operator routes need the operator token", async (t) => {
    for (const route of routes.filter((r) => r.auth === "operator")) {
      const path = fillPath(route.path, idsOf(b), () => randomUUID());
      const method = route.method.toUpperCase();
      await t.test(`${method} ${route.path}`, async () => {
        const body = bodyFor(route, b, fileUrl);
        const attempts: [string, RequestOptions][] = [
          ["no credentials", {}],
          ["a wrong operator token", { bearer: `${operatorToken}x` }],
          ["an account API key in X-API-Key", { apiKey: b.apiKey }],
          ["an account API key as bearer", { bearer: b.apiKey }],
          ["an account session", { bearer: aSession }],
        ];
        for (const [label, credentials] of attempts) {
          const answer = await cqa.request(method, path, { ...credentials, ...optionsWith(body) });
          assertUnauthorized(answer, `${method} ${route.path} with ${label}`);
          assertNoLeak(answer, b, `${method} ${route.path} with ${label}`);
        }
        const own = await cqa.request(method, path, { bearer: operatorToken, ...optionsWith(body) });
        assert.ok(
          own.status < 400,
          `${method} ${route.path} with the operator token: ${own.status} ${own.text}`,
        );
      });
    }
  });

  test("every account's lists show only its own rows", async () => {
    const reads: [string, string, unknown?][] = [
      ["GET", ""],
      ["GET", "/api-keys"],
      ["GET", "/users"],
      ["GET", "/me"],
      ["GET", "/webhook-deliveries"],
      ["GET", "/quality-profiles?include_archived=true"],
      ["GET", "/assignment-rules"],
      ["GET", "/metadata-fields"],
      ["GET", "/insights"],
      ["POST", "/analyses?limit=100", { other_filters: [aroundToday()] }],
      ["POST", "/assignment-rules/dry-run", { limit: 500 }],
    ];
    for (const [method, suffix, body] of reads) {
      const answer = await cqa.request(method, `${accountPath(a.accountId)}${suffix}`, {
        apiKey: a.apiKey,
        ...optionsWith(body),
      });
      assert.equal(answer.status, 200, `${method} ${suffix}: ${answer.text}`);
      assertNoLeak(answer, b, `A's ${method} ${suffix}`);
    }
  });

  test("ids of another account inside a request body are refused or ignored", async () => {
    const base = accountPath(a.accountId);
    const rule = await cqa.request("POST", `${base}/assignment-rules`, {
      apiKey: a.apiKey,
      body: { name: "steal", priority: 5, conditions: { all: [] }, profile_ids: [b.profileId] },
    });
    assert.equal(rule.status, 400, `a rule of A may not apply B's profile: ${rule.text}`);
    assert.equal(rule.body.error.code, "VALIDATION_ERROR");

    const patched = await cqa.request("PATCH", `${base}/assignment-rules/${a.ruleId}`, {
      apiKey: a.apiKey,
      body: { profile_ids: [b.profileId] },
    });
    assert.equal(patched.status, 400, patched.text);

    const dryRun = await cqa.request("POST", `${base}/assignment-rules/dry-run`, {
      apiKey: a.apiKey,
      body: { interaction_ids: [b.interactionId, b.externalId] },
    });
    assert.equal(dryRun.status, 200, dryRun.text);
    assert.equal(dryRun.body.data.evaluated, 0, "B's interactions are not evaluated for A");
    assertNoLeak(dryRun, b, "dry run with B's interaction ids", [b.interactionId, b.externalId]);

    const replacing = await cqa.request("POST", `${base}/assignment-rules/dry-run`, {
      apiKey: a.apiKey,
      body: { replace_rule_id: b.ruleId },
    });
    assert.equal(replacing.status, 404, replacing.text);

    const deliveries = await cqa.request(
      "GET",
      `${base}/webhook-deliveries?interaction_id=${b.interactionId}`,
      {
        apiKey: a.apiKey,
      },
    );
    assert.equal(deliveries.status, 200, deliveries.text);
    assert.deepEqual(deliveries.body.data.deliveries, []);

    const byProfile = await listAnalyses(
      cqa,
      a.accountId,
      { apiKey: a.apiKey },
      { quality_profile_uid: b.profileId },
    );
    assert.equal(byProfile.status, 200, byProfile.text);
    assert.deepEqual(byProfile.body.data.analyses, []);

    const signingKey = await cqa.request("PATCH", base, {
      apiKey: a.apiKey,
      body: { webhook_signing_key_id: b.apiKeyId },
    });
    assert.equal(signingKey.status, 400, `A may not sign its webhooks with B's key: ${signingKey.text}`);

    const crossLogin = await cqa.request("POST", "/api/v1/auth/login", {
      body: { account_id: a.accountId, email: b.user.email, password: b.user.password },
    });
    assert.equal(crossLogin.status, 401, "B's user cannot sign in to A");
  });

  test("the same external id in two accounts resolves to each account's own conversation", async () => {
    const shared = unique("shared-external-id");
    for (const tenant of [a, b]) {
      const created = await cqa.request("POST", `${accountPath(tenant.accountId)}/ingress/interactions`, {
        apiKey: tenant.apiKey,
        body: chat(shared, { owner: tenant.accountId }),
      });
      assert.equal(created.status, 201, `each account may use the id once: ${created.text}`);
    }
    for (const tenant of [a, b]) {
      const detail = await cqa.request(
        "GET",
        `${accountPath(tenant.accountId)}/ingress/interactions/${encodeURIComponent(shared)}`,
        { apiKey: tenant.apiKey },
      );
      assert.equal(detail.status, 200, detail.text);
      assert.equal(detail.body.data.metadata.owner, tenant.accountId);
    }
  });

  test("a key created for one account never opens another, even right after it was used", async () => {
    const fresh = await createKey(cqa, a.accountId, a.apiKey, "admin", "fresh");
    // Used once on its own account (so this process has it cached), then on B's.
    assert.equal(
      (await cqa.request("GET", `${accountPath(a.accountId)}/me`, { apiKey: fresh.key })).status,
      200,
    );
    const answer = await cqa.request("GET", `${accountPath(b.accountId)}/api-keys`, { apiKey: fresh.key });
    assertUnauthorized(answer, "A's fresh key on B");
    assertNoLeak(answer, b, "A's fresh key on B");
  });

  test("account routes: only the path's own account gets in", async (t) => {
    const bIds = idsOf(b);
    const unknownKey = `cqa_zzzzzzzzzz_${"A".repeat(32)}`;
    const bKeyWrongSecret = `${b.apiKey.slice(0, -4)}${b.apiKey.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    for (const route of routes.filter((r) => r.auth === "account" || r.auth === "session")) {
      const method = route.method.toUpperCase();
      await t.test(`${method} ${route.path}`, async () => {
        const path = fillPath(route.path, bIds, (name) => {
          t.diagnostic(`${route.path}: no real id for {${name}}; using a random one`);
          return randomUUID();
        });
        const body = bodyFor(route, b, fileUrl);
        const attempts: [string, RequestOptions][] = [
          ["account A's admin key", { apiKey: a.apiKey }],
          ["account A's admin session", { bearer: aSession }],
          ["no credentials", {}],
          ["a malformed key", { apiKey: "not-a-key" }],
          ["an unknown key", { apiKey: unknownKey }],
          ["B's key prefix with a wrong secret", { apiKey: bKeyWrongSecret }],
          ["an unknown session token", { bearer: "not-a-session-token" }],
          ["the operator token", { bearer: operatorToken }],
        ];
        for (const [label, credentials] of attempts) {
          const answer = await cqa.request(method, path, { ...credentials, ...optionsWith(body) });
          assertUnauthorized(answer, `${method} ${route.path} with ${label}`);
          assertNoLeak(answer, b, `${method} ${route.path} with ${label}`);
        }

        // A's own path with B's object ids: the objects do not exist for A.
        const objectParams = [...route.path.matchAll(/\{([a-z_]+)\}/g)]
          .map((m) => m[1]!)
          .filter((name) => name !== "account_id" && name !== "kpi_id");
        if (objectParams.length > 0 && route.auth === "account") {
          const variants = objectParams.includes("interaction_identifier")
            ? [b.interactionId, b.externalId]
            : [null];
          for (const identifier of variants) {
            const ids = {
              ...bIds,
              account_id: a.accountId,
              ...(identifier ? { interaction_identifier: identifier } : {}),
            };
            const idorPath = fillPath(route.path, ids, () => randomUUID());
            const answer = await cqa.request(method, idorPath, { apiKey: a.apiKey, ...optionsWith(body) });
            assert.equal(answer.status, 404, `${method} ${idorPath} (A's path, B's ids): ${answer.text}`);
            assertNoLeak(answer, b, `${method} ${idorPath} (A's path, B's ids)`, Object.values(ids));
          }
        }

        const own =
          route.auth === "session"
            ? await cqa.request(method, path, {
                bearer: await login(cqa, b.accountId, bAdminLogin),
                ...optionsWith(body),
              })
            : await cqa.request(method, path, { apiKey: b.apiKey, ...optionsWith(body) });
        if (own.status >= 400)
          t.diagnostic(`${method} ${route.path} for its own account: ${own.status} ${own.text}`);
        // A reprocessed conversation is analysed again before the next route reviews it.
        if (route.operationId === "reprocessInteraction") await cqa.drain();
        assert.ok(
          own.status < 500 && own.status !== 401 && own.status !== 403,
          `${method} ${route.path} with B's own admin credentials: ${own.status} ${own.text}`,
        );
      });
    }
  });
});

function optionsWith(body: unknown): RequestOptions {
  return body === undefined ? {} : { body };
}
