// The API an IT admin uses for ECC4x: SFTP users of the account, and signed embed links.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

const edKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIANnGZiOAi6FOoSLlCYsXyoLmnTx+RlDS4XZ33SQW6j1 vla@ecc4x";

describe("SFTP users and embed links through the API", () => {
  let cqa: TestCqa;
  let account: CreatedAccount;
  let other: CreatedAccount;
  const clock = new ManualClock("2026-04-01T08:00:00Z");
  const call = (method: string, suffix: string, body?: unknown, as = account) =>
    cqa.request(method, `/api/v1/accounts/${as.accountId}${suffix}`, {
      apiKey: as.apiKey,
      ...(body === undefined ? {} : { body }),
    });

  before(async () => {
    cqa = await startTestCqa({ clock });
    account = await cqa.createAccount({ embed_origins: ["https://ecc.example.com"] });
    other = await cqa.createAccount();
    const user = await call("POST", "/users", {
      email: "agent@acme.example",
      password: "a strong password 1",
      role: "agent",
      agent_id: "agent-42",
    });
    assert.equal(user.status, 201, user.text);
  });
  after(() => cqa?.stop());

  test("an SFTP user is created with a password and keys, shown without secrets, changed and deleted", async () => {
    const created = await call("POST", "/sftp-users", {
      username: "vla-module",
      password: "the vla upload password",
      public_keys: [edKey],
      max_file_mb: 64,
    });
    assert.equal(created.status, 201, created.text);
    const user = created.body.data;
    assert.equal(user.password_set, true);
    assert.equal(user.max_file_mb, 64);
    assert.deepEqual(user.public_keys, [
      { algorithm: "ssh-ed25519", fingerprint: user.public_keys[0].fingerprint, comment: "vla@ecc4x" },
    ]);
    assert.match(user.public_keys[0].fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.ok(!created.text.includes("the vla upload password") && !created.text.includes("scrypt"));

    const listed = await call("GET", "/sftp-users");
    assert.deepEqual(
      listed.body.data.sftp_users.map((u: { username: string }) => u.username),
      ["vla-module"],
    );
    assert.deepEqual((await call("GET", "/sftp-users", undefined, other)).body.data.sftp_users, []);
    assert.equal((await call("GET", `/sftp-users/${user.sftp_user_id}`, undefined, other)).status, 404);

    const keysOnly = await call("PATCH", `/sftp-users/${user.sftp_user_id}`, { password: null });
    assert.equal(keysOnly.status, 200, keysOnly.text);
    assert.equal(keysOnly.body.data.password_set, false);
    const nothing = await call("PATCH", `/sftp-users/${user.sftp_user_id}`, { public_keys: [] });
    assert.equal(nothing.status, 400);
    assert.match(nothing.body.message, /needs a password or at least one public key/);

    const deleted = await call("DELETE", `/sftp-users/${user.sftp_user_id}`);
    assert.equal(deleted.status, 200);
    assert.equal((await call("GET", `/sftp-users/${user.sftp_user_id}`)).status, 404);
  });

  test("bad SFTP users are refused with what to fix; names are unique across accounts", async () => {
    const bad = await call("POST", "/sftp-users", {
      username: "Bad Name",
      public_keys: ["ssh-rsa not-a-key"],
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /username must be 3 to 64 lower-case letters/);
    const noSecret = await call("POST", "/sftp-users", { username: "no-secret" });
    assert.equal(noSecret.status, 400);
    assert.match(noSecret.body.message, /a password or at least one public key/);
    const badKey = await call("POST", "/sftp-users", {
      username: "bad-key",
      public_keys: ["ssh-rsa not-a-key"],
    });
    assert.equal(badKey.status, 400);
    assert.match(badKey.body.message, /must be OpenSSH public keys/);
    const weak = await call("POST", "/sftp-users", { username: "weak", password: "short" });
    assert.equal(weak.status, 400);
    assert.match(weak.body.message, /at least 12 characters/);

    assert.equal(
      (await call("POST", "/sftp-users", { username: "shared-name", password: "a long password 12" })).status,
      201,
    );
    const taken = await call(
      "POST",
      "/sftp-users",
      { username: "shared-name", password: "a long password 12" },
      other,
    );
    assert.equal(taken.status, 409);
    assert.match(taken.body.message, /is taken/);
  });

  test("an embed link names the user and page, opens once while fresh, and is framed only by the account's origins", async () => {
    const bad = await call("POST", "/embed-tokens", { email: "agent@acme.example", page: "/settings/users" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /page must be an embeddable dashboard page/);
    assert.equal((await call("POST", "/embed-tokens", { email: "nobody@acme.example" })).status, 404);
    assert.equal(
      (await call("POST", "/embed-tokens", { email: "agent@acme.example" }, other)).status,
      404,
      "another account's key cannot make links for this account's users",
    );

    const made = await call("POST", "/embed-tokens", {
      email: "agent@acme.example",
      page: "/analyses",
      expires_in_seconds: 60,
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.headers.get("cache-control"), "no-store");
    const url = new URL(made.body.data.url);
    assert.equal(url.pathname, "/embed/analyses");
    const page = (path: string) => cqa.request("GET", path);
    const csp = (answer: { headers: Headers }) => answer.headers.get("content-security-policy") ?? "";

    const tampered = `${url.pathname}?embed_token=${made.body.data.embed_token.slice(0, -3)}abc`;
    const forged = await page(tampered);
    assert.match(csp(forged), /frame-ancestors 'self'(;|$)/, "a forged link lets no other origin frame cqa");
    assert.doesNotMatch(forged.text, /cqa-embed-session/);
    const otherPage = await page(`/embed/interactions/x?embed_token=${made.body.data.embed_token}`);
    assert.doesNotMatch(otherPage.text, /cqa-embed-session/, "a link opens only its own page");

    const opened = await page(`${url.pathname}${url.search}`);
    assert.equal(opened.status, 200);
    assert.match(csp(opened), /frame-ancestors 'self' https:\/\/ecc\.example\.com/);
    assert.equal(opened.headers.get("cache-control"), "no-store");
    const session = /<meta name="cqa-embed-session" content="([^"]+)">/.exec(opened.text);
    assert.ok(session, "the page carries the session the link was exchanged for");
    const handed = JSON.parse(session[1]!.replaceAll("&quot;", '"')) as { token: string; account_id: string };
    const me = await cqa.request("GET", `/api/v1/accounts/${account.accountId}/me`, { bearer: handed.token });
    assert.equal(me.body.data.email, "agent@acme.example");
    assert.equal(me.body.data.role, "agent");

    const again = await page(`${url.pathname}${url.search}`);
    assert.doesNotMatch(again.text, /cqa-embed-session/, "a link opens once");
    assert.match(
      csp(again),
      /frame-ancestors 'self' https:\/\/ecc\.example\.com/,
      "a reload is still framed",
    );

    const late = await call("POST", "/embed-tokens", { email: "agent@acme.example", expires_in_seconds: 30 });
    clock.advance(31_000);
    const lateUrl = new URL(late.body.data.url);
    assert.doesNotMatch(
      (await page(`${lateUrl.pathname}${lateUrl.search}`)).text,
      /cqa-embed-session/,
      "an expired link opens nothing",
    );

    const plain = await page("/embed/analyses");
    assert.match(csp(plain), /frame-ancestors 'self'(;|$)/);
    assert.match(csp(await page("/analyses")), /frame-ancestors 'self'(;|$)/);
  });
});
