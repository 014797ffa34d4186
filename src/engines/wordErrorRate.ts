import { spotterWords } from "./pocketsphinx.ts";

/** Word error rate of hypotheses against references: (substitutions + deletions + insertions) ÷ reference words. */
export function wordErrorRate(
  references: readonly string[],
  hypotheses: readonly string[],
): { wer: number; errors: number; words: number } {
  let errors = 0;
  let words = 0;
  references.forEach((reference, i) => {
    const ref = spotterWords(reference);
    const hyp = spotterWords(hypotheses[i] ?? "");
    errors += editDistance(ref, hyp);
    words += ref.length;
  });
  return { wer: words === 0 ? 0 : errors / words, errors, words };
}

function editDistance(a: readonly string[], b: readonly string[]): number {
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
