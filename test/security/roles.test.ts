import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { apiRoutes } from "../../src/api/index.ts";
import { type Permission, roleAllows, rolesWith } from "../../src/api/permissions.ts";
import { roles } from "../../src/storage/repositories/apiKeys.ts";
import { type RequestOptions, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import {
  accountPath,
  assertForbidden,
  chat,
  createKey,
  createUser,
  fillPath,
  listAnalyses,
  login,
  roomyLimits,
  strongPassword,
  unique,
} from "./tenants.ts";

type Role = (typeof roles)[number];

/** Authenticated routes every caller of the account may use, whatever the role. */
const openToEveryRole = new Set([
  "whoAmI",
  "logout",
  // A user's own preferences: personal, and for every signed-in user whatever the role.
  "listMyPreferences",
  "saveMyPreference",
  "resetMyPreference",
]);

let cqa: TestCqa;
before(async () => {
  cqa = await startTestCqa();
});
after(async () => {
  await cqa?.stop();
});

interface Caller {
  label: string;
  role: Role;
  auth: RequestOptions;
}

describe("roles: every route with a permission enforces the role matrix", () => {
  let accountId: string;
  let adminKey: string;
  const callers: Caller[] = [];

  before(async () => {
    const account = await cqa.createAccount({ name: "Roles", limits: roomyLimits });
    accountId = account.accountId;
    adminKey = account.apiKey;
    for (const role of roles) {
      const key = role === "admin" ? adminKey : (await createKey(cqa, accountId, adminKey, role)).key;
      callers.push({ label: `${role} API key`, role, auth: { apiKey: key } });
      const user = await createUser(cqa, accountId, adminKey, {
        role,
        ...(role === "agent" ? { agent_id: "agent-42" } : {}),
      });
      callers.push({ label: `${role} user`, role, auth: { bearer: await login(cqa, accountId, user) } });
    }
  });

  test("every account route names the permission it needs (or is open to every role on purpose)", () => {
    for (const route of apiRoutes("test")) {
      if (route.auth !== "account" && route.auth !== "session") continue;
      assert.ok(
        route.permission !== undefined || openToEveryRole.has(route.operationId),
        `${route.method.toUpperCase()} ${route.path} (${route.operationId}) declares no permission`,
      );
    }
  });

  test("each role gets exactly what permissions.ts grants it", async (t) => {
    const guarded = apiRoutes("test").filter((r) => r.permission !== undefined);
    assert.ok(guarded.length > 25);
    for (const route of guarded) {
      const permission = route.permission as Permission;
      const method = route.method.toUpperCase();
      await t.test(`${method} ${route.path} (${permission})`, async () => {
        // Ids that exist nowhere and an empty body: an allowed caller gets past the role check and
        // meets 404 / 400 (or a harmless read); a caller without the permission meets 403 first.
        const path = fillPath(route.path, { account_id: accountId }, () => randomUUID());
        for (const caller of callers) {
          const answer = await cqa.request(method, path, {
            ...caller.auth,
            ...(route.body ? { body: {} } : {}),
          });
          const context = `${method} ${route.path} as ${caller.label}`;
          if (roleAllows(caller.role, permission)) {
            assert.ok(
              answer.status < 500 && answer.status !== 401 && answer.status !== 403,
              `${context} is allowed: ${answer.status} ${answer.text}`,
            );
          } else {
            assertForbidden(answer, rolesWith(permission), context);
            assert.ok(
              answer.body.message.includes(caller.role),
              `${context}: the message names the caller's role`,
            );
          }
        }
      });
    }
  });

  test("every role may ask who it is; the answer names its role", async () => {
    for (const caller of callers) {
      const me = await cqa.request("GET", `${accountPath(accountId)}/me`, caller.auth);
      assert.equal(me.status, 200, `${caller.label}: ${me.text}`);
      assert.equal(me.body.data.role, caller.role);
    }
  });

  test("an analyst can neither manage users nor API keys", async () => {
    const base = accountPath(accountId);
    for (const caller of callers.filter((c) => c.role === "analyst")) {
      const attempts: [string, string, unknown?][] = [
        ["GET", "/users"],
        ["POST", "/users", { email: `${unique("x")}@example.com`, password: strongPassword, role: "admin" }],
        ["PATCH", `/users/${randomUUID()}`, { role: "admin" }],
        ["DELETE", `/users/${randomUUID()}`],
        ["GET", "/api-keys"],
        ["POST", "/api-keys", { name: "escalate", role: "admin" }],
        ["DELETE", `/api-keys/${randomUUID()}`],
      ];
      for (const [method, suffix, body] of attempts) {
        const answer = await cqa.request(method, `${base}${suffix}`, {
          ...caller.auth,
          ...(body === undefined ? {} : { body }),
        });
        assertForbidden(answer, ["admin"], `${caller.label}: ${method} ${suffix}`);
      }
    }
    const users = await cqa.request("GET", `${base}/users`, { apiKey: adminKey });
    assert.ok(
      users.body.data.users.every(
        (u: { role: string; email: string }) => u.role !== "admin" || !u.email.startsWith("x-"),
      ),
      "no admin was created by an analyst",
    );
  });

  test("a supervisor configures but cannot manage users, keys or the account", async () => {
    const base = accountPath(accountId);
    for (const caller of callers.filter((c) => c.role === "supervisor")) {
      for (const [method, suffix, body] of [
        ["POST", "/api-keys", { name: "escalate", role: "admin" }],
        ["POST", "/users", { email: `${unique("s")}@example.com`, password: strongPassword, role: "admin" }],
        ["PATCH", "", { name: "Renamed by a supervisor" }],
      ] as const) {
        assertForbidden(
          await cqa.request(method, `${base}${suffix}`, { ...caller.auth, body }),
          ["admin"],
          caller.label,
        );
      }
      const rule = await cqa.request("POST", `${base}/assignment-rules/dry-run`, {
        ...caller.auth,
        body: {},
      });
      assert.equal(rule.status, 200, rule.text);
    }
  });
});

describe("roles: what an agent may and may not do", () => {
  let accountId: string;
  let adminKey: string;
  let agentSession: string;
  let agentKey: string;
  let ownAnalysisId: string;
  let ownInteractionId: string;
  let otherAnalysisId: string;

  before(async () => {
    const account = await cqa.createAccount({ name: "Agents", limits: roomyLimits });
    accountId = account.accountId;
    adminKey = account.apiKey;
    const base = accountPath(accountId);
    const ids: Record<string, string> = {};
    const owners: [string, string][] = [
      ["call-of-agent-42", "agent-42"],
      ["call-of-agent-7", "agent-7"],
    ];
    for (const [externalId, agent] of owners) {
      const created = await cqa.request("POST", `${base}/ingress/interactions`, {
        apiKey: adminKey,
        body: chat(externalId, { agent_id: agent }),
      });
      assert.equal(created.status, 201, created.text);
      ids[externalId] = created.body.data.interaction_id;
    }
    await cqa.drain();
    const analysisOf = async (interactionId: string) => {
      const detail = await cqa.request("GET", `${base}/ingress/interactions/${interactionId}`, {
        apiKey: adminKey,
      });
      return detail.body.data.analyses[0].analysis_id as string;
    };
    ownInteractionId = ids["call-of-agent-42"]!;
    ownAnalysisId = await analysisOf(ownInteractionId);
    otherAnalysisId = await analysisOf(ids["call-of-agent-7"]!);
    const agent = await createUser(cqa, accountId, adminKey, { role: "agent", agent_id: "agent-42" });
    agentSession = await login(cqa, accountId, agent);
    agentKey = (await createKey(cqa, accountId, adminKey, "agent")).key;
  });

  test("an agent can raise a dispute on their own analysis and see it", async () => {
    const base = accountPath(accountId);
    const listed = await listAnalyses(cqa, accountId, { bearer: agentSession });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(
      listed.body.data.analyses.map((a: { analysis_id: string }) => a.analysis_id),
      [ownAnalysisId],
    );
    const raised = await cqa.request("POST", `${base}/analyses/${ownAnalysisId}/disputes`, {
      bearer: agentSession,
      body: { reason: "I did greet the customer, in the first sentence" },
    });
    assert.equal(raised.status, 201, raised.text);
    assert.equal(raised.body.data.status, "open");
    assert.match(raised.body.data.raised_by, /^user:agent-/);
    const disputes = await cqa.request("GET", `${base}/analyses/${ownAnalysisId}/disputes`, {
      bearer: agentSession,
    });
    assert.equal(disputes.status, 200, disputes.text);
    assert.deepEqual(
      disputes.body.data.disputes.map((d: { dispute_id: string }) => d.dispute_id),
      [raised.body.data.dispute_id],
    );
  });

  test("an agent cannot dispute someone else's analysis (it does not exist for them)", async () => {
    const answer = await cqa.request(
      "POST",
      `${accountPath(accountId)}/analyses/${otherAnalysisId}/disputes`,
      {
        bearer: agentSession,
        body: { reason: "not mine" },
      },
    );
    assert.equal(answer.status, 404, answer.text);
    assert.equal(answer.body.error.code, "NOT_FOUND");
  });

  test("an agent cannot ingest, configure, review, resolve or reprocess", async () => {
    const base = accountPath(accountId);
    const dispute = await cqa.request("POST", `${base}/analyses/${ownAnalysisId}/disputes`, {
      apiKey: adminKey,
      body: { reason: "second look" },
    });
    assert.equal(dispute.status, 201, dispute.text);
    const attempts: [string, string, unknown, string][] = [
      ["POST", "/ingress/interactions", chat(unique("agent-upload"), { agent_id: "agent-42" }), "ingest"],
      ["POST", "/ingress/interactions/batch", { interactions: [chat(unique("agent-batch"))] }, "ingest"],
      ["POST", "/quality-profiles", { name: "Mine" }, "configure"],
      ["POST", "/assignment-rules", { name: "Mine" }, "configure"],
      ["DELETE", `/assignment-rules/${randomUUID()}`, undefined, "configure"],
      [
        "PUT",
        `/analyses/${ownAnalysisId}/kpis/any/review`,
        { score: 1, justification: "I say so" },
        "review",
      ],
      [
        "POST",
        `/analyses/${ownAnalysisId}/disputes/${dispute.body.data.dispute_id}/resolve`,
        { resolution: "ACCEPTED" },
        "dispute:resolve",
      ],
      ["POST", `/ingress/interactions/${ownInteractionId}/reprocess`, undefined, "review"],
    ];
    for (const auth of [{ bearer: agentSession }, { apiKey: agentKey }]) {
      for (const [method, suffix, body, permission] of attempts) {
        const answer = await cqa.request(method, `${base}${suffix}`, {
          ...auth,
          ...(body === undefined ? {} : { body }),
        });
        assertForbidden(answer, rolesWith(permission as Permission), `agent ${method} ${suffix}`);
        assert.ok(!rolesWith(permission as Permission).includes("agent"));
      }
    }
    const still = await cqa.request("GET", `${base}/analyses/${ownAnalysisId}/disputes`, {
      apiKey: adminKey,
    });
    assert.ok(
      still.body.data.disputes.every((d: { status: string }) => d.status === "open"),
      "no dispute was resolved by the agent",
    );
  });

  test("demoting a signed-in user takes effect on their next request", async () => {
    const base = accountPath(accountId);
    const admin = await createUser(cqa, accountId, adminKey, { role: "admin" });
    const session = await login(cqa, accountId, admin);
    assert.equal((await cqa.request("GET", `${base}/users`, { bearer: session })).status, 200);
    const demoted = await cqa.request("PATCH", `${base}/users/${admin.userId}`, {
      apiKey: adminKey,
      body: { role: "analyst" },
    });
    assert.equal(demoted.status, 200, demoted.text);
    assertForbidden(
      await cqa.request("GET", `${base}/users`, { bearer: session }),
      ["admin"],
      "demoted user",
    );
  });
});
