import assert from "node:assert/strict";
import { test } from "node:test";
import { RedirectRefused, safeTargetPath, signRedirectToken, verifyRedirectToken } from "./redirectLink.ts";

const secret = "a-redirect-secret-of-at-least-32-characters";
const now = new Date("2026-05-10T10:00:00Z");
const at = Math.floor(now.getTime() / 1000);
const claims = {
  int: "0195f0e0-0000-7000-8000-000000000001",
  sub: "ana@acme.example",
  iat: at,
  exp: at + 60,
  nonce: "n-123456789",
};
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof RedirectRefused ? error.reason : `other: ${String(error)}`;
  }
  return "accepted";
};

test("a link signed with the secret is accepted; changed, expired, too long-lived or malformed ones are not", () => {
  const token = signRedirectToken(claims, secret);
  assert.equal(verifyRedirectToken(token, secret, now, 300).sub, "ana@acme.example");
  assert.equal(
    refusal(() => verifyRedirectToken(token, "another-secret-of-at-least-32-characters", now, 300)),
    "tampered",
  );
  const [payload, signature] = token.split(".");
  const changed = Buffer.from(JSON.stringify({ ...claims, sub: "boss@acme.example" })).toString("base64url");
  assert.equal(
    refusal(() => verifyRedirectToken(`${changed}.${signature}`, secret, now, 300)),
    "tampered",
  );
  assert.equal(
    refusal(() => verifyRedirectToken(token, secret, new Date(now.getTime() + 61_000), 300)),
    "expired",
  );
  const longLived = signRedirectToken({ ...claims, exp: at + 3600 }, secret);
  assert.equal(
    refusal(() => verifyRedirectToken(longLived, secret, now, 300)),
    "expired",
  );
  assert.equal(
    refusal(() => verifyRedirectToken(`${payload}`, secret, now, 300)),
    "malformed",
  );
  assert.equal(
    refusal(() => verifyRedirectToken("e30.abc", secret, now, 300)),
    "malformed",
  );
});

test("the landing page is a local dashboard path: other sites and the API are never a target", () => {
  assert.equal(safeTargetPath("/analyses/0195f0e0?tab=kpis"), "/analyses/0195f0e0?tab=kpis");
  assert.equal(safeTargetPath(undefined), "/analyses");
  for (const bad of [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "/api/v1/accounts",
    "javascript:alert(1)",
  ]) {
    assert.equal(safeTargetPath(bad), "/analyses", bad);
  }
});
