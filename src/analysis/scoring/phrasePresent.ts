import type { EvaluatorConfig, KpiEvaluation, PhraseWindow } from "../../core/qualityProfile.ts";
import type { Transcript } from "../../core/transcript.ts";
import {
  capitalise,
  findingShort,
  joinWords,
  listPhrases,
  saidSentence,
  speakerGroup,
  speakersUnknownSentence,
} from "./describeFindings.ts";
import { preparePhrase } from "./fuzzyMatch.ts";
import {
  distinctFindings,
  type FoundPhrase,
  firstOccurrence,
  toEvidence,
  turnsSpokenBy,
} from "./phraseSearch.ts";
import { resolveTurnWindow, type TurnWindow } from "./turnWindow.ts";

type PhrasePresentConfig = Extract<EvaluatorConfig, { type: "phrase_present" }>;

const maxEvidence = 10;

interface PhraseFinding {
  phrase: string;
  inside: FoundPhrase | null;
  /** Where it was said outside the window, when it was not said inside. */
  outside: FoundPhrase | null;
}

/** An empty window `{}` sets no bound, so the whole conversation counts. */
function hasBounds(window: PhraseWindow | undefined): window is PhraseWindow {
  return (
    window !== undefined &&
    [window.firstSeconds, window.lastSeconds, window.firstTurns, window.lastTurns].some(
      (v) => v !== undefined,
    )
  );
}

/**
 * Yes when the phrase (any of them, or all with `match: "all"`) is said by the speaker, inside the
 * window when one is set; Partially when only some of "all" were said, or when said only outside the
 * window (unless `partialOutsideWindow` is false); No otherwise. Turns before `fromTurnIndex` (what
 * came before a KPI's trigger) are not searched.
 */
export function evaluatePhrasePresent(
  config: PhrasePresentConfig,
  transcript: Transcript,
  durationSeconds: number | null,
  fromTurnIndex = 0,
): KpiEvaluation {
  const speaker = config.speaker ?? "agent";
  const minSimilarity = config.minSimilarity ?? 0.8;
  const partialOutside = config.partialOutsideWindow ?? true;
  const spoken = turnsSpokenBy(transcript, speaker);
  const turns = spoken.turns.filter((t) => t.index >= fromTurnIndex);
  const speakersUnknown = spoken.speakersUnknown;
  const window = hasBounds(config.window)
    ? resolveTurnWindow(config.window, transcript, durationSeconds)
    : null;
  const insideTurns = window === null ? turns : turns.filter((t) => window.includes(t));
  const outsideTurns = window === null ? [] : turns.filter((t) => !window.includes(t));

  const findings: PhraseFinding[] = config.phrases.map((phrase) => {
    const prepared = preparePhrase(phrase);
    const inside = firstOccurrence(insideTurns, prepared, minSimilarity);
    return {
      phrase,
      inside,
      outside: inside === null ? firstOccurrence(outsideTurns, prepared, minSimilarity) : null,
    };
  });
  const result =
    config.match === "all"
      ? judgeAll(findings, speaker, window, partialOutside)
      : judgeAny(findings, speaker, window, partialOutside);
  const remarks = [window?.fallbackNote ?? null, speakersUnknown ? speakersUnknownSentence : null].filter(
    (r) => r !== null,
  );
  return {
    answer: result.answer,
    justification: [result.sentence, ...remarks].join(" "),
    evidence: distinctFindings(result.evidence).slice(0, maxEvidence).map(toEvidence),
  };
}

interface Judgement {
  answer: "Yes" | "Partially" | "No";
  sentence: string;
  evidence: FoundPhrase[];
}

function within(window: TurnWindow | null): string {
  return window === null ? "" : ` within ${window.description}`;
}

function commaWithin(window: TurnWindow | null): string {
  return window === null ? "" : `, within ${window.description}`;
}

function judgeAny(
  findings: PhraseFinding[],
  speaker: "agent" | "customer" | "any",
  window: TurnWindow | null,
  partialOutside: boolean,
): Judgement {
  const inside = distinctFindings(findings.flatMap((f) => (f.inside === null ? [] : [f.inside])));
  const first = inside[0];
  if (first !== undefined) {
    return { answer: "Yes", sentence: `${saidSentence(first)}${commaWithin(window)}.`, evidence: inside };
  }

  const outside = distinctFindings(findings.flatMap((f) => (f.outside === null ? [] : [f.outside])));
  const earliestOutside = outside[0];
  if (earliestOutside !== undefined && window !== null) {
    const said = `${saidSentence(earliestOutside)}, but not within ${window.description}.`;
    return partialOutside
      ? { answer: "Partially", sentence: said, evidence: outside }
      : { answer: "No", sentence: said, evidence: outside };
  }
  const phrases = findings.map((f) => f.phrase);
  const subject = capitalise(speakerGroup(speaker));
  const what =
    phrases.length === 1
      ? `${subject} did not say "${phrases[0]}"`
      : `${subject} said none of the ${phrases.length} expected phrases (${listPhrases(phrases, "or")})`;
  const anywhere = window === null ? "" : ", nor anywhere else in the conversation";
  return { answer: "No", sentence: `${what}${within(window)}${anywhere}.`, evidence: [] };
}

function judgeAll(
  findings: PhraseFinding[],
  speaker: "agent" | "customer" | "any",
  window: TurnWindow | null,
  partialOutside: boolean,
): Judgement {
  const subject = capitalise(speakerGroup(speaker));
  const inside = findings.flatMap((f) => (f.inside === null ? [] : [f.inside]));
  const outsideOnly = findings.flatMap((f) => (f.outside === null ? [] : [f.outside]));
  const total = findings.length;
  if (inside.length === total) {
    const list = joinWords(inside.map(findingShort), "and");
    return {
      answer: "Yes",
      sentence:
        total === 1
          ? `${saidSentence(inside[0]!)}${commaWithin(window)}.`
          : `${subject} said all ${total} required phrases${within(window)}: ${list}.`,
      evidence: inside,
    };
  }
  const outsideParts =
    window === null ? [] : outsideOnly.map((f) => `${findingShort(f)} (outside ${window.description})`);
  const counted = partialOutside ? [...inside, ...outsideOnly] : inside;
  const countedParts = [...inside.map(findingShort), ...(partialOutside ? outsideParts : [])];
  const notCounted =
    partialOutside || outsideParts.length === 0
      ? ""
      : ` Said only outside the window, which does not count: ${joinWords(outsideParts, "and")}.`;
  const missing = findings.filter((f) => f.inside === null && f.outside === null).map((f) => f.phrase);
  const notSaid = missing.length === 0 ? "" : ` Not said: ${listPhrases(missing, "and")}.`;
  if (counted.length === 0) {
    const detail = notCounted === "" ? "" : `${notCounted}${notSaid}`;
    return {
      answer: "No",
      sentence: `${subject} said none of the ${total} required phrases${within(window)}.${detail}`,
      evidence: outsideOnly,
    };
  }
  return {
    answer: "Partially",
    sentence: `${subject} said ${counted.length} of ${total} required phrases: ${joinWords(countedParts, "and")}.${notCounted}${notSaid}`,
    evidence: [...inside, ...outsideOnly],
  };
}
