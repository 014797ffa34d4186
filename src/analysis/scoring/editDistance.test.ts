import assert from "node:assert/strict";
import { test } from "node:test";
import { boundedLevenshtein, closestSubstringDistance, patternMasks } from "./editDistance.ts";

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

function closestSubstring(pattern: string, text: string): number {
  let best = pattern.length;
  for (let from = 0; from <= text.length; from++) {
    for (let to = from; to <= text.length; to++)
      best = Math.min(best, levenshtein(text.slice(from, to), pattern));
  }
  return best;
}

function randomWords(random: () => number, length: number): string {
  const alphabet = "abcde ";
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
}

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

test("boundedLevenshtein agrees with the textbook distance within the bound and caps beyond it", () => {
  const random = seededRandom(7);
  for (let i = 0; i < 400; i++) {
    const a = randomWords(random, 1 + Math.floor(random() * 12));
    const b = randomWords(random, 1 + Math.floor(random() * 12));
    const exact = levenshtein(a, b);
    const bound = Math.floor(random() * 6);
    const padded = `xx${a}yy`;
    assert.equal(
      boundedLevenshtein(padded, 2, 2 + a.length, b, bound),
      Math.min(exact, bound + 1),
      `${a} / ${b}`,
    );
  }
});

test("closestSubstringDistance finds how close a pattern comes to any part of a text", () => {
  const random = seededRandom(11);
  for (let i = 0; i < 300; i++) {
    const pattern = randomWords(random, 1 + Math.floor(random() * 8));
    const text = randomWords(random, Math.floor(random() * 14));
    assert.equal(
      closestSubstringDistance(patternMasks(pattern), text),
      closestSubstring(pattern, text),
      `${pattern} in ${text}`,
    );
  }
  assert.equal(
    closestSubstringDistance(patternMasks("thank you for calling"), "well thank you for caling us"),
    1,
  );
});

test("closestSubstringDistance handles a full 32-character pattern", () => {
  const pattern = "is there anything else i can hel";
  assert.equal(pattern.length, 32);
  assert.equal(closestSubstringDistance(patternMasks(pattern), `ok ${pattern}p you with`), 0);
  assert.equal(closestSubstringDistance(patternMasks(pattern), "ok is there anythin else i can help"), 1);
});
