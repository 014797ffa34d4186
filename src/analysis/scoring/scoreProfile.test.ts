import assert from "node:assert/strict";
import { test } from "node:test";
import type { KpiReview, ProfileDefinition } from "../../core/qualityProfile.ts";
import { badCallPlain, goodCallPlain } from "../fixtures/calls.ts";
import { parseProfileDefinition } from "../profileSchema.ts";
import { parseTranscript } from "../transcript/parseTranscript.ts";
import type { EvaluationContext } from "./evaluateKpi.ts";
import { rollUp, scoreProfile } from "./scoreProfile.ts";

const definition: ProfileDefinition = parseProfileDefinition({
  name: "Billing line",
  categories: [
    {
      name: "Opening",
      sub_categories: [
        {
          name: "Greeting",
          kpis: [
            {
              name: "Greeting",
              question: "Did the agent greet the customer?",
              suggestion: "Greet the customer by thanking them for calling.",
              evaluator: {
                type: "phrase_present",
                phrases: ["thank you for calling"],
                window: { first_turns: 2 },
              },
            },
          ],
        },
      ],
    },
    {
      name: "Compliance",
      sub_categories: [
        {
          name: "Security",
          kpis: [
            {
              name: "Verification",
              question: "Did the agent verify the caller?",
              criticality: "critical",
              evaluator: { type: "phrase_present", phrases: ["date of birth", "postcode"] },
            },
          ],
        },
        {
          name: "Conduct",
          kpis: [
            {
              name: "Prohibited language",
              question: "Did the agent avoid abusive language?",
              criticality: "fatal",
              options: [
                { value: "Yes", score: 5 },
                { value: "No", score: 0 },
              ],
              evaluator: { type: "phrase_absent", phrases: ["stupid", "not my problem"] },
            },
          ],
        },
      ],
    },
    {
      name: "Soft skills",
      sub_categories: [
        {
          name: "Hold",
          kpis: [
            {
              name: "Hold etiquette",
              question: "Did the agent thank the customer for holding?",
              allow_na: true,
              suggestion: "Thank the customer for holding.",
              evaluator: {
                type: "phrase_present",
                phrases: ["thank you for holding"],
                applies_when: { phrase_present: { phrases: ["put you on hold"] } },
              },
            },
          ],
        },
      ],
    },
  ],
});

function context(text: string | null): EvaluationContext {
  return {
    transcript: text === null ? null : parseTranscript(text),
    channelType: "VOICE",
    durationSeconds: null,
  };
}

function review(kpiId: string, fields: Partial<KpiReview>): KpiReview {
  return {
    kpiId,
    optionUid: null,
    optionValue: null,
    score: 0,
    justification: "Checked the recording.",
    userComment: null,
    ...fields,
  };
}

test("each KPI gets the option matching its answer, its points and its maximum", () => {
  const results = scoreProfile(definition, context(goodCallPlain));
  assert.deepEqual(
    results.map((r) => [r.kpiId, r.answer, r.optionUid, r.aiScore, r.maxScore]),
    [
      ["greeting", "Yes", "greeting-yes", 10, 10],
      ["verification", "Yes", "verification-yes", 10, 10],
      ["prohibited-language", "Yes", "prohibited-language-yes", 5, 5],
      ["hold-etiquette", "Yes", "hold-etiquette-yes", 10, 10],
    ],
  );
  assert.ok(results.every((r) => r.suggestion === undefined));
});

test("a missed KPI carries the suggestion; an N/A one does not", () => {
  const results = scoreProfile(definition, context(badCallPlain));
  const greeting = results.find((r) => r.kpiId === "greeting")!;
  assert.equal(greeting.answer, "No");
  assert.equal(greeting.suggestion, "Greet the customer by thanking them for calling.");
  const hold = results.find((r) => r.kpiId === "hold-etiquette")!;
  assert.deepEqual(
    [hold.answer, hold.optionUid, hold.aiScore, hold.suggestion],
    ["N/A", "hold-etiquette-na", 0, undefined],
  );
});

test("a Partially answer on a KPI without a Partially option is scored as No and says so", () => {
  const late = "Customer: Hello?\nCustomer: Is anyone there?\nAgent: Sorry, thank you for calling.";
  const strict = structuredClone(definition);
  const greeting = strict.categories[0]!.subCategories[0]!.kpis[0]!;
  greeting.options = greeting.options.filter((o) => o.value !== "Partially");
  const result = scoreProfile(strict, context(late))[0]!;
  assert.equal(result.answer, "No");
  assert.equal(result.optionUid, "greeting-no");
  assert.match(result.justification, /no Partially option, so it is scored as No\.$/);
});

test("without a transcript every KPI is N/A; one without an N/A option has no option but keeps its maximum", () => {
  const results = scoreProfile(definition, context(null));
  assert.ok(results.every((r) => r.answer === "N/A" && r.aiScore === 0));
  assert.deepEqual([results[0]!.optionUid, results[0]!.maxScore], [null, 10]);
  const scores = rollUp(definition, results, []);
  assert.deepEqual([scores.aiScore, scores.maxScore, scores.finalScore], [0, 0, 0]);
});

test("a good call rolls up to full points at every level, without QA scores", () => {
  const scores = rollUp(definition, scoreProfile(definition, context(goodCallPlain)), []);
  assert.deepEqual(
    [scores.aiScore, scores.qaScore, scores.finalScore, scores.criticalityAdjustedScore, scores.maxScore],
    [35, null, 35, 35, 35],
  );
  const compliance = scores.categories[1]!;
  assert.deepEqual(
    [compliance.id, compliance.aiScore, compliance.maxScore, compliance.subCategories.map((s) => s.maxScore)],
    ["compliance", 15, 15, [10, 5]],
  );
});

test("N/A KPIs leave numerator and denominator; a failed critical KPI zeroes its category only", () => {
  const transcript =
    "Agent: Thank you for calling Northwind.\nCustomer: Hi, my bill is wrong.\nAgent: I've fixed it for you.";
  const scores = rollUp(definition, scoreProfile(definition, context(transcript)), []);
  // Greeting 10/10, verification 0/10 (critical), conduct 5/5, hold N/A.
  assert.deepEqual([scores.aiScore, scores.maxScore, scores.finalScore], [15, 25, 15]);
  const [opening, compliance, softSkills] = scores.categories;
  assert.deepEqual([compliance!.finalScore, compliance!.criticalityAdjustedScore], [5, 0]);
  assert.equal(opening!.criticalityAdjustedScore, 10);
  assert.deepEqual([softSkills!.maxScore, softSkills!.subCategories[0]!.kpis[0]!.applicable], [0, false]);
  assert.equal(scores.criticalityAdjustedScore, 10);
  const verification = compliance!.subCategories[0]!.kpis[0]!;
  assert.deepEqual([verification.criticalityFailed, verification.criticalityAdjustedScore], [true, 0]);
});

test("a failed fatal KPI zeroes the adjusted score of the profile and every category", () => {
  const scores = rollUp(definition, scoreProfile(definition, context(badCallPlain)), []);
  assert.equal(scores.criticalityAdjustedScore, 0);
  assert.ok(scores.categories.every((c) => c.criticalityAdjustedScore === 0));
  const conduct = scores.categories[1]!.subCategories[1]!.kpis[0]!;
  assert.deepEqual([conduct.finalResponse, conduct.criticalityFailed], ["No", true]);
});

test("a reviewer's option overrides the AI answer and score, and QA scores appear above it", () => {
  const transcript =
    "Agent: Thank you for calling Northwind.\nCustomer: Hi, my bill is wrong.\nAgent: I've fixed it for you.";
  const results = scoreProfile(definition, context(transcript));
  const scores = rollUp(definition, results, [
    review("verification", {
      optionUid: "verification-yes",
      score: 10,
      justification: "Verified by voice biometrics.",
    }),
  ]);
  const compliance = scores.categories[1]!;
  const verification = compliance.subCategories[0]!.kpis[0]!;
  assert.deepEqual(
    [
      verification.aiResponse,
      verification.finalResponse,
      verification.aiScore,
      verification.qaScore,
      verification.finalScore,
    ],
    ["No", "Yes", 0, 10, 10],
  );
  assert.deepEqual(
    [verification.qaSelectedOptionUid, verification.qaSelectedOptionValue],
    ["verification-yes", "Yes"],
  );
  assert.equal(verification.qaJustification, "Verified by voice biometrics.");
  assert.deepEqual(
    [compliance.aiScore, compliance.qaScore, compliance.finalScore, compliance.criticalityAdjustedScore],
    [5, 15, 15, 15],
  );
  assert.equal(compliance.subCategories[1]!.qaScore, null);
  assert.equal(scores.categories[0]!.qaScore, null);
  assert.deepEqual(
    [scores.aiScore, scores.qaScore, scores.finalScore, scores.criticalityAdjustedScore],
    [15, 25, 25, 25],
  );
});

test("a score-only review sets the answer from the score and can fail a critical KPI", () => {
  const results = scoreProfile(definition, context(goodCallPlain));
  const scores = rollUp(definition, results, [
    review("verification", { score: 0, userComment: "Asked after disclosing the balance." }),
  ]);
  const verification = scores.categories[1]!.subCategories[0]!.kpis[0]!;
  assert.deepEqual(
    [verification.finalResponse, verification.finalScore, verification.criticalityFailed],
    ["No", 0, true],
  );
  assert.equal(verification.userComment, "Asked after disclosing the balance.");
  assert.equal(scores.categories[1]!.criticalityAdjustedScore, 0);
  assert.equal(scores.criticalityAdjustedScore, 20);
});

test("a reviewer can answer N/A to take a KPI out of the score, or bring an N/A KPI back in", () => {
  const results = scoreProfile(definition, context(badCallPlain));
  const scores = rollUp(definition, results, [
    review("greeting", { optionValue: "N/A", score: 0 }),
    review("hold-etiquette", { optionUid: "hold-etiquette-no", score: 0 }),
  ]);
  const greeting = scores.categories[0]!.subCategories[0]!.kpis[0]!;
  const hold = scores.categories[2]!.subCategories[0]!.kpis[0]!;
  assert.deepEqual([greeting.applicable, scores.categories[0]!.maxScore], [false, 0]);
  assert.deepEqual([hold.applicable, hold.finalResponse, scores.categories[2]!.maxScore], [true, "No", 10]);
});

test("the latest review of a KPI applies and reviews of unknown KPIs are ignored", () => {
  const results = scoreProfile(definition, context(goodCallPlain));
  const scores = rollUp(
    definition,
    [...results, { ...results[0]!, kpiId: "retired-kpi" }],
    [
      review("greeting", { optionValue: "No", score: 0 }),
      review("greeting", { optionValue: "Partially", score: 5 }),
      review("retired-kpi", { score: 3 }),
    ],
  );
  const greeting = scores.categories[0]!.subCategories[0]!.kpis[0]!;
  assert.deepEqual([greeting.finalResponse, greeting.finalScore], ["Partially", 5]);
  assert.equal(scores.finalScore, 30);
});

test("a 200-turn call is parsed and scored against a 20-KPI profile (speed: see the benchmark)", () => {
  const phraseSets = [
    ["thank you for calling", "good morning", "welcome to"],
    ["date of birth", "postcode", "security question", "last four digits"],
    ["I understand", "I'm sorry to hear", "I can imagine", "that must be frustrating"],
    ["anything else I can help you with", "have a great day", "thanks for calling"],
    ["thank you for holding", "sorry for the wait", "thanks for waiting"],
  ];
  const kpis = Array.from({ length: 20 }, (_, i) => ({
    name: `KPI ${i + 1}`,
    question: "Was it said?",
    evaluator:
      i % 4 === 3
        ? { type: "phrase_absent", phrases: ["stupid", "shut up", "not my problem", "idiot", "piss off"] }
        : {
            type: "phrase_present",
            phrases: phraseSets[i % 5]!,
            window: i % 2 === 0 ? { first_seconds: 60 } : { last_turns: 3 },
          },
  }));
  const big = parseProfileDefinition({
    name: "Large",
    categories: [{ name: "All", sub_categories: [{ name: "All", kpis }] }],
  });
  const lines = goodCallPlain.split("\n").map((line) => line.replace(/^\[[^\]]*\]\s*/, ""));
  const longCall = Array.from(
    { length: 200 },
    (_, i) =>
      `[${String(Math.floor(i / 6)).padStart(2, "0")}:${String((i * 10) % 60).padStart(2, "0")}] ${lines[i % lines.length]}`,
  ).join("\n");
  const call = context(longCall);
  const results = scoreProfile(big, call);
  assert.equal(call.transcript?.turns.length, 200);
  assert.equal(results.length, 20);
});
