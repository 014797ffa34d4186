import assert from "node:assert/strict";
import { scryptSync } from "node:crypto";
import { test } from "node:test";
import { hashPassword, passwordProblems, verifyPassword } from "./passwords.ts";

test("a hashed password verifies, and a wrong one does not", async () => {
  const stored = await hashPassword("correct horse battery staple");
  assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{86}==$/);
  assert.equal(await verifyPassword("correct horse battery staple", stored), true);
  assert.equal(await verifyPassword("correct horse battery stapl", stored), false);
  assert.equal(await verifyPassword("Correct horse battery staple", stored), false);
});

test("the same password hashes differently each time (salted)", async () => {
  const [a, b] = await Promise.all([hashPassword("same password 123"), hashPassword("same password 123")]);
  assert.notEqual(a, b);
});

test("verification uses the parameters stored with the hash, so they can change later", async () => {
  const salt = Buffer.from("0123456789abcdef");
  const hash = scryptSync("older cheaper hash", salt, 32, { N: 2 ** 14, r: 8, p: 2 });
  const stored = `scrypt$16384$8$2$${salt.toString("base64")}$${hash.toString("base64")}`;
  assert.equal(await verifyPassword("older cheaper hash", stored), true);
  assert.equal(await verifyPassword("older cheaper hasH", stored), false);
});

test("an unrecognised or absurd stored hash matches nothing instead of failing", async () => {
  const salt = Buffer.from("0123456789abcdef").toString("base64");
  const hash = Buffer.alloc(64).toString("base64");
  for (const stored of [
    "",
    "!",
    "bcrypt$2b$12$abc",
    `scrypt$1000$8$1$${salt}$${hash}`, // N not a power of two
    `scrypt$1073741824$8$1$${salt}$${hash}`, // N would need gigabytes
    `scrypt$32768$8$1$$${hash}`,
  ]) {
    assert.equal(await verifyPassword("anything at all", stored), false, stored);
  }
});

test("passwordProblems explains what a weak password lacks", () => {
  assert.deepEqual(passwordProblems("long enough passphrase"), []);
  assert.deepEqual(passwordProblems("short"), [
    "The password must be at least 12 characters long (it has 5).",
  ]);
  assert.deepEqual(passwordProblems("aaaaaaaaaaaaaaaa"), [
    "The password must not be a single character repeated.",
  ]);
  assert.deepEqual(passwordProblems("x".repeat(2000).replace(/^x/, "y")), [
    "The password must be at most 1024 characters long (it has 2000).",
  ]);
  assert.equal(
    passwordProblems("🔒🔒🔒🔒🔒🔒🔒🔒🔒🔒🔒a").length,
    0,
    "length counts characters, not UTF-16 units",
  );
  assert.equal(passwordProblems("🔒🔒🔒🔒🔒🔒").length, 2);
});
