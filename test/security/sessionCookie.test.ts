// The dashboard's browser sessions: an HttpOnly SameSite=Strict cookie plus a CSRF token header on
// every state-changing request. API keys and bearer tokens work exactly as before.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestCqa, type TestCqa, type TestResponse } from "../support/testCqa.ts";
import {
  accountPath,
  assertUnauthorized,
  createUser,
  login,
  roomyLimits,
  type UserLogin,
} from "./tenants.ts";

describe("session cookie and CSRF token", () => {
  let cqa: TestCqa;
  let accountId: string;
  let adminKey: string;
  let admin: UserLogin;

  const cookieLogin = (user: UserLogin, headers: Record<string, string> = {}) =>
    cqa.request("POST", "/api/v1/auth/login", {
      body: { account_id: accountId, email: user.email, password: user.password, cookie: true },
      headers,
    });
  const cookieOf = (answer: TestResponse) => {
    const header = answer.headers.get("set-cookie") ?? "";
    return header.split(";")[0]!;
  };

  before(async () => {
    cqa = await startTestCqa();
    const account = await cqa.createAccount({ name: "Cookies", limits: roomyLimits });
    accountId = account.accountId;
    adminKey = account.apiKey;
    admin = await createUser(cqa, accountId, adminKey, { role: "admin" });
  });

  after(async () => {
    await cqa?.stop();
  });

  test("a cookie sign-in sets an HttpOnly SameSite=Strict cookie and never shows the token", async () => {
    const answer = await cookieLogin(admin);
    assert.equal(answer.status, 200, answer.text);
    const setCookie = answer.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^cqa_session=[A-Za-z0-9_-]{20,}; /);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    assert.match(setCookie, /Max-Age=(43199|43200)(;|$)/, "12 hours");
    assert.doesNotMatch(setCookie, /Secure/, "plain http: a Secure cookie would never come back");
    const token = cookieOf(answer).split("=")[1]!;
    assert.ok(!answer.text.includes(token), "the body does not carry the session token");
    assert.equal(answer.body.data.token_type, "cookie");
    assert.equal(typeof answer.body.data.csrf_token, "string");
    assert.ok(answer.body.data.permissions.includes("manage:users"));
    assert.equal(answer.headers.get("cache-control"), "no-store");
  });

  test("behind an HTTPS proxy the cookie is Secure", async () => {
    const answer = await cookieLogin(admin, { "x-forwarded-proto": "https" });
    assert.match(answer.headers.get("set-cookie") ?? "", /; Secure/);
  });

  test("reads work with the cookie alone; changes need the session's CSRF token", async () => {
    const signedIn = await cookieLogin(admin);
    const cookie = cookieOf(signedIn);
    const csrf = signedIn.body.data.csrf_token as string;
    const me = await cqa.request("GET", `${accountPath(accountId)}/me`, { headers: { cookie } });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.email, admin.email);

    const create = (headers: Record<string, string>) =>
      cqa.request("POST", `${accountPath(accountId)}/api-keys`, {
        headers: { cookie, ...headers },
        body: { name: "from the dashboard", role: "analyst" },
      });
    const without = await create({});
    assert.equal(without.status, 403, without.text);
    assert.equal(without.body.error.code, "FORBIDDEN");
    assert.match(without.body.message, /X-CSRF-Token/);
    const wrong = await create({ "x-csrf-token": `${csrf}x` });
    assert.equal(wrong.status, 403, wrong.text);
    const other = await cookieLogin(admin);
    const ofAnotherSession = await create({ "x-csrf-token": other.body.data.csrf_token });
    assert.equal(ofAnotherSession.status, 403, "a CSRF token belongs to its own session");
    const right = await create({ "x-csrf-token": csrf });
    assert.equal(right.status, 201, right.text);
  });

  test("a sign-in another site could make for the browser is refused", async () => {
    const asForm = await cqa.request("POST", "/api/v1/auth/login", {
      rawBody: JSON.stringify({
        account_id: accountId,
        email: admin.email,
        password: admin.password,
        cookie: true,
      }),
      headers: { "content-type": "text/plain" },
    });
    assert.equal(asForm.status, 403, asForm.text);
    assert.equal(asForm.headers.get("set-cookie"), null);
    const crossSite = await cookieLogin(admin, { "sec-fetch-site": "cross-site" });
    assert.equal(crossSite.status, 403, crossSite.text);
    assert.equal(crossSite.headers.get("set-cookie"), null);
    assert.equal((await cookieLogin(admin, { "sec-fetch-site": "same-origin" })).status, 200);
  });

  test("GET /api/v1/auth/session tells the page who is signed in, with the same CSRF token", async () => {
    const none = await cqa.request("GET", "/api/v1/auth/session");
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.data, { signed_in: false });
    const signedIn = await cookieLogin(admin);
    const cookie = cookieOf(signedIn);
    const session = await cqa.request("GET", "/api/v1/auth/session", { headers: { cookie } });
    assert.equal(session.status, 200, session.text);
    assert.equal(session.body.data.signed_in, true);
    assert.equal(session.body.data.account_id, accountId);
    assert.equal(session.body.data.email, admin.email);
    assert.equal(session.body.data.role, "admin");
    assert.equal(session.body.data.csrf_token, signedIn.body.data.csrf_token);
    assert.deepEqual(session.body.data.account, { account_id: accountId, name: "Cookies", timezone: "UTC" });
    const stale = await cqa.request("GET", "/api/v1/auth/session", {
      headers: { cookie: "cqa_session=not-a-session-token-at-all" },
    });
    assert.deepEqual(stale.body.data, { signed_in: false });
    assert.match(stale.headers.get("set-cookie") ?? "", /Max-Age=0/, "a dead cookie is removed");
  });

  test("signing out ends the session and removes the cookie", async () => {
    const signedIn = await cookieLogin(admin);
    const cookie = cookieOf(signedIn);
    const out = await cqa.request("POST", `${accountPath(accountId)}/auth/logout`, {
      headers: { cookie, "x-csrf-token": signedIn.body.data.csrf_token },
    });
    assert.equal(out.status, 200, out.text);
    assert.match(out.headers.get("set-cookie") ?? "", /^cqa_session=; .*Max-Age=0/);
    assertUnauthorized(
      await cqa.request("GET", `${accountPath(accountId)}/me`, { headers: { cookie } }),
      "cookie after sign-out",
    );
  });

  test("API keys and bearer tokens are unchanged, whatever cookie comes along", async () => {
    const junk = { cookie: "cqa_session=not-a-session-token-at-all" };
    const byKey = await cqa.request("POST", `${accountPath(accountId)}/api-keys`, {
      apiKey: adminKey,
      headers: junk,
      body: { name: "key beside a cookie" },
    });
    assert.equal(byKey.status, 201, "no CSRF token needed with X-API-Key");
    const bearer = await login(cqa, accountId, admin);
    const byBearer = await cqa.request("POST", `${accountPath(accountId)}/api-keys`, {
      bearer,
      headers: junk,
      body: { name: "bearer beside a cookie" },
    });
    assert.equal(byBearer.status, 201, "no CSRF token needed with a bearer token");
    const plain = await cqa.request("POST", "/api/v1/auth/login", {
      body: { account_id: accountId, email: admin.email, password: admin.password },
    });
    assert.equal(plain.body.data.token_type, "Bearer");
    assert.equal(plain.headers.get("set-cookie"), null, "a bearer sign-in sets no cookie");
  });

  test("a cookie of another account's user does not open this account", async () => {
    const other = await cqa.createAccount({ name: "Other", limits: roomyLimits });
    const stranger = await createUser(cqa, other.accountId, other.apiKey, { role: "admin" });
    const signedIn = await cqa.request("POST", "/api/v1/auth/login", {
      body: { account_id: other.accountId, email: stranger.email, password: stranger.password, cookie: true },
    });
    const cookie = cookieOf(signedIn);
    assertUnauthorized(
      await cqa.request("GET", `${accountPath(accountId)}/users`, { headers: { cookie } }),
      "another account's cookie",
    );
  });
});
