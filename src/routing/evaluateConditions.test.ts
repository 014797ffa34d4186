import assert from "node:assert/strict";
import { test } from "node:test";
import type { Condition, ConditionGroup, RoutableInteraction } from "../core/assignment.ts";
import { evaluateConditions } from "./evaluateConditions.ts";

const call: RoutableInteraction = {
  externalInteractionId: "call-001",
  channelType: "VOICE",
  source: "genesys",
  language: "en",
  durationSeconds: 300,
  integrationId: null,
  metadata: {
    region: "south",
    campaign_id: "100",
    score: 42,
    vip: "TRUE",
    escalated: false,
    queue: "  Billing ",
    called_at: "2026-04-01T10:30:00Z",
    blank: "",
  },
};

function holds(condition: Condition, interaction: RoutableInteraction = call): boolean {
  return evaluateConditions({ all: [condition] }, interaction).matched;
}

test("eq compares text trimmed and case-insensitively", () => {
  assert.equal(holds({ field: "channel_type", operator: "eq", value: "voice" }), true);
  assert.equal(holds({ field: "metadata.queue", operator: "eq", value: "billing" }), true);
  assert.equal(holds({ field: "source", operator: "eq", value: "five9" }), false);
});

test("eq reads numeric strings as numbers and 'true'/'false' as booleans", () => {
  assert.equal(holds({ field: "metadata.campaign_id", operator: "eq", value: 100 }), true);
  assert.equal(holds({ field: "metadata.score", operator: "eq", value: "42" }), true);
  assert.equal(holds({ field: "metadata.vip", operator: "eq", value: true }), true);
  assert.equal(holds({ field: "metadata.escalated", operator: "eq", value: "false" }), true);
  assert.equal(holds({ field: "metadata.escalated", operator: "eq", value: true }), false);
});

test("neq, in and not_in", () => {
  assert.equal(holds({ field: "channel_type", operator: "neq", value: "CHAT" }), true);
  assert.equal(holds({ field: "channel_type", operator: "neq", value: "Voice" }), false);
  assert.equal(holds({ field: "language", operator: "in", value: ["hi", "EN"] }), true);
  assert.equal(holds({ field: "language", operator: "in", value: ["hi", "es"] }), false);
  assert.equal(holds({ field: "metadata.campaign_id", operator: "in", value: [99, 100] }), true);
  assert.equal(holds({ field: "language", operator: "not_in", value: ["hi", "es"] }), true);
  assert.equal(holds({ field: "language", operator: "not_in", value: ["en"] }), false);
});

test("contains finds text regardless of case", () => {
  assert.equal(holds({ field: "source", operator: "contains", value: "GENES" }), true);
  assert.equal(holds({ field: "source", operator: "contains", value: "five" }), false);
});

test("gt, gte, lt, lte and between compare numbers, including numeric strings", () => {
  assert.equal(holds({ field: "duration_seconds", operator: "gt", value: 299 }), true);
  assert.equal(holds({ field: "duration_seconds", operator: "gt", value: 300 }), false);
  assert.equal(holds({ field: "duration_seconds", operator: "gte", value: 300 }), true);
  assert.equal(holds({ field: "duration_seconds", operator: "lt", value: 300 }), false);
  assert.equal(holds({ field: "duration_seconds", operator: "lte", value: 300 }), true);
  assert.equal(
    holds({ field: "duration_seconds", operator: "between", value: [300, 600] }),
    true,
    "inclusive",
  );
  assert.equal(holds({ field: "duration_seconds", operator: "between", value: [301, 600] }), false);
  assert.equal(holds({ field: "metadata.campaign_id", operator: "gt", value: 99.5 }), true);
  assert.equal(holds({ field: "metadata.region", operator: "gt", value: 1 }), false, "text is not a number");
});

test("gt and lt compare ISO dates as instants", () => {
  assert.equal(holds({ field: "metadata.called_at", operator: "gt", value: "2026-04-01" }), true);
  assert.equal(
    holds({ field: "metadata.called_at", operator: "lt", value: "2026-04-01T16:00:00+05:30" }),
    false,
  );
  assert.equal(
    holds({ field: "metadata.called_at", operator: "lte", value: "2026-04-01T16:00:00+05:30" }),
    true,
  );
  assert.equal(
    holds({ field: "metadata.called_at", operator: "between", value: ["2026-04-01", "2026-04-02"] }),
    true,
  );
});

test("a missing field fails every operator except neq, not_in and not_exists", () => {
  const passing = new Set(["neq", "not_in", "not_exists"]);
  const probes: Condition[] = [
    { field: "metadata.team", operator: "eq", value: "x" },
    { field: "metadata.team", operator: "neq", value: "x" },
    { field: "metadata.team", operator: "in", value: ["x"] },
    { field: "metadata.team", operator: "not_in", value: ["x"] },
    { field: "metadata.team", operator: "contains", value: "x" },
    { field: "metadata.team", operator: "gt", value: 1 },
    { field: "metadata.team", operator: "gte", value: 1 },
    { field: "metadata.team", operator: "lt", value: 1 },
    { field: "metadata.team", operator: "lte", value: 1 },
    { field: "metadata.team", operator: "between", value: [1, 2] },
    { field: "metadata.team", operator: "exists" },
    { field: "metadata.team", operator: "not_exists" },
  ];
  for (const probe of probes) {
    assert.equal(holds(probe), passing.has(probe.operator), probe.operator);
  }
  assert.equal(holds({ field: "integration_id", operator: "exists" }), false, "null counts as missing");
  assert.equal(holds({ field: "metadata.blank", operator: "exists" }), false, "blank text counts as missing");
  assert.equal(holds({ field: "metadata.region", operator: "exists" }), true);
});

test("metadata keys match across case when there is no exact key", () => {
  assert.equal(holds({ field: "metadata.Region", operator: "eq", value: "south" }), true);
});

test("AND fails on the first failing condition and names its actual value", () => {
  const group: ConditionGroup = {
    all: [
      { field: "channel_type", operator: "eq", value: "VOICE" },
      { field: "metadata.region", operator: "eq", value: "north" },
      { field: "language", operator: "eq", value: "hi" },
    ],
  };
  assert.deepEqual(evaluateConditions(group, call), {
    matched: false,
    reason: 'metadata.region is "south", wants "north"',
  });
});

test("a missing field is reported as missing", () => {
  const verdict = evaluateConditions(
    { all: [{ field: "metadata.team", operator: "eq", value: "retention" }] },
    call,
  );
  assert.equal(verdict.reason, 'metadata.team is missing, wants "retention"');
});

test("OR matches when any alternative matches, and says so when none does", () => {
  const either: ConditionGroup = {
    any: [
      { field: "channel_type", operator: "eq", value: "CHAT" },
      { field: "duration_seconds", operator: "gt", value: 120 },
    ],
  };
  assert.deepEqual(evaluateConditions(either, call), { matched: true, reason: "duration_seconds is 300" });
  const neither: ConditionGroup = {
    any: [
      { field: "channel_type", operator: "eq", value: "CHAT" },
      { field: "duration_seconds", operator: "gt", value: 600 },
    ],
  };
  const verdict = evaluateConditions(neither, call);
  assert.equal(verdict.matched, false);
  assert.match(verdict.reason, /^none of the 2 alternatives matched/);
  assert.match(verdict.reason, /channel_type is "VOICE", wants "CHAT"/);
});

test("nested groups: (VOICE and long) or (CHAT and south)", () => {
  const group: ConditionGroup = {
    any: [
      {
        all: [
          { field: "channel_type", operator: "eq", value: "VOICE" },
          { field: "duration_seconds", operator: "gte", value: 600 },
        ],
      },
      {
        all: [
          { field: "channel_type", operator: "eq", value: "CHAT" },
          { field: "metadata.region", operator: "eq", value: "south" },
        ],
      },
    ],
  };
  assert.equal(evaluateConditions(group, call).matched, false);
  assert.equal(evaluateConditions(group, { ...call, channelType: "CHAT" }).matched, true);
  assert.equal(evaluateConditions(group, { ...call, durationSeconds: 900 }).matched, true);
});

test("an empty all group matches everything", () => {
  assert.deepEqual(evaluateConditions({ all: [] }, call), {
    matched: true,
    reason: "no conditions, so every interaction matches",
  });
});
