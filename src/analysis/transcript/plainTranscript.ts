import {
  countLabels,
  isNumberedSpeaker,
  isSpeakerLabel,
  labelKey,
  roleOfLabel,
  speakerLabelSource,
} from "./speakerLabels.ts";
import { parseWrittenTime, timeSource, toConversationSeconds, type WrittenTime } from "./timestamps.ts";
import type { TranscriptDraft, TurnDraft } from "./transcriptDraft.ts";

/** One line of a plain transcript, split into its optional time, optional label and text. */
interface PlainLine {
  raw: string;
  /** A time before the label: "[00:01:02] Agent: …". */
  time: string | null;
  label: string | null;
  /** A time that comes with the label ("Agent (00:12): …", "Speaker 1  0:05"); it counts only if the label does. */
  labelTime: string | null;
  text: string;
  /** The line after its time, label included: the text when the label turns out not to be a speaker. */
  afterTime: string;
}

// "[00:01:02] Agent: …", "(00:12) Customer: …", "10:30:01 - Agent: …"
const leadingTime = new RegExp(
  String.raw`^(?:\[\s*(${timeSource})\s*\]|\(\s*(${timeSource})\s*\)|(${timeSource})(?=\s|$))\s*(?:[-–—|]\s*)?(.*)$`,
  "su",
);
// "Agent: …", "Agent (00:12): …", "Agent [10:30:01]: …"
const leadingLabel = new RegExp(
  String.raw`^(${speakerLabelSource})\s*(?:[\[(]\s*(${timeSource})\s*[\])])?\s*:(?:\s+|$)(.*)$`,
  "su",
);
// Otter-style heading line: "Speaker 1  0:05", the words follow on the next lines.
const headingLabel = new RegExp(String.raw`^(${speakerLabelSource})\s+(${timeSource})$`, "u");

function splitLine(raw: string): PlainLine {
  let rest = raw.trim();
  let time: string | null = null;
  let bareTime = false;
  const timed = leadingTime.exec(rest);
  if (timed !== null) {
    time = timed[1] ?? timed[2] ?? timed[3] ?? null;
    bareTime = timed[3] !== undefined;
    rest = timed[4] ?? "";
  }
  const labelled = leadingLabel.exec(rest);
  if (labelled !== null) {
    const label = labelled[1]!.trim();
    return { raw, time, label, labelTime: labelled[2] ?? null, text: labelled[3]!.trim(), afterTime: rest };
  }
  const heading = time === null && rest.length <= 60 ? headingLabel.exec(rest) : null;
  if (heading !== null) {
    return { raw, time, label: heading[1]!.trim(), labelTime: heading[2]!, text: "", afterTime: rest };
  }
  // "3:00 works for me" is a sentence; only a bracketed time or a time alone marks a new turn.
  if (bareTime && rest !== "") {
    return { raw, time: null, label: null, labelTime: null, text: raw.trim(), afterTime: raw.trim() };
  }
  return { raw, time, label: null, labelTime: null, text: rest, afterTime: rest };
}

// "Agent: Hello. Customer: Hi." in one line, as CRM exports often store a chat.
const inlineLabel = /(?<=^|\s)(\p{L}+(?:[ _]?\d+)?)\s*:\s/gu;

/** Breaks a one-line transcript before each inline role label, when there are at least two. */
function splitInlineLabels(line: string): string[] {
  const starts = [...line.matchAll(inlineLabel)]
    .filter((m) => roleOfLabel(m[1]!) !== "unknown" || isNumberedSpeaker(m[1]!))
    .map((m) => m.index);
  if (starts.length < 2) return [line];
  const parts = starts.map((start, i) => line.slice(start, starts[i + 1]).trim());
  const before = line.slice(0, starts[0]).trim();
  return before === "" ? parts : [before, ...parts];
}

/** Makes text that arrived through a CSV cell, with "\n" written out, into lines again. */
function toLines(input: string): string[] {
  const text = /[\r\n]/.test(input) ? input : input.replace(/\\r\\n|\\n|\\r/g, "\n");
  const lines = text.split(/\r\n|\r|\n/);
  return lines.length === 1 ? splitInlineLabels(lines[0]!) : lines;
}

/**
 * Reads "Agent: …" / "Customer: …" lines. Unlabelled lines continue the previous turn; a text with no
 * labels at all becomes one turn of unknown speaker, which phrase checks can still search.
 */
export function parsePlainTranscript(input: string): TranscriptDraft {
  const lines = toLines(input)
    .map(splitLine)
    .filter((line) => line.raw.trim() !== "");
  const counts = countLabels(lines.flatMap((line) => (line.label === null ? [] : [line.label])));
  const isLabel = (line: PlainLine) =>
    line.label !== null && isSpeakerLabel(line.label, counts.get(labelKey(line.label)) ?? 0);
  const hasLabels = lines.some(isLabel);

  const turns: TurnDraft[] = [];
  const times: (WrittenTime | undefined)[] = [];
  const preamble: string[] = [];
  const notes: string[] = [];
  let pendingTime: string | null = null;
  const startTurn = (speakerLabel: string, text: string, time: string | null) => {
    turns.push({ speaker: speakerLabel === "" ? "unknown" : roleOfLabel(speakerLabel), speakerLabel, text });
    times.push(time === null ? undefined : (parseWrittenTime(time) ?? undefined));
  };

  for (const line of lines) {
    const current = turns.at(-1);
    if (isLabel(line)) {
      startTurn(line.label!, line.text, line.time ?? line.labelTime ?? pendingTime);
      pendingTime = null;
    } else if (line.time !== null && line.afterTime === "") {
      // A time on a line of its own belongs to the turn that follows.
      pendingTime = line.time;
    } else if (line.time !== null || pendingTime !== null) {
      startTurn("", line.afterTime, line.time ?? pendingTime);
      pendingTime = null;
    } else if (current !== undefined) {
      current.text = current.text === "" ? line.raw.trim() : `${current.text}\n${line.raw.trim()}`;
    } else if (hasLabels) {
      preamble.push(line.raw.trim());
    } else {
      startTurn("", line.raw.trim(), null);
    }
  }

  if (preamble.length > 0) {
    const text = preamble.join(" ");
    notes.push(
      `Text before the first speaker label was left out: "${text.length > 80 ? `${text.slice(0, 80)}…` : text}".`,
    );
  }
  const { seconds, note } = toConversationSeconds(times);
  if (note !== null) notes.push(note);
  const timedTurns = turns.map((turn, i) => {
    const start = seconds[i];
    return start === undefined ? turn : { ...turn, start };
  });
  return { turns: timedTurns.filter((turn) => turn.text.trim() !== ""), notes };
}
