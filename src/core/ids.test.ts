import assert from "node:assert/strict";
import { test } from "node:test";
import { isUuid, newId } from "./ids.ts";

test("newId gives distinct version-7 UUIDs that sort by creation time", () => {
  const ids = Array.from({ length: 5000 }, () => newId());
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) {
    assert.ok(isUuid(id), id);
    assert.equal(id[14], "7");
  }
  assert.deepEqual([...ids].sort(), ids);
});

test("isUuid refuses external ids that only look similar", () => {
  assert.equal(isUuid("call-2026-04-01-001"), false);
  assert.equal(isUuid("550e8400-e29b-41d4-a716-446655440000"), true);
});
