import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AudioMeasures } from "../../core/audio.ts";
import type { AudioMeasureEvaluator } from "../../core/qualityProfile.ts";
import { measureConversation } from "../audio/audioMeasures.ts";
import { evaluateAudioMeasure } from "./audioMeasure.ts";

const format = {
  container: "wav",
  codec: "pcm_s16le",
  sampleRate: 8000,
  channels: 2,
  bitsPerSample: 16,
  decoder: "in-process" as const,
};
const act = (speech: [number, number][]) => ({
  speech: speech.map(([start, end]) => ({ start, end })),
  music: [],
  noiseFloorDb: -90,
  thresholdDb: -50,
});
// 100 s: the agent talks 0–20 and 60–90, the customer 25–55 — one 5 s gap and 10 s of silence at the end.
const call: AudioMeasures = measureConversation(
  [
    act([
      [0, 20],
      [60, 90],
    ]),
    act([[25, 55]]),
  ],
  { agent: 0, customer: 1 },
  100,
  format,
);
const kpi = (e: Partial<AudioMeasureEvaluator>): AudioMeasureEvaluator => ({
  type: "audio_measure",
  measure: "dead_air_share",
  operator: "lt",
  value: 0.1,
  ...e,
});

describe("audio-measure KPIs", () => {
  test("dead air under 10 %: Yes with the figure, and the dead-air moments as evidence", () => {
    const result = evaluateAudioMeasure(kpi({ value: 0.25 }), call, "");
    assert.equal(result.answer, "Yes");
    assert.equal(result.justification, "Dead air was 20 %: under 25 %, as required.");
    assert.deepEqual(
      result.evidence.map((e) => [e.startSeconds, e.endSeconds, e.source, e.turnIndex]),
      [
        [20, 25, "measure", -1],
        [55, 60, "measure", -1],
        [90, 100, "measure", -1],
      ],
    );
  });

  test("missed: No, saying what it should be; within the margin: Partially", () => {
    assert.equal(
      evaluateAudioMeasure(kpi({}), call, "").justification,
      "Dead air was 20 %; it should be under 10 %.",
    );
    const partial = evaluateAudioMeasure(kpi({ partialMargin: 0.15 }), call, "");
    assert.equal(partial.answer, "Partially");
    assert.match(partial.justification, /within the margin of 15 %/);
  });

  test("no silence over 30 s; talk ratio between 40 and 70 %; seconds read as minutes when long", () => {
    assert.equal(
      evaluateAudioMeasure(kpi({ measure: "longest_silence_seconds", operator: "lte", value: 30 }), call, "")
        .answer,
      "Yes",
    );
    const ratio = evaluateAudioMeasure(
      kpi({ measure: "talk_ratio", operator: "between", min: 0.4, max: 0.7 }),
      call,
      "",
    );
    assert.equal(ratio.answer, "Yes");
    assert.match(ratio.justification, /The agent's share of the talk was 62\.5 %: between 40 % and 70 %/);
    const talk = evaluateAudioMeasure(
      kpi({ measure: "agent_talk_seconds", operator: "gte", value: 60 }),
      call,
      "",
    );
    assert.equal(talk.justification, "The agent's talk time was 50 s; it should be at least 1 min.");
  });

  test("no recording: N/A with the reason", () => {
    const result = evaluateAudioMeasure(kpi({}), null, "No recording was sent with this conversation");
    assert.equal(result.answer, "N/A");
    assert.equal(
      result.justification,
      'No recording was sent with this conversation, so "dead air" could not be measured.',
    );
  });

  test("a per-party measure of a mono recording: N/A saying why", () => {
    const mono = measureConversation([act([[0, 10]])], { agent: 0, customer: 1 }, 20, {
      ...format,
      channels: 1,
    });
    const result = evaluateAudioMeasure(
      kpi({ measure: "overtalk_count", operator: "lte", value: 2 }),
      mono,
      "",
    );
    assert.equal(result.answer, "N/A");
    assert.match(result.justification, /Overtalk cannot be measured: Mono recording/);
  });
});
