import assert from "node:assert/strict";
import { test } from "node:test";
import { formatInTimeZone, isValidTimeZone, offsetMinutes, startOfLocalDay } from "./time.ts";

test("formats an instant in the account's time zone with its offset", () => {
  const at = new Date("2026-05-29T11:46:46.259Z");
  assert.equal(formatInTimeZone(at, "Asia/Kolkata"), "2026-05-29T17:16:46.259+05:30");
  assert.equal(formatInTimeZone(at, "UTC"), "2026-05-29T11:46:46.259+00:00");
  assert.equal(formatInTimeZone(at, "America/New_York"), "2026-05-29T07:46:46.259-04:00");
});

test("finds local midnight across daylight-saving changes", () => {
  assert.equal(startOfLocalDay(2026, 3, 8, "America/New_York").toISOString(), "2026-03-08T05:00:00.000Z");
  assert.equal(startOfLocalDay(2026, 3, 9, "America/New_York").toISOString(), "2026-03-09T04:00:00.000Z");
  assert.equal(startOfLocalDay(2026, 4, 1, "Asia/Kolkata").toISOString(), "2026-03-31T18:30:00.000Z");
  assert.equal(offsetMinutes(new Date("2026-01-01T00:00:00Z"), "Asia/Kolkata"), 330);
});

test("knows which zone names are real", () => {
  assert.equal(isValidTimeZone("Europe/Berlin"), true);
  assert.equal(isValidTimeZone("Mars/Olympus"), false);
});
