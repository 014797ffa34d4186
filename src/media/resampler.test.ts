import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TelephoneBandFill } from "./bandFill.ts";
import { Resampler } from "./resampler.ts";

function tone(rate: number, frequency: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: Math.round(rate * seconds) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / rate),
  );
}

/** Resamples in uneven chunks, as a decoder delivers them. */
function resample(input: Float32Array, from: number, to: number): Float32Array {
  const resampler = new Resampler(from, to);
  const parts: Float32Array[] = [];
  for (let at = 0, size = 97; at < input.length; at += size, size = (size * 7) % 1013 || 13) {
    parts.push(resampler.process(input.subarray(at, at + size)));
  }
  parts.push(resampler.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Amplitude of one frequency in a signal (a single DFT bin over the middle of it). */
function amplitudeAt(samples: Float32Array, rate: number, frequency: number): number {
  const from = Math.floor(samples.length / 4);
  const to = Math.floor((samples.length * 3) / 4);
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += samples[i]! * Math.cos((2 * Math.PI * frequency * i) / rate);
    im += samples[i]! * Math.sin((2 * Math.PI * frequency * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

describe("resampling", () => {
  for (const [from, to, frequency] of [
    [8000, 16000, 440],
    [44100, 16000, 1000],
    [48000, 8000, 3000],
    [16000, 8000, 300],
    [22050, 8000, 2500],
  ] as const) {
    test(`${from} Hz → ${to} Hz keeps a ${frequency} Hz tone and the length in time`, () => {
      const out = resample(tone(from, frequency, 1), from, to);
      assert.equal(out.length, to, "one second in, one second out");
      const amplitude = amplitudeAt(out, to, frequency);
      assert.ok(Math.abs(amplitude - 0.5) < 0.02, `amplitude ${amplitude}`);
    });
  }

  test("downsampling removes what the new rate cannot carry instead of folding it back (no aliasing)", () => {
    // 6 kHz at 48 kHz would fold to 2 kHz at 8 kHz without the low-pass.
    const out = resample(tone(48000, 6000, 1), 48000, 8000);
    assert.ok(amplitudeAt(out, 8000, 2000) < 0.005, `alias at 2 kHz: ${amplitudeAt(out, 8000, 2000)}`);
  });

  test("the same rate passes samples through untouched", () => {
    const input = tone(16000, 440, 0.1);
    assert.equal(new Resampler(16000, 16000).process(input), input);
  });
});

describe("telephone band fill", () => {
  test("adds noise only in the empty 4–7.5 kHz band, at the level asked for", () => {
    const narrow = resample(tone(8000, 1000, 2, 0.3), 8000, 16000);
    const filled = new TelephoneBandFill(16000, -40).apply(Float32Array.from(narrow));
    assert.ok(Math.abs(amplitudeAt(filled, 16000, 1000) - 0.3) < 0.01, "speech band untouched");
    const added = filled.map((v, i) => v - narrow[i]!);
    const rmsDb = 10 * Math.log10(added.reduce((s, v) => s + v * v, 0) / added.length);
    assert.ok(Math.abs(rmsDb - -40) < 1, `noise level ${rmsDb} dBFS`);
    assert.ok(amplitudeAt(added, 16000, 1000) < 0.002, "no noise in the speech band");
  });

  test("is deterministic: the same recording always gets the same noise", () => {
    const a = new TelephoneBandFill(16000, -48, 1).apply(new Float32Array(1000));
    const b = new TelephoneBandFill(16000, -48, 1).apply(new Float32Array(1000));
    assert.deepEqual(a, b);
  });
});
