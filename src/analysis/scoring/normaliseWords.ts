// How spoken text is compared: case, punctuation, accents and contractions are not differences a
// QA manager cares about ("I'm sorry" and "I am sorry" are the same apology).

/** One comparable word and where the word it came from sits in the original text. */
export interface NormalisedWord {
  word: string;
  sourceStart: number;
  sourceEnd: number;
}

const wordPattern = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;
const combiningMarks = /\p{M}/gu;

const irregularForms: Record<string, string> = {
  "can't": "can not",
  cannot: "can not",
  cant: "can not",
  "won't": "will not",
  wont: "will not",
  "shan't": "shall not",
  "ain't": "is not",
  "i'm": "i am",
  im: "i am",
  "let's": "let us",
  "y'all": "you all",
  gonna: "going to",
  wanna: "want to",
  gotta: "got to",
  // Speech recognisers often drop the apostrophe; only unambiguous forms are listed ("ill", "its"
  // and "lets" are words of their own).
  dont: "do not",
  doesnt: "does not",
  didnt: "did not",
  isnt: "is not",
  wasnt: "was not",
  arent: "are not",
  werent: "were not",
  havent: "have not",
  hasnt: "has not",
  couldnt: "could not",
  wouldnt: "would not",
  shouldnt: "should not",
  youre: "you are",
  theyre: "they are",
  thats: "that is",
  whats: "what is",
};

const isPronouns = new Set([
  "it",
  "that",
  "there",
  "here",
  "what",
  "who",
  "where",
  "how",
  "he",
  "she",
  "this",
]);

const suffixForms: [suffix: string, replacement: string][] = [
  ["n't", " not"],
  ["'ll", " will"],
  ["'re", " are"],
  ["'ve", " have"],
  ["'d", " would"],
];

/** Lower-cases, strips accents and expands contractions of one word ("We'll" → "we will"). */
function expandWord(raw: string): string {
  const word = raw.normalize("NFKD").replace(combiningMarks, "").toLowerCase().replaceAll("’", "'");
  const irregular = irregularForms[word];
  if (irregular !== undefined) return irregular;
  if (word.includes("'")) {
    for (const [suffix, replacement] of suffixForms) {
      if (word.endsWith(suffix) && word.length > suffix.length) {
        return word.slice(0, -suffix.length) + replacement;
      }
    }
    if (word.endsWith("'s") && isPronouns.has(word.slice(0, -2))) return `${word.slice(0, -2)} is`;
    return word.replaceAll("'", "");
  }
  return word;
}

/** The comparable words of `text`, each pointing back at the characters it came from. */
export function normaliseWords(text: string): NormalisedWord[] {
  const words: NormalisedWord[] = [];
  for (const match of text.matchAll(wordPattern)) {
    const sourceStart = match.index;
    const sourceEnd = sourceStart + match[0].length;
    for (const word of expandWord(match[0]).split(" ")) {
      if (word.length > 0) words.push({ word, sourceStart, sourceEnd });
    }
  }
  return words;
}
