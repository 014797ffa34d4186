import type { SpeechAnalysis, SpottedPhrase } from "../../core/audio.ts";
import type { KpiEvaluation, PhraseSpottedEvaluator, SpeakerFilter } from "../../core/qualityProfile.ts";
import type { Evidence, Transcript, TranscriptTurn } from "../../core/transcript.ts";
import { capitalise, listPhrases, speakerGroup } from "./describeFindings.ts";
import { preparePhrase } from "./fuzzyMatch.ts";
import { type FoundPhrase, firstOccurrence, toEvidence, turnsSpokenBy } from "./phraseSearch.ts";

const defaultMinConfidence = 0.9;

interface Heard {
  phrase: string;
  start: number;
  evidence: Evidence;
  how: string;
}

function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return `${m}:${String(Math.floor(seconds - m * 60)).padStart(2, "0")}`;
}

/** Whether a time is inside the window: the first N s, or the last N s of the call. */
function windowTest(config: PhraseSpottedEvaluator, callEnd: number): ((seconds: number) => boolean) | null {
  const first = config.window?.firstSeconds;
  const last = config.window?.lastSeconds;
  if (first === undefined && last === undefined) return null;
  return (t) => (first !== undefined && t <= first) || (last !== undefined && t >= callEnd - last);
}

function describeWindow(config: PhraseSpottedEvaluator): string {
  const parts: string[] = [];
  if (config.window?.firstSeconds !== undefined) parts.push(`the first ${config.window.firstSeconds} s`);
  if (config.window?.lastSeconds !== undefined) parts.push(`the last ${config.window.lastSeconds} s`);
  return parts.join(" or ");
}

function spokenBy(speaker: SpeakerFilter, who: SpottedPhrase["speaker"]): boolean {
  return speaker === "any" || who === speaker || who === "unknown";
}

/** The transcript turn of that speaker around a moment, so audio evidence links to the words near it. */
function turnAt(
  transcript: Transcript | null,
  seconds: number,
  speaker: SpottedPhrase["speaker"],
): TranscriptTurn | null {
  if (transcript === null) return null;
  return (
    transcript.turns.find(
      (t) =>
        t.start !== undefined &&
        t.start - 0.5 <= seconds &&
        (t.end ?? t.start) + 0.5 >= seconds &&
        (speaker === "unknown" || t.speaker === speaker),
    ) ?? null
  );
}

/**
 * A phrase said by the speaker, found in the recording by keyword spotting (confident hits only) or
 * in the transcript by fuzzy matching — whichever finds it. So "greeting within 30 s" can be answered
 * offline even when the full transcript is poor. Yes inside the window; Partially when only outside
 * it; No when neither the audio nor the transcript has it; N/A when neither was available.
 */
export function evaluatePhraseSpotted(
  config: PhraseSpottedEvaluator,
  transcript: Transcript | null,
  speech: SpeechAnalysis | null,
  callSeconds: number | null,
): KpiEvaluation {
  const speaker = config.speaker ?? "agent";
  const minConfidence = config.minConfidence ?? defaultMinConfidence;
  const listened = speech !== null && speech.spotter !== null && speech.error === null;
  const readable = transcript !== null && transcript.turns.length > 0;
  if (!listened && !readable) {
    const why = speech?.error
      ? `phrase spotting failed (${speech.error})`
      : "no phrase spotter listened to the recording";
    return {
      answer: "N/A",
      justification: `There is no transcript and ${why}, so the phrases could not be looked for.`,
      evidence: [],
    };
  }
  const timedEnd = transcript?.timed ? Math.max(0, ...transcript.turns.map((t) => t.end ?? t.start ?? 0)) : 0;
  const callEnd = callSeconds ?? timedEnd;
  const inWindow = windowTest(config, callEnd);
  if (inWindow !== null && !listened && !transcript!.timed) {
    return {
      answer: "N/A",
      justification: `The window (${describeWindow(config)}) needs times, and the transcript has none and no audio was spotted.`,
      evidence: [],
    };
  }

  const heard: Heard[] = [];
  if (listened) {
    for (const hit of speech.spotted) {
      if (!config.phrases.includes(hit.phrase) || !spokenBy(speaker, hit.speaker)) continue;
      if (hit.confidence !== null && hit.confidence < minConfidence) continue;
      const turn = turnAt(transcript, hit.start, hit.speaker);
      heard.push({
        phrase: hit.phrase,
        start: hit.start,
        how: "heard in the recording",
        evidence: {
          turnIndex: turn?.index ?? -1,
          speaker: hit.speaker,
          quote: hit.phrase,
          charStart: 0,
          charEnd: 0,
          startSeconds: hit.start,
          endSeconds: hit.end,
          phrase: hit.phrase,
          ...(hit.confidence === null
            ? {}
            : { similarity: Math.min(1, Math.round(hit.confidence * 100) / 100) }),
          source: "audio",
        },
      });
    }
  }
  if (readable) {
    const { turns } = turnsSpokenBy(transcript, speaker);
    for (const phrase of config.phrases) {
      const prepared = preparePhrase(phrase);
      const found: FoundPhrase | null = firstOccurrence(turns, prepared, config.minSimilarity ?? 0.8);
      if (found === null) continue;
      heard.push({
        phrase,
        start: found.turn.start ?? Number.POSITIVE_INFINITY,
        how: "read in the transcript",
        evidence: { ...toEvidence(found), source: "transcript" },
      });
    }
  }
  heard.sort((a, b) => a.start - b.start);
  const inside = inWindow === null ? heard : heard.filter((h) => inWindow(h.start));
  const outside = inWindow === null ? [] : heard.filter((h) => !inWindow(h.start));
  const who = capitalise(speakerGroup(speaker));
  const notes = unspottableNote(config.phrases, speech);
  const within = inWindow === null ? "" : `, within ${describeWindow(config)}`;
  const first = inside[0];
  if (first !== undefined) {
    const at = Number.isFinite(first.start) ? ` at ${clock(first.start)}` : "";
    return {
      answer: "Yes",
      justification: `${who} said "${first.phrase}"${at}${within} (${first.how}).${notes}`,
      evidence: inside.slice(0, 10).map((h) => h.evidence),
    };
  }
  const early = outside[0];
  if (early !== undefined) {
    return {
      answer: "Partially",
      justification: `${who} said "${early.phrase}" at ${clock(early.start)} (${early.how}), but not within ${describeWindow(config)}.${notes}`,
      evidence: outside.slice(0, 10).map((h) => h.evidence),
    };
  }
  const where =
    listened && readable
      ? "heard in the recording or found in the transcript"
      : listened
        ? "heard in the recording"
        : "found in the transcript";
  const what =
    config.phrases.length === 1
      ? `"${config.phrases[0]}" was not ${where}`
      : `None of ${listPhrases(config.phrases, "or")} was ${where}`;
  return {
    answer: "No",
    justification: `${what} for ${speakerGroup(speaker)}${within}.${notes}`,
    evidence: [],
  };
}

function unspottableNote(phrases: readonly string[], speech: SpeechAnalysis | null): string {
  if (speech === null || speech.spotter === null) return "";
  const missed = phrases.filter((p) => speech.unspottable[p] !== undefined);
  if (missed.length === 0) return "";
  return ` Not listened for in the audio: ${missed.map((p) => `"${p}" (${speech.unspottable[p]})`).join("; ")}.`;
}
