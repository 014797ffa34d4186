import assert from "node:assert/strict";
import { test } from "node:test";
import { formatExoliteTime, monthWindows, parseExoliteTime } from "./windows.ts";

test("API times are read and written in the Exolite account's zone", () => {
  const instant = parseExoliteTime("2026-05-10 09:30:00", "Asia/Kolkata");
  assert.equal(instant?.toISOString(), "2026-05-10T04:00:00.000Z");
  assert.equal(formatExoliteTime(instant!, "Asia/Kolkata"), "2026-05-10 09:30:00");
  assert.equal(parseExoliteTime("10/05/2026", "Asia/Kolkata"), null);
  assert.equal(parseExoliteTime(null, "Asia/Kolkata"), null);
});

test("a range is split into windows shorter than a calendar month, back to back, to the second", () => {
  const from = new Date("2026-01-15T00:00:00Z");
  const to = new Date("2026-04-02T12:00:00Z");
  const windows = monthWindows(from, to, "UTC");
  assert.deepEqual(
    windows.map((w) => [w.gte, w.lte]),
    [
      ["2026-01-15 00:00:00", "2026-02-14 23:59:59"],
      ["2026-02-15 00:00:00", "2026-03-14 23:59:59"],
      ["2026-03-15 00:00:00", "2026-04-02 11:59:59"],
    ],
  );
  assert.deepEqual(monthWindows(to, to, "UTC"), []);
});
