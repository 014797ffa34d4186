import type { Transcript, TranscriptFormat } from "../../core/transcript.ts";
import { invalidTranscript } from "./invalidTranscript.ts";
import { parseJsonTranscript } from "./jsonTranscript.ts";
import { parsePlainTranscript } from "./plainTranscript.ts";
import { inferTwoPartyRoles } from "./speakerLabels.ts";
import { parseSubtitleTranscript, subtitleTimingMark } from "./subtitleTranscript.ts";
import type { TranscriptDraft } from "./transcriptDraft.ts";

/** What the sender said about a transcript's form; an explicit format wins over the content type and file name. */
export interface TranscriptHint {
  format?: TranscriptFormat | "auto";
  contentType?: string;
  fileName?: string;
}

const contentTypeFormats: Record<string, TranscriptFormat> = {
  "application/json": "json",
  "text/json": "json",
  "text/vtt": "vtt",
  "application/x-subrip": "srt",
  "application/srt": "srt",
  "text/srt": "srt",
  "text/x-srt": "srt",
};

const extensionFormats: Record<string, TranscriptFormat> = {
  json: "json",
  vtt: "vtt",
  webvtt: "vtt",
  srt: "srt",
};

/** The format the sender declared, or null when it must be recognised from the content. */
function declaredFormat(hint: TranscriptHint): TranscriptFormat | null {
  if (hint.format !== undefined && hint.format !== "auto") return hint.format;
  const mediaType = hint.contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== undefined) {
    const byType = contentTypeFormats[mediaType] ?? (mediaType.endsWith("+json") ? "json" : undefined);
    if (byType !== undefined) return byType;
  }
  const extension = hint.fileName?.split(/[?#]/)[0]?.split(".").pop()?.toLowerCase();
  // "text/plain" and ".txt" say nothing: SRT and JSON files are often served that way.
  return (extension !== undefined && extensionFormats[extension]) || null;
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidTranscript(
      `The transcript was declared as JSON but is not valid JSON (${error instanceof Error ? error.message : String(error)}).`,
      error,
    );
  }
}

function detectAndParse(text: string): { format: TranscriptFormat; draft: TranscriptDraft } {
  const head = text.trimStart();
  if (head.startsWith("{")) return { format: "json", draft: parseJsonTranscript(parseJsonText(text)) };
  if (head.startsWith("[")) {
    // "[00:00:05] Agent: …" starts with a bracket too: only valid JSON is read as JSON.
    try {
      const value: unknown = JSON.parse(text);
      return { format: "json", draft: parseJsonTranscript(value) };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  if (/^WEBVTT/.test(head)) return { format: "vtt", draft: parseSubtitleTranscript(text, "vtt") };
  const mark = subtitleTimingMark(text);
  if (mark === ",") return { format: "srt", draft: parseSubtitleTranscript(text, "srt") };
  if (mark === ".") return { format: "vtt", draft: parseSubtitleTranscript(text, "vtt") };
  return { format: "plain", draft: parsePlainTranscript(text) };
}

function parseDeclared(format: TranscriptFormat, text: string): TranscriptDraft {
  switch (format) {
    case "json":
    case "asr":
      return parseJsonTranscript(parseJsonText(text));
    case "srt":
    case "vtt":
      return parseSubtitleTranscript(text, format);
    case "plain":
      return parsePlainTranscript(text);
  }
}

/**
 * Reads a transcript in plain text ("Agent: …" lines), SRT, WebVTT or JSON into speaker turns.
 * Throws TRANSCRIPT_INVALID, saying what is wrong and which forms work, when nothing usable is found.
 */
export function parseTranscript(input: string, hint: TranscriptHint = {}): Transcript {
  const text = input.replace(/^\uFEFF/, "");
  if (text.trim() === "") throw invalidTranscript("The transcript is empty.");
  const declared = declaredFormat(hint);
  const { format, draft } =
    declared === null ? detectAndParse(text) : { format: declared, draft: parseDeclared(declared, text) };
  if (draft.turns.length === 0)
    throw invalidTranscript(`The ${describeFormat(format)} transcript has no turn with text.`);

  const inferred = inferTwoPartyRoles(draft.turns);
  const notes = inferred.note === null ? draft.notes : [...draft.notes, inferred.note];
  const turns = inferred.turns.map((turn, index) => ({ index, ...turn }));
  return { format, turns, timed: turns.every((turn) => turn.start !== undefined), notes };
}

function describeFormat(format: TranscriptFormat): string {
  return format === "plain" ? "plain-text" : format.toUpperCase();
}
