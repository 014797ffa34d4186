import assert from "node:assert/strict";
import { test } from "node:test";
import type { AssignmentRule, RoutableInteraction } from "../core/assignment.ts";
import { routeInteraction, samplingBucket } from "./routeInteraction.ts";

const salesProfile = "11111111-1111-4111-8111-111111111111";
const complianceProfile = "22222222-2222-4222-8222-222222222222";
const defaultProfile = "33333333-3333-4333-8333-333333333333";

function rule(overrides: Partial<AssignmentRule> & Pick<AssignmentRule, "id" | "priority">): AssignmentRule {
  return {
    name: overrides.id,
    enabled: true,
    conditions: { all: [] },
    profileIds: [defaultProfile],
    samplingPercent: 100,
    stopOnMatch: true,
    ...overrides,
  };
}

const call: RoutableInteraction = {
  externalInteractionId: "call-001",
  channelType: "VOICE",
  source: "genesys",
  language: "en",
  durationSeconds: 300,
  integrationId: null,
  metadata: { region: "south", campaign: "sales-q2" },
};

const salesCalls = rule({
  id: "r-sales",
  name: "Sales calls",
  priority: 10,
  conditions: { all: [{ field: "metadata.campaign", operator: "contains", value: "sales" }] },
  profileIds: [salesProfile],
});

test("the first matching rule by priority applies and stops evaluation", () => {
  const catchAll = rule({ id: "r-all", name: "Everything", priority: 100 });
  const decision = routeInteraction([catchAll, salesCalls], call);
  assert.deepEqual(decision.profileIds, [salesProfile]);
  assert.deepEqual(decision.matchedRuleIds, ["r-sales"]);
  assert.equal(decision.notAnalysedReason, null);
  assert.equal(decision.summary, 'Matched rule "Sales calls" (priority 10) → 1 profile(s).');
  assert.deepEqual(
    decision.trace.map((t) => [t.ruleId, t.outcome]),
    [
      ["r-sales", "matched"],
      ["r-all", "skipped_after_stop"],
    ],
  );
  assert.match(decision.trace[1]!.reason, /"Sales calls" applied first/);
});

test("equal priorities run in id order", () => {
  const b = rule({ id: "b", priority: 1, profileIds: [complianceProfile] });
  const a = rule({ id: "a", priority: 1, profileIds: [salesProfile] });
  assert.deepEqual(routeInteraction([b, a], call).profileIds, [salesProfile]);
});

test("without stop_on_match later rules add their profiles, each profile once", () => {
  const rules = [
    rule({ id: "r1", priority: 1, stopOnMatch: false, profileIds: [salesProfile, complianceProfile] }),
    rule({ id: "r2", priority: 2, stopOnMatch: false, profileIds: [complianceProfile, defaultProfile] }),
  ];
  const decision = routeInteraction(rules, call);
  assert.deepEqual(decision.profileIds, [salesProfile, complianceProfile, defaultProfile]);
  assert.deepEqual(decision.matchedRuleIds, ["r1", "r2"]);
  assert.equal(decision.summary, 'Matched rules "r1" (priority 1) and "r2" (priority 2) → 3 profile(s).');
});

test("disabled rules are traced and skipped; only disabled rules means no_rules", () => {
  const off = rule({ id: "off", priority: 1, enabled: false });
  const decision = routeInteraction([off], call);
  assert.deepEqual(decision.profileIds, []);
  assert.equal(decision.notAnalysedReason, "no_rules");
  assert.deepEqual(decision.trace, [
    { ruleId: "off", ruleName: "off", outcome: "disabled", reason: "the rule is disabled" },
  ]);
  assert.equal(decision.summary, "Not analysed: there are no enabled assignment rules.");
  assert.equal(routeInteraction([], call).notAnalysedReason, "no_rules");
});

test("no match: the summary names the closest rule and the value that failed", () => {
  const north = rule({
    id: "north",
    name: "North region",
    priority: 5,
    conditions: {
      all: [
        { field: "channel_type", operator: "eq", value: "VOICE" },
        { field: "metadata.region", operator: "eq", value: "north" },
      ],
    },
  });
  const chats = rule({
    id: "chats",
    name: "Chats",
    priority: 1,
    conditions: {
      all: [
        { field: "channel_type", operator: "eq", value: "CHAT" },
        { field: "language", operator: "eq", value: "hi" },
      ],
    },
  });
  const decision = routeInteraction([north, chats], call);
  assert.equal(decision.notAnalysedReason, "no_rule_matched");
  assert.equal(
    decision.summary,
    'Not analysed: no rule matched. Closest: rule "North region" failed on metadata.region is "south", wants "north".',
  );
  assert.deepEqual(
    decision.trace.map((t) => [t.ruleId, t.outcome, t.reason]),
    [
      ["chats", "not_matched", 'channel_type is "VOICE", wants "CHAT"'],
      ["north", "not_matched", 'metadata.region is "south", wants "north"'],
    ],
  );
});

test("samplingBucket is deterministic, within [0, 100) and has 2 decimals", () => {
  const bucket = samplingBucket("rule-1", "call-001");
  assert.equal(samplingBucket("rule-1", "call-001"), bucket);
  assert.notEqual(samplingBucket("rule-2", "call-001"), bucket, "rules sample independently");
  for (let i = 0; i < 1000; i++) {
    const b = samplingBucket("rule-1", `call-${i}`);
    assert.ok(b >= 0 && b < 100, String(b));
    assert.equal(Math.round(b * 100) / 100, b);
  }
});

test("a 30 % rule analyses about 30 % of 10,000 conversations", () => {
  const sampled = rule({ id: "sample-30", priority: 1, samplingPercent: 30 });
  let analysed = 0;
  for (let i = 0; i < 10_000; i++) {
    const decision = routeInteraction([sampled], { ...call, externalInteractionId: `conv-${i}` });
    if (decision.profileIds.length > 0) analysed++;
  }
  assert.ok(analysed >= 2800 && analysed <= 3200, `${analysed} of 10000 analysed`);
});

test("a sampled-out match is traced with its bucket and does not stop later rules", () => {
  const tenPercent = rule({ id: "ten", name: "10% of calls", priority: 1, samplingPercent: 10 });
  const escalations = rule({ id: "esc", name: "Escalations", priority: 2, profileIds: [complianceProfile] });
  // Find a conversation outside the 10 % sample of rule "ten".
  let id = 0;
  while (samplingBucket("ten", `c-${id}`) < 10) id++;
  const conversation = { ...call, externalInteractionId: `c-${id}` };
  const decision = routeInteraction([tenPercent, escalations], conversation);
  assert.deepEqual(decision.profileIds, [complianceProfile]);
  const [first, second] = decision.trace;
  assert.equal(first?.outcome, "sampled_out");
  assert.equal(first?.samplingBucket, samplingBucket("ten", `c-${id}`));
  assert.match(first?.reason ?? "", /outside the 10% sample/);
  assert.equal(second?.outcome, "matched");
});

test("when every match is sampled out the reason is sampled_out", () => {
  const none = rule({ id: "zero", name: "Nothing sampled", priority: 1, samplingPercent: 0 });
  const decision = routeInteraction([none], call);
  assert.deepEqual(decision.profileIds, []);
  assert.equal(decision.notAnalysedReason, "sampled_out");
  assert.match(decision.summary, /^Not analysed: sampled out — rule "Nothing sampled" matched/);
});

test("100 % sampling analyses every match without a bucket in the trace", () => {
  const decision = routeInteraction([salesCalls], call);
  assert.equal(decision.trace[0]?.samplingBucket, undefined);
  assert.equal(decision.trace[0]?.reason, 'metadata.campaign is "sales-q2"');
});
