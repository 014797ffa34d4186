import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SpeechAnalysis } from "../../core/audio.ts";
import type { PhraseSpottedEvaluator } from "../../core/qualityProfile.ts";
import { parseTranscript } from "../transcript/parseTranscript.ts";
import { evaluatePhraseSpotted } from "./phraseSpotted.ts";

const greeting: PhraseSpottedEvaluator = {
  type: "phrase_spotted",
  phrases: ["thank you for calling"],
  speaker: "agent",
  window: { firstSeconds: 30 },
};
const speech = (
  spotted: SpeechAnalysis["spotted"],
  unspottable: Record<string, string> = {},
): SpeechAnalysis => ({
  transcriber: "PocketSphinx",
  spotter: "PocketSphinx",
  spotted,
  unspottable,
  notes: [],
  error: null,
});
// A rough machine transcript that garbled the greeting.
const rough = parseTranscript(
  JSON.stringify({
    segments: [
      {
        speaker: "agent",
        start: 0.5,
        end: 5,
        text: "and he put all your life and energy how can i help you",
      },
      { speaker: "customer", start: 6, end: 9, text: "i was charged twice" },
      { speaker: "agent", start: 50, end: 54, text: "thank you for calling goodbye" },
    ],
  }),
);

describe("phrase spotting KPIs", () => {
  test("heard in the audio inside the window although the transcript garbled it: Yes, evidence at the second", () => {
    const result = evaluatePhraseSpotted(
      greeting,
      rough,
      speech([
        { phrase: "thank you for calling", speaker: "agent", start: 0.46, end: 1.46, confidence: 0.95 },
      ]),
      60,
    );
    assert.equal(result.answer, "Yes");
    assert.equal(
      result.justification,
      'The agent said "thank you for calling" at 0:00, within the first 30 s (heard in the recording).',
    );
    assert.deepEqual(
      {
        turn: result.evidence[0]!.turnIndex,
        at: result.evidence[0]!.startSeconds,
        source: result.evidence[0]!.source,
      },
      { turn: 0, at: 0.46, source: "audio" },
    );
  });

  test("an unsure hit (below min_confidence) does not count; the transcript's late greeting makes it Partially", () => {
    const result = evaluatePhraseSpotted(
      greeting,
      rough,
      speech([
        { phrase: "thank you for calling", speaker: "agent", start: 0.46, end: 1.46, confidence: 0.85 },
      ]),
      60,
    );
    assert.equal(result.answer, "Partially");
    assert.match(result.justification, /at 0:50 \(read in the transcript\), but not within the first 30 s/);
  });

  test("said by the customer only: not the agent's greeting", () => {
    const result = evaluatePhraseSpotted(
      greeting,
      null,
      speech([{ phrase: "thank you for calling", speaker: "customer", start: 3, end: 4, confidence: 0.99 }]),
      60,
    );
    assert.equal(result.answer, "No");
    assert.equal(
      result.justification,
      '"thank you for calling" was not heard in the recording for the agent, within the first 30 s.',
    );
  });

  test("phrases the offline dictionary cannot listen for are named in the justification", () => {
    const config = { ...greeting, phrases: ["welcome to Northwind"] };
    const result = evaluatePhraseSpotted(
      config,
      null,
      speech([], { "welcome to Northwind": 'the offline dictionary does not know "northwind"' }),
      60,
    );
    assert.match(
      result.justification,
      /Not listened for in the audio: "welcome to Northwind" \(the offline dictionary does not know "northwind"\)/,
    );
  });

  test("neither a transcript nor a spotter: N/A with the reason", () => {
    const result = evaluatePhraseSpotted(greeting, null, null, 60);
    assert.equal(result.answer, "N/A");
    assert.match(result.justification, /no phrase spotter listened to the recording/);
  });
});
