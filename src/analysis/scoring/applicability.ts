import type { Applicability } from "../../core/qualityProfile.ts";
import type { Transcript } from "../../core/transcript.ts";
import { joinWords, listPhrases, speakerGroup } from "./describeFindings.ts";
import { preparePhrase } from "./fuzzyMatch.ts";
import { type FoundPhrase, firstOccurrence, turnsSpokenBy } from "./phraseSearch.ts";

/** Whether a KPI applies to a conversation; when it does not, why (a clause: "it is a CHAT conversation"). */
export type ApplicabilityOutcome =
  | { applies: true; trigger: FoundPhrase | null }
  | { applies: false; reason: string };

const defaultMinSimilarity = 0.8;

/**
 * Checks a KPI's `appliesWhen`: channel, minimum turns, then the trigger phrases. A trigger phrase
 * may be said by anyone unless the KPI names a speaker.
 */
export function checkApplicability(
  when: Applicability | undefined,
  transcript: Transcript,
  channelType: string,
): ApplicabilityOutcome {
  if (when === undefined) return { applies: true, trigger: null };
  if (when.channels !== undefined && when.channels.length > 0) {
    const channel = channelType.trim().toUpperCase();
    if (!when.channels.some((c) => c.trim().toUpperCase() === channel)) {
      return {
        applies: false,
        reason: `this KPI applies only to ${joinWords(when.channels, "or")} conversations and this one is ${channel || "of no stated channel"}`,
      };
    }
  }
  if (when.minTurns !== undefined && transcript.turns.length < when.minTurns) {
    return {
      applies: false,
      reason: `the conversation has ${transcript.turns.length} turn(s) and this KPI applies from ${when.minTurns}`,
    };
  }
  if (when.phrasePresent !== undefined) {
    const { phrases, speaker = "any", minSimilarity = defaultMinSimilarity } = when.phrasePresent;
    const { turns } = turnsSpokenBy(transcript, speaker);
    const triggers = phrases
      .map((phrase) => firstOccurrence(turns, preparePhrase(phrase), minSimilarity))
      .filter((found) => found !== null);
    const earliest = triggers.sort((a, b) => a.turn.index - b.turn.index)[0];
    if (earliest !== undefined) return { applies: true, trigger: earliest };
    const none = phrases.length === 1 ? `"${phrases[0]}" was` : `none of ${listPhrases(phrases, "or")} was`;
    return { applies: false, reason: `${none} said by ${speakerGroup(speaker)}` };
  }
  return { applies: true, trigger: null };
}
