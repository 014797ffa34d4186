// The audio measures of the labelled fixture calls (test/fixtures/audio, 8 kHz µ-law like real
// telephony) against the values their labels imply. Tolerances, stated once here and in
// docs/analysis.md: talk time per party within 5 % or 0.5 s (whichever is larger), silence share
// within 2 percentage points, longest silence within 0.3 s, counts exact.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { audioFixtureDir, audioLabels, type LabelledCall } from "../../test/support/audioFixtures.ts";
import type { AudioMeasures } from "../core/audio.ts";
import { probeFfmpeg } from "../media/ffmpeg.ts";
import { analyseRecording } from "./analyseRecording.ts";

const labels = audioLabels();
const ffmpeg = probeFfmpeg("ffmpeg");
const decode = {
  ffmpegPath: ffmpeg.available ? ffmpeg.path : null,
  maxSeconds: 14_400,
  ffmpegTimeoutMs: 60_000,
};

async function measure(path: string): Promise<AudioMeasures> {
  const { measures } = await analyseRecording(createReadStream(path), statSync(path).size, {
    decode,
    channelMap: { agent: 0, customer: 1 },
  });
  return measures;
}

const seconds = (measured: number | null, expected: number | null, what: string) => {
  if (expected === null) return assert.equal(measured, null, what);
  assert.ok(measured !== null, `${what}: not measured`);
  const tolerance = Math.max(0.5, expected * 0.05);
  assert.ok(
    Math.abs(measured - expected) <= tolerance,
    `${what}: ${measured} s, labelled ${expected} s (± ${tolerance.toFixed(2)} s)`,
  );
};

for (const call of labels.calls) {
  describe(`audio measures of ${call.name} (${call.description})`, () => {
    let measures: AudioMeasures;
    const measured = async () => {
      measures ??= await measure(join(audioFixtureDir, call.file));
      return measures;
    };

    test("format and duration are read from the file", async () => {
      const m = await measured();
      assert.equal(m.format.codec, "mulaw");
      assert.equal(m.format.sampleRate, 8000);
      assert.equal(m.format.channels, call.format.channels);
      assert.ok(Math.abs(m.durationSeconds - call.durationSeconds) < 0.05);
    });

    test("talk time per party (± 5 % or 0.5 s)", async () => {
      const m = await measured();
      seconds(m.talkSeconds.agent, call.expected.talkSeconds.agent, "agent talk");
      seconds(m.talkSeconds.customer, call.expected.talkSeconds.customer, "customer talk");
      seconds(m.talkSeconds.total, call.expected.talkSeconds.total, "total talk");
    });

    test("silence share (± 2 points)", async () => {
      const m = await measured();
      assert.ok(
        Math.abs(m.silenceShare - call.expected.silenceShare) <= 0.02,
        `silence ${m.silenceShare}, labelled ${call.expected.silenceShare}`,
      );
    });

    test("longest silence (± 0.3 s)", async () => {
      const m = await measured();
      assert.ok(
        Math.abs(m.longestSilenceSeconds - call.expected.longestSilenceSeconds) <= 0.3,
        `longest silence ${m.longestSilenceSeconds} s, labelled ${call.expected.longestSilenceSeconds} s`,
      );
    });

    test("overtalk count, dead-air count and holds (exact)", async () => {
      const m = await measured();
      assert.equal(m.overtalkCount, call.expected.overtalkCount, "overtalk");
      assert.equal(m.deadAirCount, call.expected.deadAirCount, "dead air");
      assert.equal(m.holdCount, call.expected.holdCount, "holds");
      for (const [i, hold] of call.holds.entries()) {
        assert.ok(
          Math.abs(m.holds[i]!.start - hold.start) <= 0.3 && Math.abs(m.holds[i]!.end - hold.end) <= 0.3,
          "hold music where it plays",
        );
      }
    });
  });
}

describe("the same call in other formats and channel layouts", () => {
  const billing = labels.calls.find((c) => c.name === "billing-call") as LabelledCall;
  const dir = mkdtempSync(join(tmpdir(), "cqa-measure-formats-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("as 44.1 kHz stereo MP3 (through ffmpeg), the measures stay within tolerance", {
    skip: !ffmpeg.available && "ffmpeg is not installed",
  }, async () => {
    const mp3 = join(dir, "billing.mp3");
    execFileSync("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-i",
      join(audioFixtureDir, billing.file),
      "-ar",
      "44100",
      "-b:a",
      "64k",
      mp3,
    ]);
    const m = await measure(mp3);
    assert.equal(m.format.decoder, "ffmpeg");
    seconds(m.talkSeconds.agent, billing.expected.talkSeconds.agent, "agent talk");
    seconds(m.talkSeconds.customer, billing.expected.talkSeconds.customer, "customer talk");
    assert.equal(m.overtalkCount, billing.expected.overtalkCount);
    assert.equal(m.holdCount, 1);
  });

  test("engine input: each party's channel at 16 kHz, the telephone band filled", async () => {
    const path = join(audioFixtureDir, billing.file);
    const out = mkdtempSync(join(dir, "engine-"));
    const { engineChannels } = await analyseRecording(createReadStream(path), statSync(path).size, {
      decode,
      channelMap: { agent: 0, customer: 1 },
      engineInputDir: out,
    });
    assert.deepEqual(
      engineChannels?.map((c) => [c.role, c.channel, c.bandFilled]),
      [
        ["agent", 0, true],
        ["customer", 1, true],
      ],
    );
    const wav = readFileSync(engineChannels![0]!.path);
    assert.equal(wav.readUInt32LE(24), 16000, "16 kHz");
    assert.equal(wav.readUInt16LE(22), 1, "mono");
    assert.ok(Math.abs(engineChannels![0]!.seconds - billing.durationSeconds) < 0.05);
  });
});
