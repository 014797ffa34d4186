import assert from "node:assert/strict";
import { test } from "node:test";
import type { KpiResult } from "../core/qualityProfile.ts";
import { badCallPlain, chatJson, goodCallPlain, goodCallSrt, holdCallVtt } from "./fixtures/calls.ts";
import { parseProfileDefinition, profileDefinitionToApi } from "./profileSchema.ts";
import { rollUp, scoreProfile } from "./scoring/scoreProfile.ts";
import { starterProfileDefinition } from "./starterProfile.ts";
import { parseTranscript } from "./transcript/parseTranscript.ts";

const starter = starterProfileDefinition();

function score(text: string, channelType = "VOICE") {
  const results = scoreProfile(starter, {
    transcript: parseTranscript(text),
    channelType,
    durationSeconds: null,
  });
  return { results, scores: rollUp(starter, results, []) };
}

function answers(results: KpiResult[]): Record<string, string> {
  return Object.fromEntries(results.map((r) => [r.kpiId, r.answer]));
}

test("the starter profile is a valid profile of six KPIs in four categories", () => {
  assert.deepEqual(
    starter.categories.map((c) => c.name),
    ["Opening", "Compliance", "Soft skills", "Closing"],
  );
  const kpis = starter.categories.flatMap((c) => c.subCategories.flatMap((s) => s.kpis));
  assert.deepEqual(
    kpis.map((k) => [k.id, k.criticality, k.allowNa]),
    [
      ["greeting", "normal", false],
      ["identity-verification", "critical", false],
      ["prohibited-language", "fatal", false],
      ["empathy", "normal", false],
      ["hold-etiquette", "normal", true],
      ["closing", "normal", false],
    ],
  );
  assert.ok(kpis.every((k) => k.question.endsWith("?") && (k.suggestion?.length ?? 0) > 20));
  assert.deepEqual(parseProfileDefinition(profileDefinitionToApi(starter)), starter);
});

test("a well-handled call with a hold scores full marks", () => {
  const { results, scores } = score(goodCallPlain);
  assert.deepEqual(answers(results), {
    greeting: "Yes",
    "identity-verification": "Yes",
    "prohibited-language": "Yes",
    empathy: "Yes",
    "hold-etiquette": "Yes",
    closing: "Yes",
  });
  assert.deepEqual([scores.aiScore, scores.maxScore, scores.criticalityAdjustedScore], [60, 60, 60]);
});

test("a good call without a hold leaves hold etiquette out of the score", () => {
  const { results, scores } = score(goodCallSrt);
  assert.equal(answers(results)["hold-etiquette"], "N/A");
  assert.ok(results.filter((r) => r.kpiId !== "hold-etiquette").every((r) => r.answer === "Yes"));
  assert.deepEqual([scores.aiScore, scores.maxScore], [50, 50]);
});

test("a rude call fails the greeting and the fatal prohibited-language KPI, zeroing the adjusted score", () => {
  const { results, scores } = score(badCallPlain);
  assert.deepEqual(answers(results), {
    greeting: "No",
    "identity-verification": "No",
    "prohibited-language": "No",
    empathy: "No",
    "hold-etiquette": "N/A",
    closing: "No",
  });
  const prohibited = results.find((r) => r.kpiId === "prohibited-language")!;
  assert.deepEqual(
    prohibited.evidence.map((e) => e.quote),
    ["not my problem", "stupid"],
  );
  assert.match(prohibited.suggestion ?? "", /Never insult/);
  assert.deepEqual([scores.aiScore, scores.maxScore, scores.criticalityAdjustedScore], [0, 50, 0]);
});

test("a hold is recognised in WebVTT captions and the return from hold is credited", () => {
  const { results } = score(holdCallVtt);
  const hold = results.find((r) => r.kpiId === "hold-etiquette")!;
  assert.equal(hold.answer, "Yes");
  assert.deepEqual(
    hold.evidence.map((e) => [e.quote, e.startSeconds]),
    [
      ["bear with me", 24.5],
      ["Sorry to keep you waiting", 95],
    ],
  );
});

test("a hold without thanks or apology afterwards is a No with the hold as evidence", () => {
  const call = [
    "[00:00:01] Agent: Thanks for calling Contoso, this is Amir.",
    "[00:00:05] Customer: Hi, I'd like to check my refund.",
    "[00:00:09] Agent: Sure, one moment please while I look.",
    "[00:01:30] Agent: Right, the refund was sent yesterday.",
    "[00:01:36] Customer: Great.",
    "[00:01:38] Agent: Have a good day.",
  ].join("\n");
  const hold = score(call).results.find((r) => r.kpiId === "hold-etiquette")!;
  assert.equal(hold.answer, "No");
  assert.match(
    hold.justification,
    /It applies because the agent said "one moment please" at 0:09 \(turn 3\); only what was said from then on was checked\.$/,
  );
  assert.match(hold.suggestion ?? "", /thank the customer for holding/);
});

test("a well-handled chat exported as JSON scores full marks", () => {
  const { results, scores } = score(chatJson, "CHAT");
  assert.ok(results.every((r) => r.answer === "Yes" || (r.kpiId === "hold-etiquette" && r.answer === "N/A")));
  assert.equal(scores.finalScore, scores.maxScore);
});
