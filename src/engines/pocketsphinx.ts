import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SpottedPhrase } from "../core/audio.ts";
import { AppError } from "../core/errors.ts";
import { runProcess } from "./runProcess.ts";
import {
  type EngineInput,
  type PhraseSpotter,
  type RecognisedSegment,
  type SpeechEngine,
  segmentWords,
} from "./speechEngine.ts";

/** Where Debian's pocketsphinx-en-us puts the model, and the two binaries of pocketsphinx 0.8/5prealpha. */
export interface PocketSphinxSettings {
  /** `pocketsphinx_continuous` (on PATH, or a full path). */
  binary: string;
  /** Directory holding `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir: string;
}

export const defaultPocketSphinx: PocketSphinxSettings = {
  binary: "pocketsphinx_continuous",
  modelDir: "/usr/share/pocketsphinx/model/en-us",
};

/** Whether PocketSphinx can run here, and if not, what to install. */
export type PocketSphinxStatus = { available: true; detail: string } | { available: false; reason: string };

/** Checks the binary answers and the model files are there (a few hundred ms; run once at start). */
export async function probePocketSphinx(settings: PocketSphinxSettings): Promise<PocketSphinxStatus> {
  const missing = ["en-us/mdef", "en-us.lm.bin", "cmudict-en-us.dict"].filter(
    (f) => !existsSync(join(settings.modelDir, f)),
  );
  if (missing.length > 0) {
    return {
      available: false,
      reason: `the English model is missing from ${settings.modelDir} (${missing.join(", ")}): install it with apt-get install pocketsphinx-en-us, or set CQA_POCKETSPHINX_MODEL`,
    };
  }
  try {
    // Without -infile it prints its usage and exits: enough to know the binary and its libraries load.
    await runProcess(settings.binary, ["-logfn", "/dev/null"], { timeoutMs: 10_000, what: "PocketSphinx" });
  } catch (error) {
    const notFound = error instanceof AppError && error.code === "ENGINE_UNAVAILABLE";
    return {
      available: false,
      reason: notFound
        ? `'${settings.binary}' was not found: install it with apt-get install pocketsphinx, or set CQA_POCKETSPHINX_BIN`
        : (error as Error).message,
    };
  }
  return { available: true, detail: `${settings.binary} with the en-us model in ${settings.modelDir}` };
}

const wordLine = /^(\S+) (\d+\.\d+) (\d+\.\d+) (\d+(?:\.\d+)?)$/;

/** Lines of `-time yes` output → recognised words (fillers, silences and sentence marks left out). */
export function parseWordTimes(
  stdout: string,
): { word: string; start: number; end: number; confidence: number | null }[] {
  const words: { word: string; start: number; end: number; confidence: number | null }[] = [];
  for (const line of stdout.split("\n")) {
    const match = wordLine.exec(line.trim());
    if (!match) continue;
    const token = match[1]!;
    if (token.startsWith("<") || token.startsWith("[") || token.startsWith("++")) continue;
    const start = Number(match[2]);
    const end = Number(match[3]);
    // A "word" held for seconds is the recogniser latching onto music or noise.
    if (end - start > 2.5) continue;
    words.push({ word: token.replace(/\(\d+\)$/, ""), start, end, confidence: Number(match[4]) });
  }
  return words;
}

/** Generous wall-time limit: PocketSphinx runs at about 0.15–0.2 × real time per core. */
function timeoutFor(seconds: number): number {
  return Math.round(60_000 + seconds * 2_000);
}

/**
 * CMU PocketSphinx (Debian's pocketsphinx, en-us model) as a speech engine, by running its
 * `pocketsphinx_continuous` on each channel. Offline and free, but rough: about one word in three
 * is wrong on clean 16 kHz speech, more on telephone audio.
 */
export class PocketSphinxEngine implements SpeechEngine, PhraseSpotter {
  readonly kind = "pocketsphinx";
  readonly label = "PocketSphinx (offline, en-us model)";
  readonly languages = ["en"] as const;
  readonly accuracyNote =
    "Offline recognition is rough (roughly a third of the words wrong on clean speech, more on telephone audio): phrase KPIs also listen for their phrases in the audio, and the transcript should not be read as a verbatim record.";
  readonly #settings: PocketSphinxSettings;
  #dictionary: Set<string> | null = null;

  constructor(settings: PocketSphinxSettings = defaultPocketSphinx) {
    this.#settings = settings;
  }

  #modelArgs(): string[] {
    const dir = this.#settings.modelDir;
    return ["-hmm", join(dir, "en-us"), "-dict", join(dir, "cmudict-en-us.dict"), "-logfn", "/dev/null"];
  }

  async transcribe(input: EngineInput): Promise<RecognisedSegment[]> {
    const result = await runProcess(
      this.#settings.binary,
      [
        "-infile",
        input.path,
        "-time",
        "yes",
        "-lm",
        join(this.#settings.modelDir, "en-us.lm.bin"),
        ...this.#modelArgs(),
      ],
      { timeoutMs: timeoutFor(input.seconds), what: "PocketSphinx transcription" },
    );
    if (result.code !== 0) {
      throw new AppError(
        "ENGINE_FAILED",
        `PocketSphinx exited with status ${result.code}: ${result.stderr.trim().slice(-300)}`,
      );
    }
    return segmentWords(parseWordTimes(result.stdout));
  }

  /** The words of the pronunciation dictionary (read once, ~130,000 words). */
  #words(): Set<string> {
    if (this.#dictionary === null) {
      const text = readFileSync(join(this.#settings.modelDir, "cmudict-en-us.dict"), "utf8");
      const words = new Set<string>();
      for (const line of text.split("\n")) {
        const word = line.slice(0, line.indexOf(" ")).replace(/\(\d+\)$/, "");
        if (word) words.add(word);
      }
      this.#dictionary = words;
    }
    return this.#dictionary;
  }

  unspottable(phrases: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    const words = this.#words();
    for (const phrase of phrases) {
      const tokens = spotterWords(phrase);
      const unknown = tokens.filter((t) => !words.has(t));
      if (tokens.length === 0) out.set(phrase, "it has no words to listen for");
      else if (unknown.length > 0)
        out.set(phrase, `the offline dictionary does not know ${unknown.map((w) => `"${w}"`).join(", ")}`);
    }
    return out;
  }

  async spot(input: EngineInput, phrases: readonly string[]): Promise<Omit<SpottedPhrase, "speaker">[]> {
    const skip = this.unspottable(phrases);
    const spottable = [...new Set(phrases.filter((p) => !skip.has(p)).map((p) => spotterWords(p).join(" ")))];
    if (spottable.length === 0) return [];
    const dir = await mkdtemp(join(tmpdir(), "cqa-kws-"));
    try {
      const list = join(dir, "phrases.kws");
      writeFileSync(list, spottable.map((p) => `${p} /${spottingThreshold(p)}/\n`).join(""));
      const result = await runProcess(
        this.#settings.binary,
        [
          "-infile",
          input.path,
          "-time",
          "yes",
          "-kws",
          list,
          "-kws_plp",
          spottingPhoneLoopProbability,
          ...this.#modelArgs(),
        ],
        { timeoutMs: timeoutFor(input.seconds), what: "PocketSphinx phrase spotting" },
      );
      if (result.code !== 0) {
        throw new AppError(
          "ENGINE_FAILED",
          `PocketSphinx spotting exited with status ${result.code}: ${result.stderr.trim().slice(-300)}`,
        );
      }
      const found: Omit<SpottedPhrase, "speaker">[] = [];
      const known = new Set(spottable);
      for (const line of result.stdout.split("\n")) {
        const match = /^(.+?)\s+(\d+\.\d+) (\d+\.\d+) (\d+(?:\.\d+)?)$/.exec(line.trim());
        if (!match || !known.has(match[1]!.trim())) continue;
        found.push({
          phrase: match[1]!.trim(),
          start: Number(match[2]),
          end: Number(match[3]),
          confidence: Number(match[4]),
        });
      }
      // Every configured phrase that normalises to a spotted one is reported under its own wording.
      return phrases.flatMap((phrase) => {
        const key = spotterWords(phrase).join(" ");
        return found.filter((f) => f.phrase === key).map((f) => ({ ...f, phrase }));
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** A phrase as the dictionary spells it: lower case, letters, digits as words, apostrophes kept. */
export function spotterWords(phrase: string): string[] {
  return phrase
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/)
    .filter((w) => w.length > 0 && w !== "'");
}

/**
 * How freely the spotter lets the "any other sound" loop compete with the phrase (PocketSphinx's
 * -kws_plp, default 1e-1). At 1e-1 most phrases in 8 kHz telephone audio are never reported; at 1e-8
 * they are, with false alarms that the confidence floor of the phrase evaluators then removes (tuned
 * on the fixture set: docs/analysis.md).
 */
export const spottingPhoneLoopProbability = "1e-8";

/**
 * Detection threshold per phrase: 1e-(2 × syllables), between 1e-5 and 1e-40. A longer phrase has
 * more acoustic evidence and is held to a smaller threshold.
 */
export function spottingThreshold(phrase: string): string {
  const syllables = phrase
    .split(" ")
    .reduce((n, w) => n + Math.max(1, (w.match(/[aeiouy]+/g) ?? []).length), 0);
  const exponent = Math.min(40, Math.max(5, syllables * 2));
  return `1e-${exponent}`;
}
