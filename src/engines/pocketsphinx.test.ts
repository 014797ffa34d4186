import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { before, describe, test } from "node:test";
import { librivoxUtterances } from "../../test/support/audioFixtures.ts";
import {
  defaultPocketSphinx,
  PocketSphinxEngine,
  parseWordTimes,
  probePocketSphinx,
  spotterWords,
} from "./pocketsphinx.ts";
import { wordErrorRate } from "./wordErrorRate.ts";

const speech = librivoxUtterances();
const status = await probePocketSphinx(defaultPocketSphinx);
const skip = !status.available
  ? `PocketSphinx is not installed (${status.reason})`
  : speech.length === 0
    ? "pocketsphinx-testdata is not installed"
    : false;

describe("PocketSphinx, the offline engine (real binary, real human speech from pocketsphinx-testdata)", {
  skip,
}, () => {
  const engine = new PocketSphinxEngine();
  const input = (path: string) => ({
    path,
    seconds: (statSync(path).size - 44) / 32000,
    role: "mixed" as const,
  });

  test("is found, and a missing binary or model says what to install", async () => {
    assert.equal(status.available, true);
    const noBinary = await probePocketSphinx({ ...defaultPocketSphinx, binary: "pocketsphinx_missing_here" });
    assert.equal(noBinary.available, false);
    assert.match(
      !noBinary.available ? noBinary.reason : "",
      /'pocketsphinx_missing_here' was not found: install it with apt-get install pocketsphinx/,
    );
    const noModel = await probePocketSphinx({ ...defaultPocketSphinx, modelDir: "/nonexistent" });
    assert.match(!noModel.available ? noModel.reason : "", /apt-get install pocketsphinx-en-us/);
  });

  let transcripts: {
    text: string;
    hypothesis: string;
    segments: Awaited<ReturnType<PocketSphinxEngine["transcribe"]>>;
  }[] = [];
  before(async () => {
    transcripts = [];
    for (const utterance of speech) {
      const segments = await engine.transcribe(input(utterance.path));
      transcripts.push({ text: utterance.text, hypothesis: segments.map((s) => s.text).join(" "), segments });
    }
  });

  test("transcribes clean 16 kHz read speech with timed segments, at most 45 % of words wrong", () => {
    const rate = wordErrorRate(
      transcripts.map((t) => t.text),
      transcripts.map((t) => t.hypothesis),
    );
    assert.ok(rate.wer <= 0.45, `WER ${(rate.wer * 100).toFixed(1)} % over ${rate.words} words`);
    for (const t of transcripts) {
      assert.ok(t.segments.length > 0);
      assert.ok(t.segments.every((s) => s.start >= 0 && s.end > s.start && s.end < 10));
    }
  });

  test("spots a phrase in the audio where it is said, and not where it is not", async () => {
    const disposed = speech.filter((u) => u.text.includes("ill disposed"));
    assert.equal(disposed.length, 2);
    for (const u of disposed) {
      const hits = await engine.spot(input(u.path), ["ill disposed", "thank you for calling"]);
      assert.deepEqual([...new Set(hits.map((h) => h.phrase))], ["ill disposed"], u.text);
    }
    const others = speech.filter((u) => !u.text.includes("ill disposed"));
    for (const u of others) {
      const hits = await engine.spot(input(u.path), ["ill disposed", "thank you for calling"]);
      assert.deepEqual(
        hits.filter((h) => (h.confidence ?? 1) >= 0.9),
        [],
        `false alarm in "${u.text}"`,
      );
    }
  });

  test("phrases with words the offline dictionary lacks are reported, not sent to the spotter", () => {
    const missing = engine.unspottable(["welcome to Northwind Energy", "thank you for calling", "!!!"]);
    assert.equal(
      missing.get("welcome to Northwind Energy"),
      'the offline dictionary does not know "northwind"',
    );
    assert.equal(missing.has("thank you for calling"), false);
    assert.equal(missing.get("!!!"), "it has no words to listen for");
    assert.deepEqual(spotterWords("I’m SORRY, that's—fine"), ["i'm", "sorry", "that's", "fine"]);
  });
});

describe("reading PocketSphinx's word times", () => {
  test("keeps words with their times; drops sentence marks, silences, fillers and words held for seconds", () => {
    const out = [
      "he was not",
      "<s> 0.000 0.140 0.999400",
      "he 0.150 0.360 0.260057",
      "was(2) 0.370 0.620 0.988762",
      "<sil> 0.630 0.700 1.0",
      "[NOISE] 0.700 0.800 1.0",
      "cool 1.000 6.000 0.99",
      "not 6.100 6.300 0.5",
    ].join("\n");
    assert.deepEqual(parseWordTimes(out), [
      { word: "he", start: 0.15, end: 0.36, confidence: 0.260057 },
      { word: "was", start: 0.37, end: 0.62, confidence: 0.988762 },
      { word: "not", start: 6.1, end: 6.3, confidence: 0.5 },
    ]);
  });
});
