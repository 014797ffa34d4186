import assert from "node:assert/strict";
import { test } from "node:test";
import type { EvaluatorConfig, Kpi } from "../../core/qualityProfile.ts";
import type { Transcript } from "../../core/transcript.ts";
import { badCallPlain, goodCallPlain, goodCallSrt, holdCallVtt } from "../fixtures/calls.ts";
import { parseTranscript } from "../transcript/parseTranscript.ts";
import { type EvaluationContext, evaluateKpi } from "./evaluateKpi.ts";

function kpi(evaluator: EvaluatorConfig, overrides: Partial<Kpi> = {}): Kpi {
  return {
    id: "kpi",
    name: "Test KPI",
    question: "Did it happen?",
    criticality: "normal",
    allowNa: false,
    options: [
      { uid: "y", value: "Yes", label: "Yes", score: 10 },
      { uid: "n", value: "No", label: "No", score: 0 },
    ],
    evaluator,
    ...overrides,
  };
}

function on(transcript: Transcript | string, extra: Partial<EvaluationContext> = {}): EvaluationContext {
  return {
    transcript: typeof transcript === "string" ? parseTranscript(transcript) : transcript,
    channelType: "VOICE",
    durationSeconds: null,
    ...extra,
  };
}

const greeting: EvaluatorConfig = {
  type: "phrase_present",
  phrases: ["thank you for calling", "thanks for calling"],
  window: { firstSeconds: 30 },
};

test("a greeting said in the first 30 s is Yes with the quote, time and turn", () => {
  const result = evaluateKpi(kpi(greeting), on(goodCallPlain));
  assert.equal(result.answer, "Yes");
  assert.equal(
    result.justification,
    'Agent said "thank you for calling" at 0:02 (turn 1), within the first 30 s.',
  );
  assert.deepEqual(result.evidence, [
    {
      turnIndex: 0,
      speaker: "agent",
      quote: "thank you for calling",
      charStart: 14,
      charEnd: 35,
      startSeconds: 2,
      phrase: "thank you for calling",
      similarity: 1,
    },
  ]);
});

test("a greeting said only after the window is Partially, or No when partial credit is off", () => {
  const late =
    "[00:00:01] Customer: Hello? Anyone there?\n[00:00:41] Agent: Sorry about that, thanks for calling Acme.";
  const partially = evaluateKpi(kpi(greeting), on(late));
  assert.equal(partially.answer, "Partially");
  assert.equal(
    partially.justification,
    'Agent said "thanks for calling" at 0:41 (turn 2), but not within the first 30 s.',
  );
  assert.equal(partially.evidence[0]?.turnIndex, 1);
  const strict = evaluateKpi(kpi({ ...greeting, partialOutsideWindow: false }), on(late));
  assert.equal(strict.answer, "No");
  assert.equal(strict.evidence.length, 1);
});

test("a greeting never said is No, naming what was looked for", () => {
  const result = evaluateKpi(kpi(greeting), on(badCallPlain));
  assert.equal(result.answer, "No");
  assert.equal(
    result.justification,
    'The agent said none of the 2 expected phrases ("thank you for calling" or "thanks for calling") within the first 2 turns, nor anywhere else in the conversation. The transcript has no timestamps, so the first 30 s were taken as the first 2 turns.',
  );
  assert.deepEqual(result.evidence, []);
});

test("without timestamps the call duration sets how many turns stand for the first seconds", () => {
  const transcript = parseTranscript(badCallPlain);
  const result = evaluateKpi(
    kpi({
      type: "phrase_present",
      phrases: ["broadband"],
      speaker: "customer",
      window: { firstSeconds: 30 },
    }),
    on(transcript, { durationSeconds: 45 }),
  );
  // 45 s over 9 turns is 5 s a turn, so the first 30 s are the first 6 turns.
  assert.match(result.justification, /first 30 s were taken as the first 6 turns/);
  assert.equal(result.answer, "Yes");
});

test("an explicit turn bound stands in for seconds when the transcript is untimed", () => {
  const untimed = "Customer: hello?\nAgent: Hi, thanks for calling Acme.\nCustomer: I need help.";
  const result = evaluateKpi(kpi({ ...greeting, window: { firstSeconds: 30, firstTurns: 2 } }), on(untimed));
  assert.equal(result.answer, "Yes");
  assert.match(
    result.justification,
    /within the first 2 turns\. The transcript has no timestamps, so the first 2 turns stood in for the first 30 s\./,
  );
});

test("a phrase said by the customer does not count for the agent", () => {
  const text = "Agent: Hello, Acme Bank.\nCustomer: Thank you for calling me back so quickly.";
  assert.equal(
    evaluateKpi(kpi({ type: "phrase_present", phrases: ["thank you for calling"] }), on(text)).answer,
    "No",
  );
  const anyone = evaluateKpi(
    kpi({ type: "phrase_present", phrases: ["thank you for calling"], speaker: "any" }),
    on(text),
  );
  assert.equal(anyone.answer, "Yes");
  assert.match(anyone.justification, /^Customer said "Thank you for calling" in turn 2\.$/);
});

test("a misheard phrase is matched and the justification shows both wordings", () => {
  const text = "Agent: thank you for caling northwind how can I help";
  const result = evaluateKpi(kpi({ type: "phrase_present", phrases: ["thank you for calling"] }), on(text));
  assert.equal(result.answer, "Yes");
  assert.equal(
    result.justification,
    'Agent said "thank you for caling" (close to "thank you for calling") in turn 1.',
  );
  assert.ok((result.evidence[0]?.similarity ?? 1) < 1);
});

test("match all: every phrase said is Yes, some is Partially listing what was missing", () => {
  const disclosure: EvaluatorConfig = {
    type: "phrase_present",
    match: "all",
    phrases: ["date of birth", "first line of your address", "security question"],
  };
  const result = evaluateKpi(kpi(disclosure), on(goodCallPlain));
  assert.equal(result.answer, "Partially");
  assert.equal(
    result.justification,
    'The agent said 2 of 3 required phrases: "date of birth" at 0:22 (turn 4) and "first line of your address" at 0:35 (turn 6). Not said: "security question".',
  );
  assert.equal(result.evidence.length, 2);
  const all = evaluateKpi(
    kpi({ ...disclosure, phrases: ["date of birth", "first line of your address"] }),
    on(goodCallPlain),
  );
  assert.equal(all.answer, "Yes");
});

test("SRT evidence carries the cue's start and end seconds", () => {
  const result = evaluateKpi(kpi({ type: "phrase_present", phrases: ["postcode"] }), on(goodCallSrt));
  assert.equal(result.answer, "Yes");
  assert.equal(result.evidence[0]?.startSeconds, 22);
  assert.equal(result.evidence[0]?.endSeconds, 28.7);
  assert.equal(result.justification, 'Agent said "postcode" at 0:22 (turn 5).');
});

test("the last turns window finds a closing at the end of the call only", () => {
  const closing: EvaluatorConfig = {
    type: "phrase_present",
    phrases: ["have a great day", "thank you for calling"],
    window: { lastTurns: 3 },
  };
  const result = evaluateKpi(kpi(closing), on(goodCallPlain));
  assert.equal(result.answer, "Yes");
  // "thank you for calling" in the greeting is outside the window; the one in turn 14 is inside.
  assert.deepEqual(
    result.evidence.map((e) => [e.turnIndex, e.phrase]),
    [
      [13, "thank you for calling"],
      [13, "have a great day"],
    ],
  );
  assert.match(result.justification, /at 2:24 \(turn 14\), within the last 3 turns\.$/);
});

test("prohibited phrases: none said is Yes; each occurrence is evidence for No", () => {
  const prohibited: EvaluatorConfig = {
    type: "phrase_absent",
    phrases: ["not my problem", "stupid", "shut up", "idiot"],
  };
  const clean = evaluateKpi(kpi(prohibited), on(goodCallPlain));
  assert.equal(clean.answer, "Yes");
  assert.equal(clean.justification, "None of the 4 prohibited phrases was said by the agent.");
  const rude = evaluateKpi(kpi(prohibited), on(badCallPlain));
  assert.equal(rude.answer, "No");
  assert.equal(
    rude.justification,
    'Prohibited phrases were said 2 times: Agent said "not my problem" in turn 5; Agent said "stupid" in turn 7.',
  );
  assert.deepEqual(
    rude.evidence.map((e) => [e.turnIndex, e.quote]),
    [
      [4, "not my problem"],
      [6, "stupid"],
    ],
  );
});

test("a prohibited word said by the customer is not held against the agent", () => {
  const text = "Customer: this stupid router keeps dropping\nAgent: I'm sorry to hear that, let's fix it.";
  assert.equal(evaluateKpi(kpi({ type: "phrase_absent", phrases: ["stupid"] }), on(text)).answer, "Yes");
});

const holdEtiquette = (allowNa: boolean) =>
  kpi(
    {
      type: "phrase_present",
      phrases: ["thank you for holding", "sorry to keep you waiting"],
      appliesWhen: { phrasePresent: { phrases: ["put you on hold", "bear with me"], speaker: "agent" } },
    },
    allowNa
      ? {
          allowNa: true,
          options: [
            { uid: "y", value: "Yes", label: "Yes", score: 10 },
            { uid: "n", value: "No", label: "No", score: 0 },
            { uid: "na", value: "N/A", label: "Not applicable", score: 0 },
          ],
        }
      : {},
  );

test("a KPI triggered by a hold cites the hold and the thanks", () => {
  const result = evaluateKpi(holdEtiquette(true), on(goodCallPlain));
  assert.equal(result.answer, "Yes");
  assert.equal(
    result.justification,
    'Agent said "Thank you for holding" at 1:58 (turn 9). It applies because the agent said "put you on hold" at 0:43 (turn 8); only what was said from then on was checked.',
  );
  assert.deepEqual(
    result.evidence.map((e) => e.phrase),
    ["put you on hold", "thank you for holding"],
  );
  const vtt = evaluateKpi(holdEtiquette(true), on(holdCallVtt));
  assert.equal(vtt.answer, "Yes");
  assert.match(vtt.justification, /"Sorry to keep you waiting" at 1:35/);
});

test("thanks said before the hold do not count for the hold", () => {
  const call = [
    "[00:00:01] Agent: Thanks for waiting, you're through to Contoso billing.",
    "[00:00:06] Customer: Hi, I was double charged.",
    "[00:00:10] Agent: Let me check, I'll put you on hold.",
    "[00:01:40] Agent: Right, I've refunded the second payment.",
  ].join("\n");
  const kpiWithWaiting = holdEtiquette(true);
  (kpiWithWaiting.evaluator as { phrases: string[] }).phrases.push("thanks for waiting");
  const result = evaluateKpi(kpiWithWaiting, on(call));
  assert.equal(result.answer, "No");
  assert.deepEqual(
    result.evidence.map((e) => e.turnIndex),
    [2],
  );
});

test("a KPI whose trigger never happened is N/A with the reason", () => {
  const result = evaluateKpi(holdEtiquette(true), on(goodCallSrt));
  assert.equal(result.answer, "N/A");
  assert.equal(
    result.justification,
    'Not applicable: none of "put you on hold" or "bear with me" was said by the agent.',
  );
});

test("a KPI that does not allow N/A is scored anyway and says why", () => {
  const result = evaluateKpi(holdEtiquette(false), on(goodCallSrt));
  assert.equal(result.answer, "No");
  assert.match(
    result.justification,
    /\(This KPI does not allow N\/A, so it was scored although none of "put you on hold" or "bear with me" was said by the agent\.\)$/,
  );
});

test("channel and length conditions make a KPI not applicable", () => {
  const voiceOnly = kpi(
    { type: "phrase_present", phrases: ["hello"], appliesWhen: { channels: ["VOICE"] } },
    { allowNa: true },
  );
  const chat = evaluateKpi(voiceOnly, on(goodCallPlain, { channelType: "chat" }));
  assert.equal(chat.answer, "N/A");
  assert.equal(
    chat.justification,
    "Not applicable: this KPI applies only to VOICE conversations and this one is CHAT.",
  );
  const long = kpi(
    { type: "phrase_present", phrases: ["hello"], appliesWhen: { minTurns: 20 } },
    { allowNa: true },
  );
  assert.equal(
    evaluateKpi(long, on(goodCallPlain)).justification,
    "Not applicable: the conversation has 15 turn(s) and this KPI applies from 20.",
  );
});

test("without a transcript every KPI is N/A, saying there was nothing to judge", () => {
  const result = evaluateKpi(kpi(greeting), { transcript: null, channelType: "VOICE", durationSeconds: 120 });
  assert.equal(result.answer, "N/A");
  assert.equal(
    result.justification,
    'No transcript was available: there is nothing to check "Test KPI" against, so it is answered N/A. N/A is used although this KPI does not otherwise allow it.',
  );
});

test("a transcript without speaker labels is searched in full and says so", () => {
  const result = evaluateKpi(
    kpi({ type: "phrase_present", phrases: ["I'm sorry to hear"] }),
    on("hello thank you for calling i am sorry to hear about the delay"),
  );
  assert.equal(result.answer, "Yes");
  assert.equal(
    result.justification,
    'Someone said "i am sorry to hear" in turn 1. Speakers are not identified in this transcript, so every turn was searched.',
  );
});
