import type { PhraseWindow } from "../../core/qualityProfile.ts";
import type { Transcript, TranscriptTurn } from "../../core/transcript.ts";
import { joinWords } from "./describeFindings.ts";

/** The part of a conversation a phrase must be said in. */
export interface TurnWindow {
  includes(turn: TranscriptTurn): boolean;
  /** "the first 30 s or the first 2 turns". */
  description: string;
  /** How turns stood in for seconds when the transcript has no times; null when they did not. */
  fallbackNote: string | null;
}

/** Assumed length of a turn when neither timestamps nor the call duration say otherwise. */
const defaultSecondsPerTurn = 15;

function turns(count: number): string {
  return count === 1 ? "turn" : `${count} turns`;
}

/**
 * Resolves a window against a transcript. Bounds are alternatives: a turn inside any of them counts
 * ("the first 30 s or the first 2 turns"). Turn counts leave out system turns (IVR prompts, bots),
 * which are not part of the agent's conversation. A turn is inside a seconds bound when any of it
 * overlaps the bound. Without timestamps a seconds bound is replaced by the turn bound given beside
 * it, or else by an estimate from the call duration (or 15 s a turn).
 */
export function resolveTurnWindow(
  window: PhraseWindow,
  transcript: Transcript,
  durationSeconds: number | null,
): TurnWindow {
  const people = transcript.turns.filter((t) => t.speaker !== "system");
  const counted = people.length > 0 ? people : transcript.turns;
  const inside = new Set<number>();
  const parts: string[] = [];
  const fallbacks: string[] = [];
  const secondsPerTurn =
    durationSeconds !== null && durationSeconds > 0 && counted.length > 0
      ? durationSeconds / counted.length
      : defaultSecondsPerTurn;
  const estimate = (seconds: number) => Math.max(1, Math.round(seconds / secondsPerTurn));
  const { firstSeconds, lastSeconds, firstTurns, lastTurns } = window;

  if (firstTurns !== undefined) {
    for (const turn of counted.slice(0, firstTurns)) inside.add(turn.index);
    parts.push(`the first ${turns(firstTurns)}`);
  }
  if (lastTurns !== undefined) {
    for (const turn of counted.slice(-lastTurns)) inside.add(turn.index);
    parts.push(`the last ${turns(lastTurns)}`);
  }
  if (firstSeconds !== undefined) {
    if (transcript.timed) {
      for (const turn of transcript.turns) if (turn.start! <= firstSeconds) inside.add(turn.index);
      parts.unshift(`the first ${firstSeconds} s`);
    } else if (firstTurns !== undefined) {
      fallbacks.push(`the first ${turns(firstTurns)} stood in for the first ${firstSeconds} s`);
    } else {
      const count = estimate(firstSeconds);
      for (const turn of counted.slice(0, count)) inside.add(turn.index);
      parts.push(`the first ${turns(count)}`);
      fallbacks.push(`the first ${firstSeconds} s were taken as the first ${turns(count)}`);
    }
  }
  if (lastSeconds !== undefined) {
    if (transcript.timed) {
      const callEnd = Math.max(...transcript.turns.map((t) => t.end ?? t.start!));
      for (const turn of transcript.turns)
        if ((turn.end ?? turn.start!) >= callEnd - lastSeconds) inside.add(turn.index);
      parts.push(`the last ${lastSeconds} s`);
    } else if (lastTurns !== undefined) {
      fallbacks.push(`the last ${turns(lastTurns)} stood in for the last ${lastSeconds} s`);
    } else {
      const count = estimate(lastSeconds);
      for (const turn of counted.slice(-count)) inside.add(turn.index);
      parts.push(`the last ${turns(count)}`);
      fallbacks.push(`the last ${lastSeconds} s were taken as the last ${turns(count)}`);
    }
  }
  return {
    includes: (turn) => inside.has(turn.index),
    description: joinWords(parts, "or"),
    fallbackNote:
      fallbacks.length === 0 ? null : `The transcript has no timestamps, so ${joinWords(fallbacks, "and")}.`,
  };
}
