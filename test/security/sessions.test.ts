import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { startTestCqa, type TestCqa } from "../support/testCqa.ts";
import {
  accountPath,
  assertForbidden,
  assertUnauthorized,
  createUser,
  login,
  roomyLimits,
  strongPassword,
  type UserLogin,
} from "./tenants.ts";

const hour = 3600_000;

describe("sessions: sign in, sign out, expiry", () => {
  const clock = new ManualClock("2026-03-02T08:00:00Z");
  let cqa: TestCqa;
  let accountId: string;
  let adminKey: string;
  let analyst: UserLogin;

  const me = (token: string) => cqa.request("GET", `${accountPath(accountId)}/me`, { bearer: token });
  const signIn = (body: Record<string, unknown>) => cqa.request("POST", "/api/v1/auth/login", { body });

  before(async () => {
    cqa = await startTestCqa({ clock });
    const account = await cqa.createAccount({ name: "Sessions", limits: roomyLimits });
    accountId = account.accountId;
    adminKey = account.apiKey;
    analyst = await createUser(cqa, accountId, adminKey, { role: "analyst", email: "ana.lyst@example.com" });
  });

  after(async () => {
    await cqa?.stop();
  });

  test("the right password gives a bearer token for 12 hours that identifies the user", async () => {
    const answer = await signIn({ account_id: accountId, email: analyst.email, password: analyst.password });
    assert.equal(answer.status, 200, answer.text);
    const data = answer.body.data;
    assert.equal(data.token_type, "Bearer");
    assert.equal(data.user_id, analyst.userId);
    assert.equal(data.account_id, accountId);
    assert.equal(data.role, "analyst");
    assert.equal(data.expires_at, new Date(clock.now().getTime() + 12 * hour).toISOString());
    const who = await me(data.token);
    assert.equal(who.status, 200, who.text);
    assert.deepEqual(
      { kind: who.body.data.kind, user_id: who.body.data.user_id, email: who.body.data.email },
      { kind: "user", user_id: analyst.userId, email: analyst.email },
    );
  });

  test("the e-mail is matched without regard to case", async () => {
    const answer = await signIn({
      account_id: accountId,
      email: "ANA.Lyst@Example.com",
      password: analyst.password,
    });
    assert.equal(answer.status, 200, answer.text);
  });

  test("a wrong password, an unknown e-mail and a wrong account get the same 401", async () => {
    const attempts = [
      { account_id: accountId, email: analyst.email, password: `${analyst.password}!` },
      { account_id: accountId, email: "nobody@example.com", password: analyst.password },
      {
        account_id: "00000000-0000-7000-8000-000000000001",
        email: analyst.email,
        password: analyst.password,
      },
    ];
    const messages = new Set<string>();
    for (const body of attempts) {
      const answer = await signIn(body);
      assertUnauthorized(answer, JSON.stringify(body));
      messages.add(answer.body.message);
    }
    assert.equal(messages.size, 1, `one message for every failure: ${[...messages].join(" | ")}`);
  });

  test("a disabled user can neither sign in nor use an open session; enabling restores access", async () => {
    const user = await createUser(cqa, accountId, adminKey, { role: "supervisor" });
    const token = await login(cqa, accountId, user);
    const disable = await cqa.request("PATCH", `${accountPath(accountId)}/users/${user.userId}`, {
      apiKey: adminKey,
      body: { disabled: true },
    });
    assert.equal(disable.status, 200, disable.text);
    assert.ok(disable.body.data.disabled_at);
    assertUnauthorized(await me(token), "open session of a disabled user");
    const refused = await signIn({ account_id: accountId, email: user.email, password: user.password });
    assertUnauthorized(refused, "disabled user signing in");
    assert.equal(
      refused.body.message,
      (await signIn({ account_id: accountId, email: user.email, password: "x" })).body.message,
    );

    await cqa.request("PATCH", `${accountPath(accountId)}/users/${user.userId}`, {
      apiKey: adminKey,
      body: { disabled: false },
    });
    assert.equal((await me(await login(cqa, accountId, user))).status, 200);
  });

  test("a deleted user's session stops working", async () => {
    const user = await createUser(cqa, accountId, adminKey, { role: "analyst" });
    const token = await login(cqa, accountId, user);
    const deleted = await cqa.request("DELETE", `${accountPath(accountId)}/users/${user.userId}`, {
      apiKey: adminKey,
    });
    assert.equal(deleted.status, 200, deleted.text);
    assertUnauthorized(await me(token), "session of a deleted user");
  });

  test("signing out revokes the token at once; other sessions of the user stay", async () => {
    const first = await login(cqa, accountId, analyst);
    const second = await login(cqa, accountId, analyst);
    const out = await cqa.request("POST", `${accountPath(accountId)}/auth/logout`, { bearer: first });
    assert.equal(out.status, 200, out.text);
    assert.equal(out.body.data.signed_out, true);
    assertUnauthorized(await me(first), "signed-out token");
    assertUnauthorized(
      await cqa.request("POST", `${accountPath(accountId)}/auth/logout`, { bearer: first }),
      "signing out twice",
    );
    assert.equal((await me(second)).status, 200, "the other session is untouched");
  });

  test("sign out needs a session: an API key cannot call it", async () => {
    const answer = await cqa.request("POST", `${accountPath(accountId)}/auth/logout`, { apiKey: adminKey });
    assertUnauthorized(answer, "logout with an API key");
    assert.equal((await me(adminKey)).status, 401, "an API key is not a bearer token");
    assert.equal(
      (await cqa.request("GET", `${accountPath(accountId)}/me`, { apiKey: adminKey })).status,
      200,
    );
  });

  test("a session expires after 12 hours", async () => {
    const token = await login(cqa, accountId, analyst);
    clock.advance(12 * hour - 1000);
    assert.equal((await me(token)).status, 200, "still valid a second before expiry");
    clock.advance(2000);
    const expired = await me(token);
    assertUnauthorized(expired, "expired session");
    assert.match(expired.body.message, /expired/i);
    const fresh = await login(cqa, accountId, analyst);
    assert.equal((await me(fresh)).status, 200, "signing in again works");
  });

  test("a changed password takes effect: the old one is refused, the new one accepted", async () => {
    const user = await createUser(cqa, accountId, adminKey, { role: "analyst" });
    const changed = await cqa.request("PATCH", `${accountPath(accountId)}/users/${user.userId}`, {
      apiKey: adminKey,
      body: { password: "a much better passphrase" },
    });
    assert.equal(changed.status, 200, changed.text);
    assertUnauthorized(
      await signIn({ account_id: accountId, email: user.email, password: user.password }),
      "old password",
    );
    await login(cqa, accountId, { email: user.email, password: "a much better passphrase" });
  });

  test("passwords and session tokens are stored only as hashes", async () => {
    const token = await login(cqa, accountId, analyst);
    const users = await cqa.db.query<{ email: string; password_hash: string }>(
      "SELECT email, password_hash FROM users WHERE account_id = $1",
      [accountId],
    );
    assert.ok(users.rows.length > 0);
    for (const row of users.rows) {
      assert.match(row.password_hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, row.email);
      assert.ok(!row.password_hash.includes(strongPassword), `${row.email}: the password is not stored`);
    }
    const stored = JSON.stringify((await cqa.db.query("SELECT * FROM sessions")).rows);
    assert.ok(!stored.includes(token), "the session token is not stored");
    const everything = JSON.stringify((await cqa.db.query("SELECT * FROM users")).rows);
    assert.ok(!everything.includes(strongPassword));
  });

  test("a session's role is read on every request (a demoted admin loses admin rights at once)", async () => {
    const admin = await createUser(cqa, accountId, adminKey, { role: "admin" });
    const token = await login(cqa, accountId, admin);
    assert.equal(
      (await cqa.request("GET", `${accountPath(accountId)}/api-keys`, { bearer: token })).status,
      200,
    );
    await cqa.request("PATCH", `${accountPath(accountId)}/users/${admin.userId}`, {
      apiKey: adminKey,
      body: { role: "agent", agent_id: "agent-1" },
    });
    assertForbidden(
      await cqa.request("GET", `${accountPath(accountId)}/api-keys`, { bearer: token }),
      ["admin"],
      "demoted",
    );
  });
});
