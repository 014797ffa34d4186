import assert from "node:assert/strict";
import { test } from "node:test";
import { generateToken, hashToken, timingSafeEqualStrings } from "./tokens.ts";

test("tokens are URL-safe, as long as asked and never repeat", () => {
  const token = generateToken();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(generateToken(16), "base64url").length, 16);
  assert.notEqual(generateToken(), token);
});

test("a token's hash is stable hex SHA-256 and differs between tokens", () => {
  const token = generateToken();
  assert.match(hashToken(token), /^[0-9a-f]{64}$/);
  assert.equal(hashToken(token), hashToken(token));
  assert.notEqual(hashToken(token), hashToken(generateToken()));
  assert.equal(hashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("timingSafeEqualStrings compares strings of any length", () => {
  assert.equal(timingSafeEqualStrings("secret", "secret"), true);
  assert.equal(timingSafeEqualStrings("secret", "secreT"), false);
  assert.equal(timingSafeEqualStrings("secret", "secret-longer"), false);
  assert.equal(timingSafeEqualStrings("", ""), true);
});
