import type { SpeakerFilter } from "../../core/qualityProfile.ts";
import type { Evidence, Transcript, TranscriptTurn } from "../../core/transcript.ts";
import {
  makeSearchable,
  matchPhrase,
  type PhraseMatch,
  type SearchablePhrase,
  type SearchableText,
} from "./fuzzyMatch.ts";

/** A configured phrase found in one turn. */
export interface FoundPhrase {
  phrase: string;
  turn: TranscriptTurn;
  match: PhraseMatch;
}

// Every KPI of a profile searches the same turns: prepare each turn once per transcript object.
const searchableTurns = new WeakMap<TranscriptTurn, SearchableText>();

function searchableTurn(turn: TranscriptTurn): SearchableText {
  let searchable = searchableTurns.get(turn);
  if (searchable === undefined || searchable.text !== turn.text) {
    searchable = makeSearchable(turn.text);
    searchableTurns.set(turn, searchable);
  }
  return searchable;
}

/** The turns a speaker filter selects, and whether every turn had to be searched instead. */
export interface SpeakerTurns {
  turns: TranscriptTurn[];
  /** True when the transcript names no agent or customer, so the filter could not be applied. */
  speakersUnknown: boolean;
}

/** Turns spoken by `speaker`; all turns when the transcript does not say who is agent or customer. */
export function turnsSpokenBy(transcript: Transcript, speaker: SpeakerFilter): SpeakerTurns {
  if (speaker === "any") return { turns: transcript.turns, speakersUnknown: false };
  const rolesKnown = transcript.turns.some((t) => t.speaker === "agent" || t.speaker === "customer");
  if (!rolesKnown) return { turns: transcript.turns, speakersUnknown: true };
  return { turns: transcript.turns.filter((t) => t.speaker === speaker), speakersUnknown: false };
}

/** The first turn, in conversation order, where the phrase is said. */
export function firstOccurrence(
  turns: readonly TranscriptTurn[],
  phrase: SearchablePhrase,
  minSimilarity: number,
): FoundPhrase | null {
  for (const turn of turns) {
    const match = matchPhrase(searchableTurn(turn), phrase, minSimilarity);
    if (match !== null) return { phrase: phrase.phrase, turn, match };
  }
  return null;
}

/** Every turn where the phrase is said (its best match in each). */
export function allOccurrences(
  turns: readonly TranscriptTurn[],
  phrase: SearchablePhrase,
  minSimilarity: number,
): FoundPhrase[] {
  const found: FoundPhrase[] = [];
  for (const turn of turns) {
    const match = matchPhrase(searchableTurn(turn), phrase, minSimilarity);
    if (match !== null) found.push({ phrase: phrase.phrase, turn, match });
  }
  return found;
}

/**
 * Orders findings by where they were said and drops a finding whose words overlap a better one in
 * the same turn ("thank you" inside "thank you for calling" is one piece of evidence, not two).
 */
export function distinctFindings(findings: readonly FoundPhrase[]): FoundPhrase[] {
  const byQuality = [...findings].sort(
    (a, b) =>
      b.match.similarity - a.match.similarity ||
      b.match.charEnd - b.match.charStart - (a.match.charEnd - a.match.charStart),
  );
  const kept: FoundPhrase[] = [];
  for (const finding of byQuality) {
    const overlaps = kept.some(
      (k) =>
        k.turn.index === finding.turn.index &&
        k.match.charStart < finding.match.charEnd &&
        finding.match.charStart < k.match.charEnd,
    );
    if (!overlaps) kept.push(finding);
  }
  return kept.sort((a, b) => a.turn.index - b.turn.index || a.match.charStart - b.match.charStart);
}

/** The evidence record of a finding, with times when the turn has them. */
export function toEvidence(found: FoundPhrase): Evidence {
  const evidence: Evidence = {
    turnIndex: found.turn.index,
    speaker: found.turn.speaker,
    quote: found.match.quote,
    charStart: found.match.charStart,
    charEnd: found.match.charEnd,
    phrase: found.phrase,
    similarity: found.match.similarity,
  };
  if (found.turn.start !== undefined) evidence.startSeconds = found.turn.start;
  if (found.turn.end !== undefined) evidence.endSeconds = found.turn.end;
  return evidence;
}
