import assert from "node:assert/strict";
import { test } from "node:test";
import { InboxPathError, isTemporaryName, resolveInboxPath } from "./inboxPaths.ts";

test("paths resolve inside the inbox; . and .. within it are followed", () => {
  assert.equal(resolveInboxPath("."), "/");
  assert.equal(resolveInboxPath(""), "/");
  assert.equal(resolveInboxPath("/reports//vla.csv"), "/reports/vla.csv");
  assert.equal(resolveInboxPath("reports/./x/../vla.csv"), "/reports/vla.csv");
  assert.equal(resolveInboxPath("vla.csv", "/reports"), "/reports/vla.csv");
  assert.equal(resolveInboxPath("/etc/passwd"), "/etc/passwd", "an absolute path is inside the jail too");
});

test("every way out of the inbox, and every name that is not a plain name, is refused", () => {
  const refused = [
    "..",
    "/..",
    "../x",
    "/a/../../x",
    "%2e%2e/x",
    "..%2fx",
    "a\\..\\..\\x",
    "\u2025/x",
    "\uff0e\uff0e/x",
    "a\u0000b",
    "a\nb",
    " leading",
    "trailing ",
    `${"deep/".repeat(17)}x`,
    "x".repeat(300),
  ];
  for (const path of refused)
    assert.throws(() => resolveInboxPath(path), InboxPathError, JSON.stringify(path));
});

test("names uploads are in while still being written are temporary", () => {
  for (const name of [
    "vla.csv.part",
    "vla.csv.filepart",
    ".vla.csv.X7f3",
    "~vla.csv",
    "vla.tmp",
    "vla.csv.partial",
  ]) {
    assert.ok(isTemporaryName(name), name);
  }
  for (const name of ["vla.csv", "vla_2026-04-01.csv", "report.partition.csv"])
    assert.ok(!isTemporaryName(name), name);
});
