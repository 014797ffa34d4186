// The wording of justifications: short sentences a QA manager can check against the transcript.
import type { SpeakerFilter } from "../../core/qualityProfile.ts";
import type { TranscriptTurn } from "../../core/transcript.ts";
import type { FoundPhrase } from "./phraseSearch.ts";

/** "0:04", "12:03", "1:02:03". */
function formatClock(seconds: number): string {
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** "at 0:04 (turn 1)" when the turn is timed, else "in turn 1" (turns are counted from 1 for people). */
function whereSaid(turn: TranscriptTurn): string {
  return turn.start === undefined
    ? `in turn ${turn.index + 1}`
    : `at ${formatClock(turn.start)} (turn ${turn.index + 1})`;
}

/** Who said a turn, as the subject opening a sentence ("Agent") or inside one ("the agent"). */
function speakerName(turn: TranscriptTurn, opensSentence = true): string {
  switch (turn.speaker) {
    case "agent":
      return opensSentence ? "Agent" : "the agent";
    case "customer":
      return opensSentence ? "Customer" : "the customer";
    case "system":
      return opensSentence ? "The system" : "the system";
    case "unknown":
      if (turn.speakerLabel !== "") return `"${turn.speakerLabel}"`;
      return opensSentence ? "Someone" : "someone";
  }
}

/** The quote, and the configured phrase when the words differ from it. */
function quoteOf(found: FoundPhrase): string {
  return found.match.similarity < 1
    ? `"${found.match.quote}" (close to "${found.phrase}")`
    : `"${found.match.quote}"`;
}

/** `Agent said "thank you for calling" at 0:04 (turn 1)`. */
export function saidSentence(found: FoundPhrase, opensSentence = true): string {
  return `${speakerName(found.turn, opensSentence)} said ${quoteOf(found)} ${whereSaid(found.turn)}`;
}

/** `"thank you for calling" at 0:04 (turn 1)`, for lists of findings. */
export function findingShort(found: FoundPhrase): string {
  return `${quoteOf(found)} ${whereSaid(found.turn)}`;
}

/** `"a", "b" or "c"` / `"a", "b", "c" and 4 more`. */
export function listPhrases(phrases: readonly string[], conjunction: "or" | "and", max = 3): string {
  const quoted = phrases.map((p) => `"${p}"`);
  if (quoted.length <= max) return joinWords(quoted, conjunction);
  return `${quoted.slice(0, max).join(", ")} and ${quoted.length - max} more`;
}

/** "a", "a and b", "a, b and c". */
export function joinWords(items: readonly string[], conjunction: "or" | "and"): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${conjunction} ${items.at(-1)}`;
}

/** "the agent", "the customer", "anyone". */
export function speakerGroup(speaker: SpeakerFilter): string {
  return speaker === "any" ? "anyone" : `the ${speaker}`;
}

export const speakersUnknownSentence =
  "Speakers are not identified in this transcript, so every turn was searched.";

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
