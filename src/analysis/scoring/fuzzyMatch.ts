import {
  boundedLevenshtein,
  closestSubstringDistance,
  type PatternMasks,
  patternMasks,
} from "./editDistance.ts";
import { normaliseWords } from "./normaliseWords.ts";

/** Where a phrase was found in a text; offsets and quote refer to the original text. */
export interface PhraseMatch {
  charStart: number;
  charEnd: number;
  quote: string;
  /** 1 = the same words; lower = fewer edits apart (normalised Levenshtein on the joined words). */
  similarity: number;
}

/** A text prepared once for searching many phrases (a transcript turn is searched by every KPI). */
export interface SearchableText {
  text: string;
  /** Normalised words joined by single spaces. */
  normalised: string;
  /** `normalised` with a space either side, so whole-word search is one indexOf. */
  padded: string;
  wordStarts: number[];
  wordEnds: number[];
  sourceStarts: number[];
  sourceEnds: number[];
}

/** A phrase prepared once for searching many texts. */
export interface SearchablePhrase {
  phrase: string;
  normalised: string;
  padded: string;
  wordCount: number;
  /** Words that must each appear (allowing a misspelling) for a fuzzy match to count. */
  contentWords: string[];
  /** Short phrases must match exactly: one edit turns "hell" into "hello" or "sorry" into "worry". */
  exactOnly: boolean;
  masks: PatternMasks;
}

/** Phrases shorter than this (normalised), or of one word, are matched exactly. */
const minimumFuzzyLength = 8;

/** Short words may be misheard or dropped; these short ones may not, as they turn a meaning round. */
const negations = new Set(["not", "no", "nor"]);

function isContentWord(word: string): boolean {
  return word.length >= 4 || negations.has(word);
}

/** Prepares `text` for {@link matchPhrase}. */
export function makeSearchable(text: string): SearchableText {
  const words = normaliseWords(text);
  const wordStarts: number[] = [];
  const wordEnds: number[] = [];
  let normalised = "";
  for (const { word } of words) {
    if (normalised.length > 0) normalised += " ";
    wordStarts.push(normalised.length);
    normalised += word;
    wordEnds.push(normalised.length);
  }
  return {
    text,
    normalised,
    padded: ` ${normalised} `,
    wordStarts,
    wordEnds,
    sourceStarts: words.map((w) => w.sourceStart),
    sourceEnds: words.map((w) => w.sourceEnd),
  };
}

/** Prepares `phrase` for {@link matchPhrase}. */
export function preparePhrase(phrase: string): SearchablePhrase {
  const words = normaliseWords(phrase).map((w) => w.word);
  const normalised = words.join(" ");
  return {
    phrase,
    normalised,
    padded: ` ${normalised} `,
    wordCount: words.length,
    contentWords: words.filter(isContentWord),
    exactOnly: words.length < 2 || normalised.length < minimumFuzzyLength,
    masks: patternMasks(normalised),
  };
}

/**
 * Finds `phrase` in `text` allowing small differences (1 = the same words); null when nothing is at
 * least `minSimilarity` alike. Phrases of one word or under 8 letters must match exactly.
 */
export function findPhrase(text: string, phrase: string, minSimilarity: number): PhraseMatch | null {
  return matchPhrase(makeSearchable(text), preparePhrase(phrase), minSimilarity);
}

/**
 * The best match of a prepared phrase in a prepared text: token windows of the phrase's word count
 * ±1 are compared with the phrase by normalised Levenshtein similarity on the joined words.
 *
 * Whole-string similarity alone rates "thank you for holding" 86% alike to "thank you for calling",
 * so three guards keep such near-misses out: every content word of the phrase (4+ letters, or a
 * negation) must be in the window, spelled at most half again as loosely as `minSimilarity` allows
 * for the whole phrase; the window must not add a negation ("I can not help"); and a window one word
 * shorter than the phrase is tried only for phrases of 3+ words (else "understand" would stand for
 * "I understand" in "I don't understand").
 */
export function matchPhrase(
  target: SearchableText,
  phrase: SearchablePhrase,
  minSimilarity: number,
): PhraseMatch | null {
  if (phrase.wordCount === 0 || target.wordStarts.length === 0) return null;
  const exact = findExact(target, phrase);
  if (exact !== null) return exact;
  if (phrase.exactOnly || minSimilarity >= 1) return null;

  const phraseLength = phrase.normalised.length;
  // A window at least `minSimilarity` alike is at most phraseLength / minSimilarity long, so no
  // substring of the text may be further than this from the phrase (or from its first 32 chars).
  const filterDistance = Math.floor(((1 - minSimilarity) * phraseLength) / minSimilarity + 1e-9);
  if (closestSubstringDistance(phrase.masks, target.normalised) > filterDistance) return null;

  const n = phrase.wordCount;
  const wordCount = target.wordStarts.length;
  let best: { first: number; last: number; similarity: number } | null = null;
  for (let first = 0; first < wordCount; first++) {
    // The phrase's own length first, so that a tie keeps the window of the same word count.
    for (const length of [n, n - 1, n + 1]) {
      const last = first + length - 1;
      if (last >= wordCount || (length === n - 1 && n < 3)) continue;
      const from = target.wordStarts[first]!;
      const to = target.wordEnds[last]!;
      const longer = Math.max(to - from, phraseLength);
      const maxDistance = Math.floor((1 - minSimilarity) * longer + 1e-9);
      const distance = boundedLevenshtein(target.normalised, from, to, phrase.normalised, maxDistance);
      if (distance > maxDistance) continue;
      const similarity = 1 - distance / longer;
      if (best !== null && similarity <= best.similarity) continue;
      if (coversContentWords(target, first, last, phrase, minSimilarity)) best = { first, last, similarity };
    }
  }
  return best === null ? null : toMatch(target, best.first, best.last, roundSimilarity(best.similarity));
}

function coversContentWords(
  target: SearchableText,
  first: number,
  last: number,
  phrase: SearchablePhrase,
  minSimilarity: number,
): boolean {
  const wordMinSimilarity = 1 - (1 - minSimilarity) * 1.5;
  const windowWords: string[] = [];
  for (let i = first; i <= last; i++)
    windowWords.push(target.normalised.slice(target.wordStarts[i], target.wordEnds[i]));
  // "I can help" is not "I can not help": a negation the phrase does not have rules the window out.
  if (windowWords.some((w) => negations.has(w) && !phrase.contentWords.includes(w))) return false;
  return phrase.contentWords.every((word) =>
    windowWords.some(
      (candidate, i) =>
        isSimilarWord(word, candidate, wordMinSimilarity) ||
        // Speech recognisers merge and split words: "thankyou", "call ing".
        (candidate.length > word.length && (candidate.startsWith(word) || candidate.endsWith(word))) ||
        (i + 1 < windowWords.length &&
          isSimilarWord(word, candidate + windowWords[i + 1], wordMinSimilarity)),
    ),
  );
}

function isSimilarWord(word: string, candidate: string, minSimilarity: number): boolean {
  const longer = Math.max(word.length, candidate.length);
  const maxDistance = Math.floor((1 - minSimilarity) * longer + 1e-9);
  return boundedLevenshtein(candidate, 0, candidate.length, word, maxDistance) <= maxDistance;
}

function findExact(target: SearchableText, phrase: SearchablePhrase): PhraseMatch | null {
  const at = target.padded.indexOf(phrase.padded);
  if (at < 0) return null;
  const first = target.wordStarts.indexOf(at);
  return toMatch(target, first, first + phrase.wordCount - 1, 1);
}

function toMatch(target: SearchableText, first: number, last: number, similarity: number): PhraseMatch {
  const charStart = target.sourceStarts[first]!;
  const charEnd = target.sourceEnds[last]!;
  return { charStart, charEnd, quote: target.text.slice(charStart, charEnd), similarity };
}

function roundSimilarity(value: number): number {
  return Math.round(value * 1000) / 1000;
}
