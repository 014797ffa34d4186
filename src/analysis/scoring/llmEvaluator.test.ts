import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Kpi } from "../../core/qualityProfile.ts";
import { parseTranscript } from "../transcript/parseTranscript.ts";
import { buildLlmMessages, evaluateLlm, parseLlmReply } from "./llmEvaluator.ts";

const kpi: Kpi = {
  id: "callback",
  name: "Callback offered",
  question: "Did the agent offer to call the customer back?",
  criticality: "normal",
  allowNa: false,
  options: [
    { uid: "y", value: "Yes", label: "Yes", score: 10 },
    { uid: "n", value: "No", label: "No", score: 0 },
  ],
  evaluator: { type: "llm", prompt: "A firm offer with a time counts; 'someone may call' does not." },
};
const transcript = parseTranscript(
  "[00:00:02] Agent: Thanks for calling, how can I help?\n[00:00:10] Customer: My router keeps dropping.\n[00:01:30] Agent: I'll call you back tomorrow at ten once the engineer has checked the line.",
);

describe("LLM KPIs", () => {
  test("the prompt carries the question, the QA manager's words, the allowed answers and the timed transcript", () => {
    const [system, user] = buildLlmMessages(
      kpi,
      kpi.evaluator as { type: "llm"; prompt: string },
      transcript,
    );
    assert.match(system!.content, /"answer": one of \["Yes","No","N\/A"\]/);
    assert.match(user!.content, /Criterion: Did the agent offer to call the customer back\?/);
    assert.match(user!.content, /What to check: A firm offer/);
    assert.match(user!.content, /\(3\) \[1:30\] Agent: I'll call you back tomorrow/);
  });

  test("an answer with a quote that is in the transcript is kept, the quote located as evidence", () => {
    const reply = parseLlmReply(
      '```json\n{"answer":"Yes","justification":"The agent committed to a time.","evidence":["I will call you back tomorrow at ten"]}\n```',
    );
    const result = evaluateLlm(kpi, reply, transcript, "gpt-test at llm.local");
    assert.equal(result.answer, "Yes");
    assert.equal(result.justification, "gpt-test at llm.local: The agent committed to a time.");
    assert.equal(result.evidence[0]?.turnIndex, 2);
    assert.equal(result.evidence[0]?.source, "llm");
    assert.equal(result.evidence[0]?.startSeconds, 90);
  });

  test("a Yes whose quotes are not in the transcript is not taken: N/A, never a made-up answer", () => {
    const result = evaluateLlm(
      kpi,
      { ok: true, answer: "Yes", justification: "", quotes: ["I will phone you on Monday"] },
      transcript,
      "m",
    );
    assert.equal(result.answer, "N/A");
    assert.match(
      result.justification,
      /none of its evidence is in the transcript.*"I will phone you on Monday"/,
    );
  });

  test("an answer that is not an option, a failure, or no model configured: N/A with the reason", () => {
    assert.match(
      evaluateLlm(kpi, { ok: true, answer: "Maybe", justification: "", quotes: [] }, transcript, "m")
        .justification,
      /"Maybe", which is not one of Yes, No, N\/A/,
    );
    assert.equal(
      evaluateLlm(kpi, { ok: false, reason: "the server did not answer within 30 s" }, transcript, "m")
        .justification,
      "The language model could not answer: the server did not answer within 30 s.",
    );
    assert.match(
      evaluateLlm(kpi, undefined, transcript, "m").justification,
      /No language model is configured \(CQA_LLM_URL\)/,
    );
  });

  test("a reply that is not JSON is reported as such", () => {
    assert.throws(() => parseLlmReply("Yes, the agent offered a callback."), /did not answer with JSON/);
  });
});
