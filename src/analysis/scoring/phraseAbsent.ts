import type { EvaluatorConfig, KpiEvaluation } from "../../core/qualityProfile.ts";
import type { Transcript } from "../../core/transcript.ts";
import { saidSentence, speakerGroup, speakersUnknownSentence } from "./describeFindings.ts";
import { preparePhrase } from "./fuzzyMatch.ts";
import { allOccurrences, distinctFindings, toEvidence, turnsSpokenBy } from "./phraseSearch.ts";

type PhraseAbsentConfig = Extract<EvaluatorConfig, { type: "phrase_absent" }>;

const listedInJustification = 3;
const maxEvidence = 20;

/**
 * Yes when none of the phrases is said by the speaker (from `fromTurnIndex` on); No, with every
 * occurrence as evidence, otherwise.
 */
export function evaluatePhraseAbsent(
  config: PhraseAbsentConfig,
  transcript: Transcript,
  fromTurnIndex = 0,
): KpiEvaluation {
  const speaker = config.speaker ?? "agent";
  const minSimilarity = config.minSimilarity ?? 0.8;
  const spoken = turnsSpokenBy(transcript, speaker);
  const turns = spoken.turns.filter((t) => t.index >= fromTurnIndex);
  const speakersUnknown = spoken.speakersUnknown;
  const occurrences = distinctFindings(
    config.phrases.flatMap((phrase) => allOccurrences(turns, preparePhrase(phrase), minSimilarity)),
  );
  const unknown = speakersUnknown ? ` ${speakersUnknownSentence}` : "";
  if (occurrences.length === 0) {
    const count = config.phrases.length;
    const sentence =
      count === 1
        ? `The prohibited phrase "${config.phrases[0]}" was not said by ${speakerGroup(speaker)}.`
        : `None of the ${count} prohibited phrases was said by ${speakerGroup(speaker)}.`;
    return { answer: "Yes", justification: sentence + unknown, evidence: [] };
  }
  const first = occurrences[0]!;
  let sentence: string;
  if (occurrences.length === 1) {
    sentence = `${saidSentence(first)}, which is prohibited.`;
  } else {
    const listed = occurrences
      .slice(0, listedInJustification)
      .map((o) => saidSentence(o))
      .join("; ");
    const more = occurrences.length - listedInJustification;
    sentence = `Prohibited phrases were said ${occurrences.length} times: ${listed}${more > 0 ? `; and ${more} more` : ""}.`;
  }
  return {
    answer: "No",
    justification: sentence + unknown,
    evidence: occurrences.slice(0, maxEvidence).map(toEvidence),
  };
}
