import type { SpeakerRole } from "../../core/transcript.ts";
import type { TurnDraft } from "./transcriptDraft.ts";

const systemWords = new Set(["system", "bot", "chatbot", "ivr", "automated", "virtual", "recording"]);
const agentWords = new Set([
  "agent",
  "rep",
  "representative",
  "advisor",
  "adviser",
  "operator",
  "executive",
  "associate",
  "support",
  "csr",
  "supervisor",
  "specialist",
  "service",
  "services",
  "care",
]);
const customerWords = new Set([
  "customer",
  "caller",
  "client",
  "user",
  "consumer",
  "member",
  "guest",
  "visitor",
  "patient",
  "subscriber",
]);

/**
 * The role a speaker label names, by any of its words: "Agent 2", "John (agent)" and "Customer
 * Service" are agents (a service word wins over "customer"), "Virtual agent" is the system.
 */
export function roleOfLabel(label: string): SpeakerRole {
  const words = label.toLowerCase().split(/[^\p{L}]+/u);
  if (words.some((w) => systemWords.has(w))) return "system";
  if (words.some((w) => agentWords.has(w))) return "agent";
  if (words.some((w) => customerWords.has(w))) return "customer";
  return "unknown";
}

const speakerPattern =
  /^(?:speaker|spk|spkr|person|participant|party|voice|channel|ch)[\s_#-]*(?:\d+|[a-z])$/i;

/** Whether a label is a diarisation name such as "SPEAKER_00" or "Speaker 2". */
export function isNumberedSpeaker(label: string): boolean {
  return speakerPattern.test(label.trim());
}

/** A label-like start of a line (1–40 characters from a letter), for embedding in format patterns. */
export const speakerLabelSource = String.raw`[\p{L}][\p{L}\p{N} _.'#&()/-]{0,39}?`;

/**
 * Whether a candidate names a speaker rather than starting a sentence ("Note: …", "Reason: …"): at
 * most 4 words, and a role word, a numbered speaker, or a name used on at least two lines.
 */
export function isSpeakerLabel(label: string, occurrences: number): boolean {
  if (label.trim().split(/\s+/).length > 4) return false;
  return roleOfLabel(label) !== "unknown" || isNumberedSpeaker(label) || occurrences >= 2;
}

/** Counts candidate labels case-insensitively, so "Agent" and "AGENT" are one speaker. */
export function countLabels(labels: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const label of labels) {
    const key = labelKey(label);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export function labelKey(label: string): string {
  return label.trim().toLowerCase();
}

/**
 * Gives roles to unnamed speakers when the conversation leaves one reading: two unnamed speakers
 * (the first to speak is taken as the agent), or one unnamed speaker beside a named agent or
 * customer. A note tells the reviewer which assumption was made.
 */
export function inferTwoPartyRoles(turns: TurnDraft[]): { turns: TurnDraft[]; note: string | null } {
  const knownRoles = new Set(
    turns.map((t) => t.speaker).filter((role) => role === "agent" || role === "customer"),
  );
  const unnamed: string[] = [];
  for (const turn of turns) {
    if (
      turn.speaker === "unknown" &&
      turn.speakerLabel.trim() !== "" &&
      !unnamed.includes(turn.speakerLabel)
    ) {
      unnamed.push(turn.speakerLabel);
    }
  }
  const roles = new Map<string, SpeakerRole>();
  let note: string | null = null;
  const [first, second] = unnamed;
  if (knownRoles.size === 0 && unnamed.length === 2 && first !== undefined && second !== undefined) {
    roles.set(first, "agent");
    roles.set(second, "customer");
    note =
      `Speaker roles were inferred: "${first}" spoke first and was taken as the agent, "${second}" as the ` +
      "customer. Check this if the customer spoke first.";
  } else if (knownRoles.size === 1 && unnamed.length === 1 && first !== undefined) {
    const named = [...knownRoles][0];
    const other: SpeakerRole = named === "agent" ? "customer" : "agent";
    roles.set(first, other);
    note = `Speaker "${first}" was taken as the ${other}, the only speaker besides the ${named}.`;
  }
  if (note === null) return { turns, note };
  return {
    turns: turns.map((t) =>
      t.speaker === "unknown" ? { ...t, speaker: roles.get(t.speakerLabel) ?? "unknown" } : t,
    ),
    note,
  };
}
