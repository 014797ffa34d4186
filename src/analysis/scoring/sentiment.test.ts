import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseTranscript } from "../transcript/parseTranscript.ts";
import { evaluateSentiment, turnSentiment } from "./sentiment.ts";

const call = parseTranscript(
  [
    "Customer: I'm really frustrated, I've been charged twice and nobody called me back. This is unacceptable.",
    "Agent: I'm sorry about that, let me look.",
    "Customer: Fine.",
    "Agent: I've refunded the second payment.",
    "Customer: Oh brilliant, that's a relief, thank you so much, you've been really helpful.",
  ].join("\n"),
);

describe("sentiment KPIs", () => {
  test("words carry mood, and negation turns it round", () => {
    assert.ok(turnSentiment("that's great, thank you") > 0);
    assert.ok(turnSentiment("this is ridiculous and unacceptable") < 0);
    assert.ok(turnSentiment("I am not happy") < 0);
    assert.ok(turnSentiment("it wasn't a problem") > 0);
  });

  test("a customer who starts angry and ends grateful: the mood improved, with both moments as evidence", () => {
    const result = evaluateSentiment({ type: "sentiment", speaker: "customer", expect: "improves" }, call);
    assert.equal(result.answer, "Yes");
    assert.match(result.justification, /The customer started negative \(-?[\d.]+\) and ended positive/);
    assert.deepEqual(
      result.evidence.map((e) => e.turnIndex),
      [0, 4],
    );
  });

  test("the reverse is not an improvement, and the customer does not end positive", () => {
    const reversed = parseTranscript(
      call.turns
        .map((t) => `${t.speaker === "agent" ? "Agent" : "Customer"}: ${t.text}`)
        .reverse()
        .join("\n"),
    );
    assert.equal(
      evaluateSentiment({ type: "sentiment", speaker: "customer", expect: "improves" }, reversed).answer,
      "No",
    );
    assert.equal(
      evaluateSentiment({ type: "sentiment", speaker: "customer", expect: "positive_end" }, reversed).answer,
      "No",
    );
  });

  test("too few turns by the party: N/A", () => {
    const short = parseTranscript("Agent: Hello\nCustomer: Hi");
    const result = evaluateSentiment(
      { type: "sentiment", speaker: "customer", expect: "not_negative" },
      short,
    );
    assert.equal(result.answer, "N/A");
    assert.match(result.justification, /1 turn\(s\) by the customer: too few/);
  });
});
