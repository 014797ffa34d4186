import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AudioFormat, TimeSpan } from "../../core/audio.ts";
import { complement, intersect, measureConversation, monologues, union } from "./audioMeasures.ts";
import { FrameFeatureExtractor, featureSampleRate } from "./frameFeatures.ts";
import { detectVoiceActivity } from "./voiceActivity.ts";

const format: AudioFormat = {
  container: "wav",
  codec: "mulaw",
  sampleRate: 8000,
  channels: 2,
  bitsPerSample: 8,
  decoder: "in-process",
};
const s = (start: number, end: number): TimeSpan => ({ start, end });
const activity = (speech: TimeSpan[], music: TimeSpan[] = []) => ({
  speech,
  music,
  noiseFloorDb: -90,
  thresholdDb: -50,
});

describe("audio measures from voice activity", () => {
  const agent = [s(0.5, 5), s(10, 20), s(20.8, 30), s(50, 54)];
  const customer = [s(5.5, 9.5), s(19.6, 20.4), s(29, 33), s(56, 58)];
  const measures = measureConversation(
    [activity(agent), activity(customer, [s(34, 48)])],
    { agent: 0, customer: 1 },
    60,
    format,
  );

  test("talk time per party, overlaps counted once in the total, and the talk ratio", () => {
    assert.equal(measures.talkSeconds.agent, 4.5 + 10 + 9.2 + 4);
    assert.equal(measures.talkSeconds.customer, 4 + 0.8 + 4 + 2);
    assert.equal(measures.talkSeconds.total, 37.1);
    assert.equal(measures.talkRatio, Math.round((27.7 / (27.7 + 10.8)) * 10000) / 10000);
  });

  test("silence is when nobody talks and no hold music plays; dead air is silence of 5 s or more", () => {
    // Gaps: 0–0.5, 5–5.5, 9.5–10, 20.4–20.8, 33–34, 48–50, 54–56, 58–60 = 8.9 s.
    assert.equal(measures.silenceSeconds, 8.9);
    assert.equal(measures.silenceShare, Math.round((8.9 / 60) * 10000) / 10000);
    assert.equal(measures.longestSilenceSeconds, 2);
    assert.equal(measures.deadAirCount, 0);
  });

  test("overtalk: overlaps of 0.3 s or more; a 0.2 s brush is a backchannel", () => {
    // agent 20.8–30 × customer 29–33 = 1 s; 19.6–20.4 × 10–20 = 0.4 s; customer 19.6–20.4 × agent 20.8… none.
    assert.equal(measures.overtalkCount, 2);
    assert.deepEqual(measures.overtalk, [s(19.6, 20), s(29, 30)]);
  });

  test("hold music is a hold, not talk", () => {
    assert.deepEqual(measures.holds, [{ start: 34, end: 48, kind: "music" }]);
    assert.equal(measures.holdCount, 1);
    assert.equal(measures.longestHoldSeconds, 14);
  });

  test("a monologue runs across short pauses and a customer's 'mm-hm', and ends when the customer speaks for a second", () => {
    assert.deepEqual(monologues(agent, customer), [s(0.5, 5), s(10, 30), s(50, 54)]);
    assert.equal(measures.longestAgentMonologueSeconds, 20);
    assert.deepEqual(monologues([s(0, 10), s(13, 20)], []), [s(0, 10), s(13, 20)], "a 3 s pause ends it");
  });

  test("a mono recording gives totals and silences, and says why per-party figures are null", () => {
    const mono = measureConversation([activity([s(1, 4), s(12, 15)])], { agent: 0, customer: 1 }, 16, {
      ...format,
      channels: 1,
    });
    assert.equal(mono.talkSeconds.agent, null);
    assert.equal(mono.talkRatio, null);
    assert.equal(mono.overtalkCount, null);
    assert.equal(mono.longestAgentMonologueSeconds, null);
    assert.equal(mono.talkSeconds.total, 6);
    assert.equal(mono.deadAirCount, 1);
    assert.equal(mono.longestSilenceSeconds, 8);
    assert.match(mono.notes[0]!, /Mono recording/);
  });

  test("a channel map naming a channel the recording lacks falls back to 0/1 and says so", () => {
    const odd = measureConversation(
      [activity(agent), activity(customer)],
      { agent: 3, customer: 1 },
      60,
      format,
    );
    assert.equal(odd.talkSeconds.agent, measures.talkSeconds.agent);
    assert.match(odd.notes.join(" "), /recording has 2 channels: channel 0 was taken as the agent/);
  });

  test("the agent on the right channel (channel map 1/0) swaps the parties", () => {
    const swapped = measureConversation(
      [activity(customer), activity(agent)],
      { agent: 1, customer: 0 },
      60,
      format,
    );
    assert.equal(swapped.talkSeconds.agent, measures.talkSeconds.agent);
    assert.deepEqual(swapped.channelRoles, ["customer", "agent"]);
  });

  test("interval helpers", () => {
    assert.deepEqual(union([s(3, 4), s(0, 1), s(0.5, 2)]), [s(0, 2), s(3, 4)]);
    assert.deepEqual(complement([s(1, 2), s(3, 4)], 5), [s(0, 1), s(2, 3), s(4, 5)]);
    assert.deepEqual(intersect([s(0, 2), s(3, 6)], [s(1, 4), s(5, 7)]), [s(1, 2), s(3, 4), s(5, 6)]);
  });
});

describe("voice activity", () => {
  /** A channel at 8 kHz: noise everywhere at `noiseDb`, a syllable-like modulated tone where `talk` says. */
  function channel(seconds: number, talk: TimeSpan[], noiseDb: number, humAmplitude = 0): Float32Array {
    const out = new Float32Array(seconds * featureSampleRate);
    let seed = 42;
    const noise = 10 ** (noiseDb / 20) * Math.sqrt(3);
    for (let i = 0; i < out.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const t = i / featureSampleRate;
      let v = noise * (2 * (seed / 4294967296) - 1) + humAmplitude * Math.sin(2 * Math.PI * 50 * t);
      if (talk.some((x) => t >= x.start && t < x.end)) {
        const syllables = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
        v +=
          0.25 *
          syllables *
          (Math.sin(2 * Math.PI * 220 * t) +
            0.6 * Math.sin(2 * Math.PI * 440 * t) +
            0.3 * Math.sin(2 * Math.PI * 880 * t));
      }
      out[i] = v;
    }
    return out;
  }

  function speechOf(samples: Float32Array): TimeSpan[] {
    const extractor = new FrameFeatureExtractor();
    for (let at = 0; at < samples.length; at += 1234) extractor.push(samples.subarray(at, at + 1234));
    return detectVoiceActivity(extractor.finish()).speech;
  }

  for (const [label, noiseDb, hum] of [
    ["a clean line", -70, 0],
    ["hiss at −40 dBFS", -40, 0],
    ["strong mains hum and hiss", -45, 0.1],
  ] as const) {
    test(`finds the talk spurts on ${label}, within 0.1 s at each edge`, () => {
      const talk = [s(1, 3.5), s(6, 7.2), s(9, 12)];
      const found = speechOf(channel(14, talk, noiseDb, hum));
      assert.equal(found.length, 3, JSON.stringify(found));
      found.forEach((f, i) => {
        assert.ok(Math.abs(f.start - talk[i]!.start) <= 0.1, `start ${f.start} vs ${talk[i]!.start}`);
        assert.ok(Math.abs(f.end - talk[i]!.end) <= 0.1, `end ${f.end} vs ${talk[i]!.end}`);
      });
    });
  }

  test("a channel of noise only has no speech", () => {
    assert.deepEqual(speechOf(channel(10, [], -40, 0.05)), []);
  });

  test("digital silence has no speech", () => {
    assert.deepEqual(speechOf(new Float32Array(8000 * 5)), []);
  });
});
