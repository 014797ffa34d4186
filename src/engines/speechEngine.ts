import type { ChannelRole, SpottedPhrase, TimeSpan } from "../core/audio.ts";
import type { SpeakerRole, Transcript, TranscriptTurn } from "../core/transcript.ts";

/** One channel of a recording as a speech engine reads it: 16 kHz 16-bit mono WAV. */
export interface EngineInput {
  path: string;
  seconds: number;
  role: ChannelRole;
}

/** A piece of recognised speech, in seconds from the start of the recording. */
export interface RecognisedSegment {
  start: number;
  end: number;
  text: string;
  /** Mean word confidence 0..1, when the engine gives one. */
  confidence: number | null;
}

export interface TranscribeOptions {
  /** ISO 639-1 hint ("en", "hi"); null when unknown. */
  language: string | null;
}

/** A speech-to-text engine: one channel in, timed segments out. */
export interface SpeechEngine {
  /** "pocketsphinx", "openai", "whisper" — what accounts choose by. */
  readonly kind: string;
  /** What transcripts say they were made with ("PocketSphinx 5prealpha, en-us model"). */
  readonly label: string;
  /** Languages it can transcribe (ISO 639-1), or null for any. */
  readonly languages: readonly string[] | null;
  /** Said in the transcript's notes, so a reviewer knows how far to trust it. */
  readonly accuracyNote: string;
  transcribe(input: EngineInput, options: TranscribeOptions): Promise<RecognisedSegment[]>;
}

/** Finds given phrases straight in the audio, without a full transcript. */
export interface PhraseSpotter {
  readonly label: string;
  /** Phrases it cannot listen for, and why (words its dictionary lacks). */
  unspottable(phrases: readonly string[]): Map<string, string>;
  spot(input: EngineInput, phrases: readonly string[]): Promise<Omit<SpottedPhrase, "speaker">[]>;
}

const speakerOf = (role: ChannelRole): SpeakerRole => (role === "mixed" ? "unknown" : role);

/**
 * The turns of a conversation from each channel's recognised segments, merged by time: with one
 * channel per party the speaker of every turn is known; a mono recording gives turns of unknown
 * speaker. Words recognised inside hold music are dropped (an engine "hears" words in music).
 */
export function mergeChannels(
  channels: readonly { role: ChannelRole; segments: readonly RecognisedSegment[] }[],
  engine: Pick<SpeechEngine, "label" | "accuracyNote">,
  music: readonly TimeSpan[] = [],
): Transcript {
  const insideMusic = (s: RecognisedSegment) =>
    music.some((m) => s.start >= m.start - 0.25 && s.end <= m.end + 0.25);
  const all = channels
    .flatMap((channel) =>
      channel.segments
        .filter((s) => s.text.trim().length > 0 && !insideMusic(s))
        .map((s) => ({ ...s, speaker: speakerOf(channel.role) })),
    )
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const turns: TranscriptTurn[] = all.map((s, index) => ({
    index,
    speaker: s.speaker,
    speakerLabel: s.speaker === "unknown" ? "Speaker" : s.speaker === "agent" ? "Agent" : "Customer",
    text: s.text.trim(),
    start: round(s.start),
    end: round(s.end),
  }));
  const notes = [`Transcribed from the recording by ${engine.label}. ${engine.accuracyNote}`];
  if (channels.length === 1 && channels[0]?.role === "mixed") {
    notes.push("Mono recording: speakers are not separated, so turns have no known speaker.");
  } else if (channels.length > 1) {
    notes.push("Speakers come from the recording's channels (one party per channel).");
  }
  const dropped = channels.reduce((n, c) => n + c.segments.filter(insideMusic).length, 0);
  if (dropped > 0) notes.push(`${dropped} segment(s) recognised inside hold music were left out.`);
  return { format: "asr", turns, timed: true, notes };
}

/** Groups timed words into segments, starting a new one at a pause of `pauseSeconds` or more. */
export function segmentWords(
  words: readonly { word: string; start: number; end: number; confidence: number | null }[],
  pauseSeconds = 0.8,
): RecognisedSegment[] {
  const segments: RecognisedSegment[] = [];
  let current: { start: number; end: number; words: string[]; confidences: number[] } | null = null;
  const close = () => {
    if (current === null) return;
    segments.push({
      start: current.start,
      end: current.end,
      text: current.words.join(" "),
      confidence:
        current.confidences.length === 0
          ? null
          : round(current.confidences.reduce((a, b) => a + b, 0) / current.confidences.length),
    });
    current = null;
  };
  for (const w of words) {
    if (current !== null && w.start - current.end >= pauseSeconds) close();
    current ??= { start: w.start, end: w.end, words: [], confidences: [] };
    current.words.push(w.word);
    current.end = w.end;
    if (w.confidence !== null) current.confidences.push(w.confidence);
  }
  close();
  return segments;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
