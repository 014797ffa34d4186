import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import type { AssignmentRule } from "../core/assignment.ts";
import { AppError } from "../core/errors.ts";
import {
  assignmentRuleInputSchema,
  assignmentRuleToApi,
  parseAssignmentRule,
  parseAssignmentRulePatch,
} from "./ruleSchema.ts";

const profileId = "550e8400-e29b-41d4-a716-446655440000";

function base(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "Sales calls",
    priority: 10,
    conditions: [{ field: "channel_type", operator: "eq", value: "VOICE" }],
    profile_ids: [profileId],
    ...overrides,
  };
}

/** The VALIDATION_ERROR message for an invalid rule. */
function problemsOf(input: unknown): string {
  try {
    parseAssignmentRule(input);
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "VALIDATION_ERROR");
    return error.message;
  }
  assert.fail("the rule was accepted");
}

test("a minimal rule gets the documented defaults and a plain array becomes an all group", () => {
  assert.deepEqual(parseAssignmentRule(base()), {
    name: "Sales calls",
    priority: 10,
    enabled: true,
    conditions: { all: [{ field: "channel_type", operator: "eq", value: "VOICE" }] },
    profileIds: [profileId],
    samplingPercent: 100,
    stopOnMatch: true,
  });
});

test("an empty condition list is accepted and matches everything", () => {
  assert.deepEqual(parseAssignmentRule(base({ conditions: [] })).conditions, { all: [] });
});

test("nested groups up to depth 5 are accepted, depth 6 is refused", () => {
  const leaf = { field: "source", operator: "exists" };
  const nest = (depth: number): unknown => (depth === 1 ? { all: [leaf] } : { any: [nest(depth - 1)] });
  assert.ok(parseAssignmentRule(base({ conditions: nest(5) })));
  assert.match(
    problemsOf(base({ conditions: nest(6) })),
    /conditions nests groups 6 levels deep, more than the 5 allowed/,
  );
});

test("the round trip through the API shape keeps every field", () => {
  const parsed = parseAssignmentRule(
    base({ enabled: false, sampling_percent: 12.5, stop_on_match: false, reviewer: { team: "QA North" } }),
  );
  const stored: AssignmentRule = { id: "0197a000-0000-7000-8000-000000000001", ...parsed };
  assert.deepEqual(assignmentRuleToApi(stored), {
    id: stored.id,
    name: "Sales calls",
    priority: 10,
    enabled: false,
    conditions: { all: [{ field: "channel_type", operator: "eq", value: "VOICE" }] },
    profile_ids: [profileId],
    sampling_percent: 12.5,
    stop_on_match: false,
    reviewer: { team: "QA North" },
  });
  const withoutReviewer: AssignmentRule = { id: stored.id, ...parseAssignmentRule(base()) };
  assert.equal(assignmentRuleToApi(withoutReviewer).reviewer, null);
});

test("an unknown field lists the allowed ones and suggests metadata", () => {
  const message = problemsOf(base({ conditions: [{ field: "region", operator: "eq", value: "north" }] }));
  assert.match(message, /conditions\.all\[0\]\.field "region" is not a field rules can test/);
  assert.match(
    message,
    /channel_type, source, language, duration_seconds, integration_id or metadata\.<key>/,
  );
  assert.match(message, /write "metadata\.region"/);
});

test("an unknown operator lists the operators", () => {
  const message = problemsOf(base({ conditions: [{ field: "source", operator: "equals", value: "x" }] }));
  assert.match(message, /conditions\.all\[0\]\.operator must be one of eq, neq, in, not_in/);
});

test("operator and value must fit, with a message saying how", () => {
  const cases: [unknown, RegExp][] = [
    [{ field: "duration_seconds", operator: "between", value: [300, 60] }, /min 300 greater than max 60/],
    [
      { field: "duration_seconds", operator: "between", value: [60] },
      /must be \[min, max\] with two numbers/,
    ],
    [{ field: "language", operator: "in", value: [] }, /must be a non-empty array for in/],
    [
      { field: "language", operator: "not_in", value: [{ a: 1 }] },
      /must list only strings, numbers or true\/false/,
    ],
    [{ field: "source", operator: "exists", value: "x" }, /must be left out: exists takes no value/],
    [{ field: "duration_seconds", operator: "gt", value: "60" }, /value must be a number for gt/],
    [{ field: "metadata.opened_at", operator: "gt", value: "yesterday" }, /number or an ISO-8601 date/],
    [
      { field: "source", operator: "gt", value: 3 },
      /gt compares numbers or dates, so it works only on duration_seconds/,
    ],
    [{ field: "duration_seconds", operator: "eq", value: "300" }, /must be a number for duration_seconds/],
    [{ field: "source", operator: "eq" }, /value is required for eq/],
    [{ field: "source", operator: "eq", value: " " }, /must not be empty \(use not_exists/],
    [{ field: "metadata.", operator: "exists" }, /must name a metadata key/],
    [{ field: "source", operator: "eq", value: "x", all: [] }, /mixes a group/],
    [{ all: [], any: [] }, /either all or any, not both/],
  ];
  for (const [condition, expected] of cases) {
    assert.match(problemsOf(base({ conditions: [condition] })), expected, JSON.stringify(condition));
  }
});

test("metadata comparisons accept ISO dates", () => {
  const rule = parseAssignmentRule(
    base({
      conditions: {
        any: [{ field: "metadata.opened_at", operator: "between", value: ["2026-01-01", "2026-02-01"] }],
      },
    }),
  );
  assert.deepEqual(rule.conditions, {
    any: [{ field: "metadata.opened_at", operator: "between", value: ["2026-01-01", "2026-02-01"] }],
  });
});

test("rule-level limits: name, profiles, sampling decimals, unknown keys", () => {
  const message = problemsOf({
    name: "",
    priority: 1.5,
    conditions: [],
    profile_ids: ["not-a-uuid"],
    sampling_percent: 12.345,
    profiles: [],
  });
  assert.match(message, /name must not be empty/);
  assert.match(message, /priority must be a whole number/);
  assert.match(message, /profile_ids\[0\] must be a quality profile id \(a UUID\)/);
  assert.match(message, /sampling_percent must have at most 2 decimals/);
  assert.match(message, /unknown field\(s\): profiles/);
  assert.match(problemsOf(base({ profile_ids: [] })), /profile_ids must contain at least 1 item/);
  assert.match(problemsOf(base({ sampling_percent: 101 })), /sampling_percent must be at most 100/);
  assert.match(problemsOf(base({ reviewer: {} })), /reviewer must name a user_id or a team/);
});

test("a PATCH returns only the fields sent, and must send one", () => {
  assert.deepEqual(parseAssignmentRulePatch({ enabled: false, reviewer: null }), {
    enabled: false,
    reviewer: null,
  });
  assert.deepEqual(parseAssignmentRulePatch({ conditions: [] }), { conditions: { all: [] } });
  assert.throws(() => parseAssignmentRulePatch({}), /must change at least one field/);
  assert.throws(
    () => parseAssignmentRulePatch({ sampling_percent: -1 }),
    /sampling_percent must be at least 0/,
  );
});

test("the input schema converts to JSON Schema for the API docs", () => {
  const schema = z.toJSONSchema(assignmentRuleInputSchema, { io: "input" }) as {
    properties: Record<string, { default?: unknown }>;
    required: string[];
    $defs: Record<string, { properties: Record<string, { enum?: string[] }> }>;
  };
  assert.deepEqual(Object.keys(schema.properties).sort(), [
    "conditions",
    "enabled",
    "name",
    "priority",
    "profile_ids",
    "reviewer",
    "sampling_percent",
    "stop_on_match",
  ]);
  assert.ok(schema.required.includes("profile_ids"));
  assert.equal(schema.properties["sampling_percent"]?.default, 100);
  const node = Object.values(schema.$defs)[0];
  assert.ok(node?.properties["operator"]?.enum?.includes("between"));
});
