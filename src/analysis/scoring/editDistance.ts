// Edit distances used by the phrase matcher. Both work on char codes of already-normalised text so
// that a transcript can be searched without slicing it into substrings.

let previousRow = new Int32Array(64);
let currentRow = new Int32Array(64);

/**
 * Levenshtein distance between `text[from..to)` and `target`, or `maxDistance + 1` as soon as it is
 * certain to exceed `maxDistance` (most windows of a transcript are rejected after a few rows).
 */
export function boundedLevenshtein(
  text: string,
  from: number,
  to: number,
  target: string,
  maxDistance: number,
): number {
  const rows = to - from;
  const columns = target.length;
  if (Math.abs(rows - columns) > maxDistance) return maxDistance + 1;
  if (previousRow.length <= columns) {
    previousRow = new Int32Array(columns * 2 + 1);
    currentRow = new Int32Array(columns * 2 + 1);
  }
  let previous = previousRow;
  let current = currentRow;
  for (let j = 0; j <= columns; j++) previous[j] = j;
  for (let i = 1; i <= rows; i++) {
    const code = text.charCodeAt(from + i - 1);
    current[0] = i;
    let rowMinimum = i;
    for (let j = 1; j <= columns; j++) {
      const substitution = previous[j - 1]! + (code === target.charCodeAt(j - 1) ? 0 : 1);
      const deletion = previous[j]! + 1;
      const insertion = current[j - 1]! + 1;
      const best = Math.min(substitution, deletion, insertion);
      current[j] = best;
      if (best < rowMinimum) rowMinimum = best;
    }
    if (rowMinimum > maxDistance) return maxDistance + 1;
    const swap = previous;
    previous = current;
    current = swap;
  }
  const distance = previous[columns]!;
  return distance > maxDistance ? maxDistance + 1 : distance;
}

/** Bit masks of a pattern of at most 32 characters, prepared once for {@link closestSubstringDistance}. */
export interface PatternMasks {
  length: number;
  /** For each ASCII char code, the positions in the pattern where it occurs, as bits. */
  asciiMasks: Int32Array;
  /** The same for other char codes (accented letters, other scripts). */
  otherMasks: Map<number, number>;
}

/** The longest pattern the bit-parallel search handles in one 32-bit word. */
const maxPatternLength = 32;

/** Prepares the first {@link maxPatternLength} characters of `pattern` for searching. */
export function patternMasks(pattern: string): PatternMasks {
  const length = Math.min(pattern.length, maxPatternLength);
  const asciiMasks = new Int32Array(128);
  const otherMasks = new Map<number, number>();
  for (let i = 0; i < length; i++) {
    const code = pattern.charCodeAt(i);
    if (code < 128) asciiMasks[code]! |= 1 << i;
    else otherMasks.set(code, (otherMasks.get(code) ?? 0) | (1 << i));
  }
  return { length, asciiMasks, otherMasks };
}

/**
 * The smallest edit distance between the pattern and any substring of `text`, in one pass over the
 * text (Myers' bit-parallel algorithm, 1999). Cheap enough to rule out most turns before the
 * word-window comparison runs.
 */
export function closestSubstringDistance(pattern: PatternMasks, text: string): number {
  const { length, asciiMasks, otherMasks } = pattern;
  if (length === 0) return 0;
  const lastBit = 1 << (length - 1);
  let positiveVertical = -1;
  let negativeVertical = 0;
  let score = length;
  let best = length;
  for (let j = 0; j < text.length; j++) {
    const code = text.charCodeAt(j);
    const equal = code < 128 ? asciiMasks[code]! : (otherMasks.get(code) ?? 0);
    const xVertical = equal | negativeVertical;
    const xHorizontal = (((equal & positiveVertical) + positiveVertical) ^ positiveVertical) | equal;
    let positiveHorizontal = negativeVertical | ~(xHorizontal | positiveVertical);
    let negativeHorizontal = positiveVertical & xHorizontal;
    if (positiveHorizontal & lastBit) score++;
    else if (negativeHorizontal & lastBit) score--;
    // A match may start anywhere in the text, so nothing is carried into the first row.
    positiveHorizontal <<= 1;
    negativeHorizontal <<= 1;
    positiveVertical = negativeHorizontal | ~(xVertical | positiveHorizontal);
    negativeVertical = positiveHorizontal & xVertical;
    if (score < best) {
      best = score;
      if (best === 0) return 0;
    }
  }
  return best;
}
