import type { KpiEvaluation, SentimentEvaluator } from "../../core/qualityProfile.ts";
import type { Evidence, Transcript, TranscriptTurn } from "../../core/transcript.ts";
import { normaliseWords } from "./normaliseWords.ts";

// A small contact-centre sentiment lexicon: words whose mood is clear in a service call. Weights
// are 1 (mild) or 2 (strong). Negation ("not happy") flips the next three words.
const positive: Record<string, number> = {
  thanks: 1,
  thank: 1,
  great: 2,
  perfect: 2,
  brilliant: 2,
  excellent: 2,
  wonderful: 2,
  fantastic: 2,
  amazing: 2,
  lovely: 1,
  good: 1,
  glad: 1,
  happy: 1,
  pleased: 1,
  relief: 2,
  relieved: 2,
  helpful: 1,
  appreciate: 1,
  appreciated: 1,
  awesome: 2,
  nice: 1,
  fine: 1,
  sorted: 1,
  resolved: 1,
  fixed: 1,
  love: 2,
  superb: 2,
  cheers: 1,
  welcome: 1,
  easy: 1,
  quick: 1,
  clear: 1,
  satisfied: 1,
  works: 1,
};
const negative: Record<string, number> = {
  angry: 2,
  annoyed: 2,
  annoying: 2,
  frustrated: 2,
  frustrating: 2,
  furious: 2,
  ridiculous: 2,
  unacceptable: 2,
  terrible: 2,
  awful: 2,
  horrible: 2,
  useless: 2,
  worst: 2,
  disgusting: 2,
  rude: 2,
  complaint: 2,
  complain: 2,
  disappointed: 2,
  disappointing: 2,
  upset: 2,
  problem: 1,
  problems: 1,
  issue: 1,
  wrong: 1,
  bad: 1,
  poor: 1,
  late: 1,
  never: 1,
  nobody: 1,
  waiting: 1,
  waited: 1,
  charged: 1,
  twice: 1,
  broken: 1,
  down: 1,
  cancel: 1,
  unhappy: 2,
  confused: 1,
  worried: 1,
  shock: 1,
  stupid: 2,
  whatever: 1,
  fed: 1,
  sick: 1,
  tired: 1,
  again: 1,
  still: 1,
  unfair: 2,
  hate: 2,
  mess: 1,
  fault: 1,
};
const negators = new Set([
  "not",
  "no",
  "never",
  "dont",
  "don't",
  "didnt",
  "didn't",
  "isnt",
  "isn't",
  "wasnt",
  "wasn't",
  "nothing",
  "hardly",
]);
const intensifiers = new Set(["very", "really", "so", "extremely", "absolutely", "totally", "completely"]);

/** A turn's mood: positive above 0, negative below; normalised by length so long turns do not dominate. */
export function turnSentiment(text: string): number {
  const words = normaliseWords(text).map((w) => w.word);
  let score = 0;
  let flip = 0;
  let boost = 1;
  for (const word of words) {
    if (negators.has(word)) {
      flip = 3;
      continue;
    }
    if (intensifiers.has(word)) {
      boost = 1.5;
      continue;
    }
    const value = (positive[word] ?? 0) - (negative[word] ?? 0);
    if (value !== 0) score += (flip > 0 ? -value : value) * boost;
    boost = 1;
    if (flip > 0) flip--;
  }
  return words.length === 0 ? 0 : score / Math.sqrt(words.length);
}

type Mood = "negative" | "neutral" | "positive";

function moodOf(score: number): Mood {
  return score > 0.25 ? "positive" : score < -0.25 ? "negative" : "neutral";
}

const moodRank: Record<Mood, number> = { negative: 0, neutral: 1, positive: 2 };

interface Stretch {
  turns: TranscriptTurn[];
  score: number;
  mood: Mood;
}

function stretch(turns: TranscriptTurn[]): Stretch {
  const score =
    turns.length === 0 ? 0 : turns.reduce((sum, t) => sum + turnSentiment(t.text), 0) / turns.length;
  return { turns, score: Math.round(score * 100) / 100, mood: moodOf(score) };
}

/** The turn of a stretch that shows its mood best, as evidence. */
function telling(s: Stretch): Evidence[] {
  if (s.mood === "neutral" || s.turns.length === 0) return [];
  const sign = s.mood === "positive" ? 1 : -1;
  const best = [...s.turns].sort((a, b) => sign * (turnSentiment(b.text) - turnSentiment(a.text)))[0]!;
  const evidence: Evidence = {
    turnIndex: best.index,
    speaker: best.speaker,
    quote: best.text,
    charStart: 0,
    charEnd: best.text.length,
    source: "transcript",
  };
  if (best.start !== undefined) evidence.startSeconds = best.start;
  if (best.end !== undefined) evidence.endSeconds = best.end;
  return [evidence];
}

/**
 * The mood of one party from the words they use (a built-in lexicon with negation), over the first
 * and the last third of their turns. Lexicon sentiment is coarse: it reads words, not tone of voice.
 */
export function evaluateSentiment(config: SentimentEvaluator, transcript: Transcript): KpiEvaluation {
  const turns = transcript.turns.filter((t) => t.speaker === config.speaker);
  const who = `the ${config.speaker}`;
  if (turns.length < 2) {
    return {
      answer: "N/A",
      justification: `The transcript has ${turns.length} turn(s) by ${who}${transcript.turns.some((t) => t.speaker === "unknown") ? " (speakers are not identified)" : ""}: too few to judge a change of mood.`,
      evidence: [],
    };
  }
  const third = Math.max(1, Math.ceil(turns.length / 3));
  const start = stretch(turns.slice(0, third));
  const end = stretch(turns.slice(-third));
  const overall = stretch(turns);
  const said = `${who[0]!.toUpperCase()}${who.slice(1)} started ${start.mood} (${start.score}) and ended ${end.mood} (${end.score})`;
  const evidence = [...telling(start), ...telling(end)].filter(
    (e, i, all) => all.findIndex((x) => x.turnIndex === e.turnIndex) === i,
  );
  switch (config.expect) {
    case "improves": {
      if (
        moodRank[end.mood] > moodRank[start.mood] ||
        (start.mood === "positive" && end.mood === "positive")
      ) {
        return { answer: "Yes", justification: `${said}: the mood improved or stayed positive.`, evidence };
      }
      if (end.mood === start.mood)
        return { answer: "Partially", justification: `${said}: no change.`, evidence };
      return { answer: "No", justification: `${said}: the mood got worse.`, evidence };
    }
    case "not_worse":
      return moodRank[end.mood] >= moodRank[start.mood]
        ? { answer: "Yes", justification: `${said}: not worse at the end.`, evidence }
        : { answer: "No", justification: `${said}: worse at the end.`, evidence };
    case "positive_end":
      return {
        answer: end.mood === "positive" ? "Yes" : end.mood === "neutral" ? "Partially" : "No",
        justification: `${said}.`,
        evidence,
      };
    case "not_negative":
      return overall.mood === "negative"
        ? {
            answer: "No",
            justification: `${who[0]!.toUpperCase()}${who.slice(1)} was negative overall (${overall.score}).`,
            evidence: telling(overall),
          }
        : {
            answer: "Yes",
            justification: `${who[0]!.toUpperCase()}${who.slice(1)} was ${overall.mood} overall (${overall.score}).`,
            evidence: telling(overall),
          };
  }
}
