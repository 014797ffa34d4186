import assert from "node:assert/strict";
import { test } from "node:test";
import { dateFormatProblem, formatTime, parseDuration, parseTime } from "./dateTimes.ts";

const iso = (value: Date | string) => (typeof value === "string" ? value : value.toISOString());

test("times in a pattern are local to the time zone; offsets in ISO times win", () => {
  assert.equal(
    iso(parseTime("2026-04-01 09:07:00", "yyyy-MM-dd HH:mm:ss", "Asia/Kolkata")),
    "2026-04-01T03:37:00.000Z",
  );
  assert.equal(iso(parseTime("01/04/2026 9:07", "dd/MM/yyyy H:mm", "UTC")), "2026-04-01T09:07:00.000Z");
  assert.equal(
    iso(parseTime("04/01/2026 09:07:05 PM", "MM/dd/yyyy hh:mm:ss a", "UTC")),
    "2026-04-01T21:07:05.000Z",
  );
  assert.equal(
    iso(parseTime("2026-04-01T09:07:00+02:00", "iso", "Asia/Kolkata")),
    "2026-04-01T07:07:00.000Z",
  );
  assert.equal(iso(parseTime("2026-04-01T09:07:00", "iso", "Europe/Berlin")), "2026-04-01T07:07:00.000Z");
  assert.equal(iso(parseTime("1775000000", "epoch_seconds", "UTC")), "2026-03-31T23:33:20.000Z");
  // Across the spring-forward change in Europe/Berlin.
  assert.equal(
    iso(parseTime("2026-03-29 03:30:00", "yyyy-MM-dd HH:mm:ss", "Europe/Berlin")),
    "2026-03-29T01:30:00.000Z",
  );
});

test("a time that does not fit its format says so", () => {
  assert.match(String(parseTime("01/04/2026", "yyyy-MM-dd HH:mm:ss", "UTC")), /does not match date_format/);
  assert.match(String(parseTime("2026-02-30 10:00:00", "yyyy-MM-dd HH:mm:ss", "UTC")), /not a real date/);
  assert.match(String(parseTime("yesterday", "iso", "UTC")), /not an ISO-8601 time/);
});

test("date formats are checked when the integration is configured", () => {
  assert.equal(dateFormatProblem("dd.MM.yyyy HH:mm"), null);
  assert.match(String(dateFormatProblem("HH:mm")), /has no year, month, day/);
  assert.match(String(dateFormatProblem("yyyy-MM-dd hh:mm")), /12-hour/);
});

test("a time written back for an API round-trips through its format", () => {
  const at = new Date("2026-04-01T03:37:09.000Z");
  for (const format of ["yyyy-MM-dd HH:mm:ss", "dd/MM/yyyy hh:mm:ss a", "iso", "epoch_seconds"]) {
    assert.equal(
      iso(parseTime(formatTime(at, format, "Asia/Kolkata"), format, "Asia/Kolkata")),
      at.toISOString(),
      format,
    );
  }
  assert.equal(formatTime(at, "yyyy-MM-dd HH:mm:ss", "Asia/Kolkata"), "2026-04-01 09:07:09");
});

test("call lengths are seconds, h:mm:ss or m:ss", () => {
  assert.equal(parseDuration("125"), 125);
  assert.equal(parseDuration("125.4"), 125);
  assert.equal(parseDuration("2:05"), 125);
  assert.equal(parseDuration("01:02:05"), 3725);
  assert.match(String(parseDuration("about a minute")), /not a call length/);
});
