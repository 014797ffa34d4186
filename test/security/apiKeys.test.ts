import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startTestCqa, type TestCqa } from "../support/testCqa.ts";
import {
  accountPath,
  assertUnauthorized,
  createUser,
  roomyLimits,
  strongPassword,
  unique,
} from "./tenants.ts";

let cqa: TestCqa;
before(async () => {
  cqa = await startTestCqa();
});
after(async () => {
  await cqa?.stop();
});

describe("API keys: shown once, listed by prefix, revoked at once", () => {
  let accountId: string;
  let adminKey: string;
  let signingSecret: string;
  const base = () => accountPath(accountId);

  before(async () => {
    const account = await cqa.createAccount({ name: "Keys", limits: roomyLimits });
    accountId = account.accountId;
    adminKey = account.apiKey;
    signingSecret = account.signingSecret;
  });

  test("creating a key shows the key and its webhook signing secret once, with a warning", async () => {
    const created = await cqa.request("POST", `${base()}/api-keys`, {
      apiKey: adminKey,
      body: { name: "crm-connector", role: "supervisor" },
    });
    assert.equal(created.status, 201, created.text);
    const data = created.body.data;
    assert.match(data.api_key, /^cqa_[a-z0-9]{10}_[A-Za-z0-9]{32}$/);
    assert.ok(data.webhook_signing_secret.length >= 32);
    assert.equal(data.role, "supervisor");
    assert.equal(data.prefix, `cqa_${data.api_key.split("_")[1]}_…`);
    assert.match(created.body.message, /not shown again/);
    const me = await cqa.request("GET", `${base()}/me`, { apiKey: data.api_key });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.role, "supervisor");

    // Nothing shows the secrets again.
    const reads = await Promise.all(
      ["", "/api-keys", "/me", "/users", "/webhook-deliveries"].map((suffix) =>
        cqa.request("GET", `${base()}${suffix}`, { apiKey: adminKey }),
      ),
    );
    const secretPart = data.api_key.split("_")[2];
    for (const read of reads) {
      assert.equal(read.status, 200, read.text);
      for (const secret of [data.api_key, secretPart, data.webhook_signing_secret, adminKey, signingSecret]) {
        assert.ok(!read.text.includes(secret), `a later read shows a secret: ${read.text}`);
      }
    }
  });

  test("the key list shows prefixes, never a secret or its hash", async () => {
    const key = await cqa.request("POST", `${base()}/api-keys`, {
      apiKey: adminKey,
      body: { name: "listed" },
    });
    const secret = key.body.data.api_key as string;
    const list = await cqa.request("GET", `${base()}/api-keys`, { apiKey: adminKey });
    assert.equal(list.status, 200, list.text);
    const listed = list.body.data.api_keys.find(
      (k: { api_key_id: string }) => k.api_key_id === key.body.data.api_key_id,
    );
    assert.deepEqual(Object.keys(listed).sort(), [
      "api_key_id",
      "created_at",
      "last_used_at",
      "name",
      "prefix",
      "revoked_at",
      "role",
    ]);
    assert.equal(listed.prefix, `cqa_${secret.split("_")[1]}_…`);
    assert.equal(listed.role, "admin", "a key without a role is an admin key");
    const hash = createHash("sha256").update(secret).digest("hex");
    for (const hidden of [secret, secret.split("_")[2]!, hash, adminKey]) {
      assert.ok(!list.text.includes(hidden), `the list reveals ${hidden}`);
    }
    const stored = JSON.stringify((await cqa.db.query("SELECT * FROM api_keys")).rows);
    assert.ok(!stored.includes(secret.split("_")[2]!), "the key's secret is not stored in clear");
  });

  test("a revoked key is refused at once, even right after it was used", async () => {
    const created = await cqa.request("POST", `${base()}/api-keys`, {
      apiKey: adminKey,
      body: { name: "to-revoke" },
    });
    const key = created.body.data.api_key as string;
    const id = created.body.data.api_key_id as string;
    assert.equal((await cqa.request("GET", `${base()}/me`, { apiKey: key })).status, 200);
    const revoked = await cqa.request("DELETE", `${base()}/api-keys/${id}`, { apiKey: adminKey });
    assert.equal(revoked.status, 200, revoked.text);
    assert.ok(revoked.body.data.revoked_at);
    const refused = await cqa.request("GET", `${base()}/me`, { apiKey: key });
    assertUnauthorized(refused, "revoked key");
    assert.match(refused.body.message, /revoked/);
    const list = await cqa.request("GET", `${base()}/api-keys`, { apiKey: adminKey });
    const listed = list.body.data.api_keys.find((k: { api_key_id: string }) => k.api_key_id === id);
    assert.equal(listed.revoked_at, revoked.body.data.revoked_at, "the list shows when it was revoked");
  });

  test("a key can revoke itself, and is refused from the next request on", async () => {
    const created = await cqa.request("POST", `${base()}/api-keys`, {
      apiKey: adminKey,
      body: { name: "self" },
    });
    const key = created.body.data.api_key as string;
    const revoked = await cqa.request("DELETE", `${base()}/api-keys/${created.body.data.api_key_id}`, {
      apiKey: key,
    });
    assert.equal(revoked.status, 200, revoked.text);
    assertUnauthorized(await cqa.request("GET", `${base()}/api-keys`, { apiKey: key }), "self-revoked key");
  });

  test("revoking an unknown key answers 404", async () => {
    for (const id of ["00000000-0000-7000-8000-000000000001", "not-a-uuid"]) {
      const answer = await cqa.request("DELETE", `${base()}/api-keys/${id}`, { apiKey: adminKey });
      assert.equal(answer.status, 404, answer.text);
      assert.equal(answer.body.error.code, "NOT_FOUND");
    }
  });

  test("key creation validates its input", async () => {
    for (const [body, pattern] of [
      [{}, /name is required/],
      [{ name: "  " }, /name must not be empty/],
      [{ name: "x", role: "owner" }, /role must be one of admin, supervisor, analyst, agent/],
    ] as const) {
      const answer = await cqa.request("POST", `${base()}/api-keys`, { apiKey: adminKey, body });
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.body.error.code, "VALIDATION_ERROR");
      assert.match(answer.body.message, pattern);
    }
  });
});

describe("users API: validation and uniqueness", () => {
  let accountId: string;
  let adminKey: string;
  const base = () => accountPath(accountId);
  const create = (body: Record<string, unknown>) =>
    cqa.request("POST", `${base()}/users`, { apiKey: adminKey, body });

  before(async () => {
    const account = await cqa.createAccount({ name: "Users", limits: roomyLimits });
    accountId = account.accountId;
    adminKey = account.apiKey;
  });

  test("a bad e-mail is refused", async () => {
    const answer = await create({ email: "not-an-email", password: strongPassword, role: "analyst" });
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.body.error.code, "VALIDATION_ERROR");
    assert.match(answer.body.message, /email must be an e-mail address/);
  });

  test("a short or trivial password is refused with the policy", async () => {
    const short = await create({ email: `${unique("p")}@example.com`, password: "hunter2", role: "analyst" });
    assert.equal(short.status, 400, short.text);
    assert.equal(short.body.error.code, "VALIDATION_ERROR");
    assert.match(short.body.message, /at least 12 characters long \(it has 7\)/);
    const repeated = await create({
      email: `${unique("p")}@example.com`,
      password: "a".repeat(16),
      role: "analyst",
    });
    assert.equal(repeated.status, 400, repeated.text);
    assert.match(repeated.body.message, /single character repeated/);
  });

  test("an agent needs an agent_id", async () => {
    const answer = await create({
      email: `${unique("agent")}@example.com`,
      password: strongPassword,
      role: "agent",
    });
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.body.error.code, "VALIDATION_ERROR");
    assert.match(answer.body.message, /agent_id is required for agents/);
  });

  test("an agent cannot lose its agent_id, nor a user become an agent without one", async () => {
    const agent = await create({
      email: `${unique("agent")}@example.com`,
      password: strongPassword,
      role: "agent",
      agent_id: "agent-9",
    });
    assert.equal(agent.status, 201, agent.text);
    const cleared = await cqa.request("PATCH", `${base()}/users/${agent.body.data.user_id}`, {
      apiKey: adminKey,
      body: { agent_id: null },
    });
    assert.equal(cleared.status, 400, cleared.text);
    assert.match(cleared.body.message, /agent_id is required for agents/);
    const analyst = await create({
      email: `${unique("a")}@example.com`,
      password: strongPassword,
      role: "analyst",
    });
    const demoted = await cqa.request("PATCH", `${base()}/users/${analyst.body.data.user_id}`, {
      apiKey: adminKey,
      body: { role: "agent" },
    });
    assert.equal(demoted.status, 400, demoted.text);
    assert.match(demoted.body.message, /agent_id is required for agents/);
  });

  test("an unknown role and a malformed metadata scope are refused", async () => {
    const role = await create({
      email: `${unique("r")}@example.com`,
      password: strongPassword,
      role: "root",
    });
    assert.equal(role.status, 400, role.text);
    assert.match(role.body.message, /role must be one of/);
    const scope = await create({
      email: `${unique("s")}@example.com`,
      password: strongPassword,
      role: "analyst",
      metadata_scope: { region: "north" },
    });
    assert.equal(scope.status, 400, scope.text);
    assert.match(scope.body.message, /metadata_scope.region must be an array/);
  });

  test("a second user with the same e-mail (in any case) is a DUPLICATE", async () => {
    const email = `${unique("dup")}@example.com`;
    const first = await create({ email, password: strongPassword, role: "analyst" });
    assert.equal(first.status, 201, first.text);
    for (const again of [email, email.toUpperCase()]) {
      const answer = await create({ email: again, password: strongPassword, role: "supervisor" });
      assert.equal(answer.status, 409, answer.text);
      assert.equal(answer.body.error.code, "DUPLICATE");
      assert.match(answer.body.message, /exists already/);
    }
  });

  test("the same e-mail may exist in two accounts, each signing in to its own", async () => {
    const other = await cqa.createAccount({ name: "Other" });
    const email = `${unique("twin")}@example.com`;
    const mine = await createUser(cqa, accountId, adminKey, { role: "analyst", email });
    const theirs = await createUser(cqa, other.accountId, other.apiKey, { role: "admin", email });
    assert.notEqual(mine.userId, theirs.userId);
    const login = await cqa.request("POST", "/api/v1/auth/login", {
      body: { account_id: accountId, email, password: strongPassword },
    });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.body.data.user_id, mine.userId);
    assert.equal(login.body.data.role, "analyst");
  });

  test("the users list and answers never carry a password or its hash", async () => {
    const list = await cqa.request("GET", `${base()}/users`, { apiKey: adminKey });
    assert.equal(list.status, 200, list.text);
    assert.ok(list.body.data.users.length > 0);
    assert.ok(!list.text.includes(strongPassword));
    assert.ok(!list.text.includes("scrypt$"));
    for (const user of list.body.data.users) assert.ok(!("password_hash" in user) && !("password" in user));
  });

  test("changing a user validates the same way, and an unknown user is 404", async () => {
    const user = await createUser(cqa, accountId, adminKey, { role: "analyst" });
    const weak = await cqa.request("PATCH", `${base()}/users/${user.userId}`, {
      apiKey: adminKey,
      body: { password: "short" },
    });
    assert.equal(weak.status, 400, weak.text);
    assert.match(weak.body.message, /at least 12 characters/);
    const unknownField = await cqa.request("PATCH", `${base()}/users/${user.userId}`, {
      apiKey: adminKey,
      body: { password_hash: "scrypt$1$1$1$x$y" },
    });
    assert.equal(unknownField.status, 400, unknownField.text);
    const missing = await cqa.request("PATCH", `${base()}/users/00000000-0000-7000-8000-000000000001`, {
      apiKey: adminKey,
      body: { display_name: "Nobody" },
    });
    assert.equal(missing.status, 404, missing.text);
  });
});
