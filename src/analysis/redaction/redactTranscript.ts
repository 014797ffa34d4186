import type { PiiKind, RedactionSpan, Transcript, TranscriptTurn } from "../../core/transcript.ts";

/** What stands in the text for each kind of redacted data. */
export const placeholders: Record<PiiKind, string> = {
  card_number: "[card number]",
  security_code: "[security code]",
  phone_number: "[phone number]",
  email: "[email]",
  digits: "[digits]",
};

const spokenDigits: Record<string, number> = {
  zero: 1,
  oh: 1,
  o: 1,
  nought: 1,
  one: 1,
  two: 1,
  three: 1,
  four: 1,
  five: 1,
  six: 1,
  seven: 1,
  eight: 1,
  nine: 1,
};
/** Words that multiply the next digit ("double seven" is two digits). */
const repeaters: Record<string, number> = { double: 2, triple: 3 };
/** Words that may sit inside a spoken number without ending it. */
const fillers = new Set([
  "and",
  "uh",
  "um",
  "er",
  "erm",
  "ah",
  "then",
  "dash",
  "hyphen",
  "space",
  "yeah",
  "yes",
  "ok",
  "okay",
  "so",
]);
/** A turn this short from the other party ("okay", "mm-hm", "go on") does not end a number being read out. */
const backchannelMaxWords = 4;
const securityPrompt =
  /\b(security (code|number)|cvv2?|cvc2?|card verification|verification code|three[- ]digit|3[- ]digit|(digits|numbers) on the back|back of (the|your) card)\b/i;

interface Token {
  turn: number;
  start: number;
  end: number;
  /** Digits this token stands for (0 for words). */
  digits: number;
  spoken: boolean;
  kind: "digit" | "repeater" | "filler" | "word";
  /** For "double"/"triple": how many times the next digit counts. */
  repeat: number;
  /** For "oh"/"o": a digit only beside other digits. */
  weak: boolean;
}

interface Run {
  tokens: Token[];
  digits: number;
  spokenDigits: number;
  hasPlus: boolean;
}

interface Replacement {
  turn: number;
  start: number;
  end: number;
  kind: PiiKind;
}

/**
 * Replaces personal data in a transcript with placeholders and records where each one stands:
 * card numbers (any run of 13–19 digits, Luhn-valid or not), security codes (3–4 digits after a
 * prompt such as "the security code on the back"), phone numbers, e-mail addresses (written or
 * spoken: "jane dot doe at gmail dot com") and spoken digit sequences ("four one one one…"). A number
 * read out across turns — the customer pausing while the agent says "okay" — is found as one.
 */
export function redactTranscript(transcript: Transcript): Transcript {
  const replacements = [...findEmails(transcript.turns), ...findDigitRuns(transcript)];
  const byTurn = new Map<number, Replacement[]>();
  for (const r of replacements) byTurn.set(r.turn, [...(byTurn.get(r.turn) ?? []), r]);
  const spans: RedactionSpan[] = [];
  const turns: TranscriptTurn[] = transcript.turns.map((turn) => {
    const list = mergeOverlapping(byTurn.get(turn.index) ?? []);
    if (list.length === 0) return turn;
    let text = "";
    let at = 0;
    for (const r of list) {
      text += turn.text.slice(at, r.start);
      const placeholder = placeholders[r.kind];
      const span: RedactionSpan = {
        turnIndex: turn.index,
        charStart: text.length,
        charEnd: text.length + placeholder.length,
        kind: r.kind,
      };
      if (turn.start !== undefined) span.startSeconds = turn.start;
      if (turn.end !== undefined) span.endSeconds = turn.end;
      spans.push(span);
      text += placeholder;
      at = r.end;
    }
    text += turn.text.slice(at);
    return { ...turn, text };
  });
  const counts = new Map<PiiKind, number>();
  for (const s of spans) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
  const notes =
    spans.length === 0
      ? transcript.notes
      : [
          ...transcript.notes,
          `Personal data redacted by cqa: ${[...counts].map(([kind, n]) => `${n} × ${placeholders[kind]}`).join(", ")}.`,
        ];
  return { ...transcript, turns, notes, redactions: spans, redaction: "cqa" };
}

/** Marks a transcript the source says is already redacted: cqa leaves it as it is. */
export function markRedactedBySource(transcript: Transcript): Transcript {
  return {
    ...transcript,
    notes: [
      ...transcript.notes,
      "The source marked this conversation as already redacted (pii_redacted), so cqa did not redact it.",
    ],
    redactions: [],
    redaction: "source",
  };
}

function mergeOverlapping(list: Replacement[]): Replacement[] {
  const sorted = [...list].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Replacement[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start < last.end) {
      last.end = Math.max(last.end, r.end);
      if (rank(r.kind) > rank(last.kind)) last.kind = r.kind;
    } else out.push({ ...r });
  }
  return out;
}

function rank(kind: PiiKind): number {
  return ["digits", "phone_number", "security_code", "email", "card_number"].indexOf(kind);
}

const writtenEmail = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const spokenEmail =
  /\b[a-z0-9]+(?:(?:\s+(?:dot|underscore|dash)\s+|[._-])[a-z0-9]+)*\s+at\s+[a-z0-9]+(?:\s+dot\s+[a-z0-9]+)*\s+dot\s+(?:com|net|org|co|uk|in|io|de|fr|es|it|nl|au|ca|info|biz|edu|gov)\b(?:\s+dot\s+[a-z]{2})?/gi;

function findEmails(turns: readonly TranscriptTurn[]): Replacement[] {
  const out: Replacement[] = [];
  for (const turn of turns) {
    for (const pattern of [writtenEmail, spokenEmail]) {
      for (const m of turn.text.matchAll(pattern)) {
        let start = m.index;
        let text = m[0];
        if (pattern === spokenEmail) {
          // "my email is jane…": start at the local part, not at words before it that the pattern swallowed.
          const local =
            /(?:^|\s)((?:[a-z0-9]+(?:\s+(?:dot|underscore|dash)\s+|[._-]))*[a-z0-9]+\s+at\s)/i.exec(text);
          if (local) {
            const offset = local.index + (local[0].length - local[1]!.length);
            start += offset;
            text = text.slice(offset);
          }
        }
        out.push({ turn: turn.index, start, end: start + text.length, kind: "email" });
      }
    }
  }
  return out;
}

function tokenize(turn: TranscriptTurn): Token[] {
  const tokens: Token[] = [];
  for (const m of turn.text.matchAll(/\d+|[A-Za-z]+(?:'[A-Za-z]+)?/g)) {
    const word = m[0].toLowerCase();
    const base = {
      turn: turn.index,
      start: m.index,
      end: m.index + m[0].length,
      repeat: repeaters[word] ?? 1,
      weak: word === "oh" || word === "o",
    };
    if (/^\d+$/.test(word)) tokens.push({ ...base, digits: word.length, spoken: false, kind: "digit" });
    else if (spokenDigits[word] !== undefined)
      tokens.push({ ...base, digits: 1, spoken: true, kind: "digit" });
    else if (repeaters[word] !== undefined)
      tokens.push({ ...base, digits: 0, spoken: true, kind: "repeater" });
    else if (fillers.has(word)) tokens.push({ ...base, digits: 0, spoken: false, kind: "filler" });
    else tokens.push({ ...base, digits: 0, spoken: false, kind: "word" });
  }
  return tokens;
}

/** Only characters that can sit inside a number being written or read: spaces, commas, dots, dashes, brackets. */
function joinable(text: string): boolean {
  return /^[\s,.\-()/]*$/.test(text) && !text.includes("/");
}

/**
 * Digit runs per speaker. A run goes on across fillers ("and", "uh"), punctuation that sits inside
 * numbers, and into the speaker's next turn when at most a short backchannel from the other party
 * came between.
 */
function findDigitRuns(transcript: Transcript): Replacement[] {
  const turns = transcript.turns;
  const tokensOf = turns.map(tokenize);
  const runs: Run[] = [];
  const open = new Map<string, { run: Run; lastTurn: number; trailingFillers: number }>();
  const close = (speaker: string) => {
    const state = open.get(speaker);
    if (state) runs.push(state.run);
    open.delete(speaker);
  };
  for (const turn of turns) {
    const speaker = turn.speaker === "unknown" ? `unknown:${turn.speakerLabel}` : turn.speaker;
    const tokens = tokensOf[turn.index] ?? [];
    const state = open.get(speaker);
    // A run of this speaker continues into this turn only if nothing but backchannels came between.
    if (state && !onlyBackchannelsBetween(turns, tokensOf, state.lastTurn, turn.index)) close(speaker);
    for (const [key] of open) if (key !== speaker && !isBackchannel(tokens)) close(key);
    let previous: Token | null = null;
    for (const token of tokens) {
      const current = open.get(speaker);
      if (token.kind === "digit" || token.kind === "repeater") {
        const gapOk =
          current === undefined ||
          previous === null ||
          (current.trailingFillers <= 2 && joinable(turn.text.slice(previous.end, token.start)));
        if (current && gapOk && (previous !== null || current.lastTurn !== turn.index)) {
          current.run.tokens.push(token);
          current.run.digits += token.digits;
          if (token.spoken) current.run.spokenDigits += token.digits;
          current.trailingFillers = 0;
          current.lastTurn = turn.index;
        } else {
          close(speaker);
          open.set(speaker, {
            run: {
              tokens: [token],
              digits: token.digits,
              spokenDigits: token.spoken ? token.digits : 0,
              hasPlus: turn.text[token.start - 1] === "+",
            },
            lastTurn: turn.index,
            trailingFillers: 0,
          });
        }
        previous = token;
      } else if (token.kind === "filler" && current) {
        current.trailingFillers++;
        if (current.trailingFillers > 2) close(speaker);
        previous = token;
      } else {
        close(speaker);
        previous = token;
      }
    }
  }
  for (const speaker of [...open.keys()]) close(speaker);
  return runs.flatMap((run) => classify(run, transcript));
}

function isBackchannel(tokens: readonly Token[]): boolean {
  return tokens.length <= backchannelMaxWords && tokens.every((t) => t.kind !== "digit");
}

function onlyBackchannelsBetween(
  turns: readonly TranscriptTurn[],
  tokensOf: readonly Token[][],
  from: number,
  to: number,
): boolean {
  if (to - from > 3) return false;
  for (let i = from + 1; i < to; i++) if (!isBackchannel(tokensOf[i] ?? [])) return false;
  return turns[to] !== undefined;
}

/** Expands "double seven" to its digit count once the run is known. */
function countDigits(run: Run): number {
  let digits = 0;
  let repeat = 1;
  for (const t of run.tokens) {
    if (t.kind === "repeater") repeat = t.repeat;
    else {
      digits += t.digits * (t.spoken ? repeat : 1);
      repeat = 1;
    }
  }
  return digits;
}

function classify(run: Run, transcript: Transcript): Replacement[] {
  const tokens = trimLoneWords(run.tokens);
  if (tokens.length === 0) return [];
  const trimmed: Run = { ...run, tokens };
  const digits = countDigits(trimmed);
  const spoken = tokens.filter((t) => t.spoken).length;
  let kind: PiiKind | null = null;
  if (digits >= 13 && digits <= 19) kind = "card_number";
  else if ((digits === 3 || digits === 4) && afterSecurityPrompt(transcript, tokens[0]!))
    kind = "security_code";
  else if ((digits >= 10 && digits <= 12) || (run.hasPlus && digits >= 8 && digits <= 15))
    kind = "phone_number";
  else if (digits >= 4 && spoken >= 4) kind = "digits";
  else if (digits >= 7) kind = "digits";
  if (kind === null) return [];
  const byTurn = new Map<number, Token[]>();
  for (const t of tokens) byTurn.set(t.turn, [...(byTurn.get(t.turn) ?? []), t]);
  return [...byTurn].map(([turn, list]) => {
    const first = list[0]!;
    const last = list.at(-1)!;
    const text = transcript.turns[turn]!.text;
    const start = run.hasPlus && text[first.start - 1] === "+" ? first.start - 1 : first.start;
    const closeBracket = text[last.end] === ")" && text.lastIndexOf("(", last.end) >= start ? 1 : 0;
    const openBracket = text[start - 1] === "(" ? 1 : 0;
    return { turn, start: start - openBracket, end: last.end + closeBracket, kind: kind! };
  });
}

/** A run does not start with "oh" ("Oh, four one one…" is an exclamation) nor end with "double". */
function trimLoneWords(tokens: readonly Token[]): Token[] {
  let from = 0;
  let to = tokens.length;
  while (from < to && tokens[from]!.weak) from++;
  while (to > from && tokens[to - 1]!.kind === "repeater") to--;
  return tokens.slice(from, to);
}

/**
 * A security code is the answer to a prompt: the prompt comes just before the digits in the same turn,
 * or in the turn right before (another speaker's question) with the digits opening the answer.
 */
function afterSecurityPrompt(transcript: Transcript, first: Token): boolean {
  const turn = transcript.turns[first.turn]!;
  const before = turn.text.slice(0, first.start);
  if (securityPrompt.test(before.slice(-80))) return true;
  const previous = transcript.turns[first.turn - 1];
  const opensAnswer =
    before
      .trim()
      .split(/\s+/)
      .filter((w) => w.length > 0).length <= 6;
  return (
    previous !== undefined &&
    previous.speaker !== turn.speaker &&
    opensAnswer &&
    securityPrompt.test(previous.text)
  );
}
