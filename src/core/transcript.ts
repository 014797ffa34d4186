/** Who spoke a turn. Sources label speakers in many ways; they are normalised to these roles. */
export type SpeakerRole = "agent" | "customer" | "system" | "unknown";

/** One turn of a conversation, with its place in time when the source gave one. */
export interface TranscriptTurn {
  /** 0-based position in the conversation. */
  index: number;
  speaker: SpeakerRole;
  /** The label as the source wrote it ("Agent", "Customer", "SPEAKER_1", "bot"). */
  speakerLabel: string;
  text: string;
  /** Seconds from the start of the conversation, when known. */
  start?: number;
  end?: number;
}

/** How the transcript came: a supplied file's form, or `asr` when a speech engine made it from the audio. */
export type TranscriptFormat = "plain" | "srt" | "vtt" | "json" | "asr";

/** The kinds of personal data cqa redacts. */
export type PiiKind = "card_number" | "security_code" | "phone_number" | "email" | "digits";

/** A redacted piece of a turn: where the placeholder stands in the (redacted) text, and what it hides. */
export interface RedactionSpan {
  turnIndex: number;
  /** Character offsets of the placeholder in the turn's redacted text. */
  charStart: number;
  charEnd: number;
  kind: PiiKind;
  /** Seconds of the turn, when the transcript is timed. */
  startSeconds?: number;
  endSeconds?: number;
}

/** A conversation as text, whatever form it arrived in. */
export interface Transcript {
  format: TranscriptFormat;
  turns: TranscriptTurn[];
  /** True when every turn has a start time (SRT, VTT, timed JSON). */
  timed: boolean;
  /** Assumptions the parser made that a reviewer should know about (e.g. speaker roles inferred). */
  notes: string[];
  /** What was redacted (the text already holds placeholders); absent when nothing was checked. */
  redactions?: RedactionSpan[];
  /** Whether cqa redacted it, or the source said it already had. */
  redaction?: "cqa" | "source" | "off";
}

/** A piece of the transcript that supports a KPI answer. */
export interface Evidence {
  turnIndex: number;
  speaker: SpeakerRole;
  /** The matched words as they appear in the turn. */
  quote: string;
  /** Character offsets of `quote` inside the turn's text. */
  charStart: number;
  charEnd: number;
  /** Seconds from the start of the conversation, when the transcript is timed. */
  startSeconds?: number;
  endSeconds?: number;
  /** The configured phrase that matched, and how closely (1 = exact). */
  phrase?: string;
  similarity?: number;
  /** Where the finding came from when not from the transcript's words: `audio` = heard by keyword spotting. */
  source?: "transcript" | "audio" | "measure" | "llm";
}
