import { invalidTranscript } from "./invalidTranscript.ts";
import { countLabels, isSpeakerLabel, labelKey, roleOfLabel, speakerLabelSource } from "./speakerLabels.ts";
import { parseWrittenTime } from "./timestamps.ts";
import type { TranscriptDraft, TurnDraft } from "./transcriptDraft.ts";

const cueTime = String.raw`(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?`;
const timingLine = new RegExp(String.raw`^\s*(${cueTime})\s*-->\s*(${cueTime})`);

/** Whether a text has subtitle timing lines, and with which decimal mark (SRT uses a comma). */
export function subtitleTimingMark(text: string): "," | "." | null {
  const match = /^\s*(?:\d+:)?\d{1,2}:\d{2}([.,])\d{1,3}\s*-->/m.exec(text);
  return match === null ? null : (match[1] as "," | ".");
}

interface Cue {
  start: number;
  end: number;
  lines: string[];
}

/** One speaker's part of a cue (a cue may hold several `<v>` voices). */
interface CuePart {
  start: number;
  end: number;
  voice: string | null;
  text: string;
}

function readCues(input: string): Cue[] {
  const cues: Cue[] = [];
  let current: Cue | null = null;
  for (const line of input.split(/\r\n|\r|\n/)) {
    const timing = timingLine.exec(line);
    if (timing !== null) {
      // A cue number written without the blank line before it belongs to this cue, not the last one.
      if (current !== null && /^\d+$/.test(current.lines.at(-1)?.trim() ?? "")) current.lines.pop();
      current = {
        start: parseWrittenTime(timing[1]!.replace(",", "."))?.seconds ?? 0,
        end: parseWrittenTime(timing[2]!.replace(",", "."))?.seconds ?? 0,
        lines: [],
      };
      cues.push(current);
    } else if (line.trim() === "") {
      current = null;
    } else if (current !== null) {
      current.lines.push(line.trim());
    }
    // Lines outside a cue are cue numbers, the WEBVTT header, NOTE, STYLE and REGION blocks.
  }
  return cues;
}

const voiceTag = /<v(?:\.[^\s>]*)?\s+([^>]*)>/g;
const entities: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  nbsp: " ",
  quot: '"',
  apos: "'",
  lrm: "",
  rlm: "",
};

function cleanCueText(text: string): string {
  return text
    .replace(/<[^>]*>/g, "")
    .replace(/\{\\[^}]*\}/g, "")
    .replace(/&(amp|lt|gt|nbsp|quot|apos|lrm|rlm);/g, (_, name: string) => entities[name] ?? "")
    .replace(/\s+/g, " ")
    .trim();
}

function splitVoices(cue: Cue): CuePart[] {
  const text = cue.lines.join(" ");
  const tags = [...text.matchAll(voiceTag)];
  if (tags.length === 0) return [{ start: cue.start, end: cue.end, voice: null, text: cleanCueText(text) }];
  const parts: CuePart[] = [];
  const before = cleanCueText(text.slice(0, tags[0]!.index));
  if (before !== "") parts.push({ start: cue.start, end: cue.end, voice: null, text: before });
  tags.forEach((tag, i) => {
    const body = text.slice(tag.index + tag[0].length, tags[i + 1]?.index ?? text.length);
    parts.push({ start: cue.start, end: cue.end, voice: tag[1]!.trim(), text: cleanCueText(body) });
  });
  return parts;
}

// "Agent: …", "[SPEAKER_00]: …", "- Customer: …", ">> AGENT: …"
const cueLabel = new RegExp(String.raw`^(?:-\s*|>>\s*)?\[?(${speakerLabelSource})\]?\s*:\s+(.*)$`, "su");

/**
 * Reads SRT or WebVTT cues into turns with start and end times. The speaker comes from a `<v Name>`
 * voice tag or a leading "Label:"; a cue without one continues the previous speaker. Consecutive cues
 * of one speaker stay separate turns so that their times stay precise.
 */
export function parseSubtitleTranscript(input: string, format: "srt" | "vtt"): TranscriptDraft {
  const parts = readCues(input).flatMap(splitVoices);
  if (parts.length === 0) {
    const example =
      format === "srt"
        ? '"1", "00:00:01,000 --> 00:00:04,000", "Agent: Hello"'
        : '"00:00:01.000 --> 00:00:04.000", "<v Agent>Hello"';
    throw invalidTranscript(
      `The ${format.toUpperCase()} transcript has no cues: expected blocks of lines such as ${example}.`,
    );
  }
  const candidates = parts.map((part) => ({
    part,
    labelled: part.voice === null ? cueLabel.exec(part.text) : null,
  }));
  const counts = countLabels(candidates.flatMap((c) => (c.labelled === null ? [] : [c.labelled[1]!])));

  const turns: TurnDraft[] = [];
  let speakerLabel = "";
  for (const { part, labelled } of candidates) {
    let text = part.text;
    if (part.voice !== null) {
      speakerLabel = part.voice;
    } else if (labelled !== null && isSpeakerLabel(labelled[1]!, counts.get(labelKey(labelled[1]!)) ?? 0)) {
      speakerLabel = labelled[1]!.trim();
      text = labelled[2]!.trim();
    }
    if (text === "") continue;
    turns.push({
      speaker: speakerLabel === "" ? "unknown" : roleOfLabel(speakerLabel),
      speakerLabel,
      text,
      start: part.start,
      end: part.end,
    });
  }
  return { turns, notes: [] };
}
