import assert from "node:assert/strict";
import { test } from "node:test";
import { Wakeup } from "./wakeup.ts";

test("a ring while the loop is busy is not lost: its next wait returns at once", async () => {
  const wakeup = new Wakeup();
  wakeup.ring();
  const started = performance.now();
  await wakeup.wait(60_000);
  assert.ok(performance.now() - started < 1_000);
});

test("a ring ends a wait under way; without one the wait ends at its timeout", async () => {
  const wakeup = new Wakeup();
  const waiting = wakeup.wait(60_000);
  wakeup.ring();
  await waiting;
  const started = performance.now();
  await wakeup.wait(20);
  assert.ok(performance.now() - started >= 15, "nothing rang: the wait lasted its timeout");
});

test("many rings while busy make one early return, not a run of them", async () => {
  const wakeup = new Wakeup();
  wakeup.ring();
  wakeup.ring();
  await wakeup.wait(60_000);
  const started = performance.now();
  await wakeup.wait(20);
  assert.ok(performance.now() - started >= 15);
});
