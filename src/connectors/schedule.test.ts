import assert from "node:assert/strict";
import { test } from "node:test";
import { nextRunAfter, scheduleSchema } from "./schedule.ts";

test("a daily schedule fires at the local time of the account's zone, the next day once past", () => {
  const schedule = { type: "daily" as const, at: "02:30" };
  // 02:30 in Kolkata is 21:00 UTC the day before.
  assert.equal(
    nextRunAfter(schedule, new Date("2026-05-01T12:00:00Z"), "Asia/Kolkata")?.toISOString(),
    "2026-05-01T21:00:00.000Z",
  );
  assert.equal(
    nextRunAfter(schedule, new Date("2026-05-01T21:00:00Z"), "Asia/Kolkata")?.toISOString(),
    "2026-05-02T21:00:00.000Z",
  );
});

test("an interval schedule fires every N seconds; no schedule never fires", () => {
  const at = new Date("2026-05-01T00:00:00Z");
  assert.equal(
    nextRunAfter({ type: "interval", every_seconds: 300 }, at, "UTC")?.toISOString(),
    "2026-05-01T00:05:00.000Z",
  );
  assert.equal(nextRunAfter(null, at, "UTC"), null);
});

test("bad schedules are refused with a message that shows the right form", () => {
  for (const bad of [
    { type: "daily", at: "25:00" },
    { type: "interval", every_seconds: 5 },
    { type: "weekly" },
    "daily",
  ]) {
    const result = scheduleSchema.safeParse(bad);
    assert.equal(result.success, false, JSON.stringify(bad));
  }
  assert.equal(scheduleSchema.safeParse(null).success, true);
});
