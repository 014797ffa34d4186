import type { Kpi, KpiAnswer, KpiEvaluation, LlmEvaluator } from "../../core/qualityProfile.ts";
import type { Evidence, Transcript } from "../../core/transcript.ts";
import { findPhrase } from "./fuzzyMatch.ts";

/** What the chat endpoint said about one KPI, or why it could not be asked. */
export type LlmOutcome =
  | { ok: true; answer: string; justification: string; quotes: string[] }
  | { ok: false; reason: string };

/** Transcript characters sent to the model at most (long calls are cut, and the model is told). */
const maxTranscriptChars = 60_000;

/** The messages asking a chat model one KPI about one transcript, for a JSON answer. */
export function buildLlmMessages(
  kpi: Kpi,
  config: LlmEvaluator,
  transcript: Transcript,
): { role: "system" | "user"; content: string }[] {
  const answers = allowedAnswers(kpi);
  const lines = transcript.turns.map((t) => {
    const at =
      t.start === undefined
        ? ""
        : ` [${Math.floor(t.start / 60)}:${String(Math.floor(t.start % 60)).padStart(2, "0")}]`;
    const who =
      t.speaker === "unknown"
        ? t.speakerLabel || "Speaker"
        : t.speaker[0]!.toUpperCase() + t.speaker.slice(1);
    return `(${t.index + 1})${at} ${who}: ${t.text}`;
  });
  let text = lines.join("\n");
  let cut = "";
  if (text.length > maxTranscriptChars) {
    text = text.slice(0, maxTranscriptChars);
    cut = "\n[The transcript was cut here: it is longer than cqa sends.]";
  }
  return [
    {
      role: "system",
      content:
        "You are a quality analyst in a contact centre. You judge one conversation against one quality criterion, " +
        "using only what the transcript says. Reply with one JSON object and nothing else: " +
        `{"answer": one of ${JSON.stringify(answers)}, "justification": "one or two sentences", ` +
        '"evidence": ["exact words copied from the transcript", ...]}. ' +
        "Copy evidence word for word from the transcript (no speaker labels, no turn numbers). " +
        'If the transcript does not let you decide, answer "N/A" and say why.',
    },
    {
      role: "user",
      content: `Criterion: ${kpi.question}\nWhat to check: ${config.prompt}\n\nTranscript (turn number, time, speaker):\n${text}${cut}`,
    },
  ];
}

function allowedAnswers(kpi: Kpi): KpiAnswer[] {
  const values = kpi.options.map((o) => o.value);
  return values.includes("N/A") ? values : [...values, "N/A"];
}

/** Reads the model's reply; throws with what is wrong when it is not the JSON asked for. */
export function parseLlmReply(content: string): Extract<LlmOutcome, { ok: true }> {
  const json = content
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/\s*```$/, "");
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`the model did not answer with JSON (it said: ${content.slice(0, 120)})`);
  }
  const reply = parsed as { answer?: unknown; justification?: unknown; evidence?: unknown };
  if (typeof reply.answer !== "string") throw new Error('the model\'s JSON has no "answer"');
  return {
    ok: true,
    answer: reply.answer.trim(),
    justification: typeof reply.justification === "string" ? reply.justification.trim() : "",
    quotes: Array.isArray(reply.evidence)
      ? reply.evidence.filter((q): q is string => typeof q === "string" && q.trim() !== "")
      : [],
  };
}

/** Where a quote stands in the transcript, if it is really there (fuzzily, as transcripts vary). */
function locate(quote: string, transcript: Transcript): Evidence | null {
  for (const turn of transcript.turns) {
    const match = findPhrase(turn.text, quote, 0.85);
    if (match === null) continue;
    const evidence: Evidence = {
      turnIndex: turn.index,
      speaker: turn.speaker,
      quote: match.quote,
      charStart: match.charStart,
      charEnd: match.charEnd,
      similarity: match.similarity,
      source: "llm",
    };
    if (turn.start !== undefined) evidence.startSeconds = turn.start;
    if (turn.end !== undefined) evidence.endSeconds = turn.end;
    return evidence;
  }
  return null;
}

/**
 * The model's answer, kept only when it holds up: the answer must be one of the KPI's options, and a
 * Yes or Partially must be backed by at least one quote that is really in the transcript (quotes that
 * are not are dropped and reported). A timeout, a failure or an answer that does not hold up is N/A
 * with the reason — never a made-up answer.
 */
export function evaluateLlm(
  kpi: Kpi,
  outcome: LlmOutcome | undefined,
  transcript: Transcript,
  label: string,
): KpiEvaluation {
  if (outcome === undefined) {
    return {
      answer: "N/A",
      justification: "No language model is configured (CQA_LLM_URL), so this KPI was not asked.",
      evidence: [],
    };
  }
  if (!outcome.ok)
    return {
      answer: "N/A",
      justification: `The language model could not answer: ${outcome.reason}.`,
      evidence: [],
    };
  const allowed = allowedAnswers(kpi);
  const answer = allowed.find((a) => a.toLowerCase() === outcome.answer.toLowerCase());
  if (answer === undefined) {
    return {
      answer: "N/A",
      justification: `The language model answered "${outcome.answer.slice(0, 40)}", which is not one of ${allowed.join(", ")}; no answer was taken from it.`,
      evidence: [],
    };
  }
  const found = outcome.quotes.map((q) => ({ quote: q, evidence: locate(q, transcript) }));
  const evidence = found.flatMap((f) => (f.evidence ? [f.evidence] : []));
  const missing = found.filter((f) => f.evidence === null).map((f) => f.quote);
  const dropped =
    missing.length === 0
      ? ""
      : ` ${missing.length} quote(s) the model gave are not in the transcript and were dropped: ${missing.map((q) => `"${q.slice(0, 60)}"`).join(", ")}.`;
  if ((answer === "Yes" || answer === "Partially") && evidence.length === 0) {
    return {
      answer: "N/A",
      justification: `The language model answered ${answer} but none of its evidence is in the transcript, so the answer was not taken.${dropped}`,
      evidence: [],
    };
  }
  const reason = outcome.justification === "" ? "(no justification given)" : outcome.justification;
  return { answer, justification: `${label}: ${reason}${dropped}`, evidence: evidence.slice(0, 10) };
}
