/** The party a recording channel carries. */
export type ChannelRole = "agent" | "customer" | "mixed";

/** Which channel of a recording is whose: the default is left = agent, right = customer. */
export interface ChannelMap {
  /** 0-based channel index of the agent. */
  agent: number;
  /** 0-based channel index of the customer. */
  customer: number;
}

export const defaultChannelMap: ChannelMap = { agent: 0, customer: 1 };

/** What a recording turned out to be once decoded. */
export interface AudioFormat {
  /** wav, mp3, ogg, flac, m4a, amr, webm… as recognised from the file's first bytes. */
  container: string;
  /** pcm_s16le, mulaw, alaw, float32, mp3… */
  codec: string;
  sampleRate: number;
  channels: number;
  /** Bits per sample of the stored samples, when the container says. */
  bitsPerSample: number | null;
  /** Decoded in-process, or through ffmpeg. */
  decoder: "in-process" | "ffmpeg";
}

/** A stretch of time, in seconds from the start of the recording. */
export interface TimeSpan {
  start: number;
  end: number;
}

/** A stretch that looks like a hold: long silence on both sides, or continuous non-speech sound (music). */
export interface HoldSegment extends TimeSpan {
  kind: "silence" | "music";
}

/**
 * What the recording says about the conversation without speech recognition. Per-party figures are
 * null for a mono recording (one channel carries both parties), and `notes` say why.
 */
export interface AudioMeasures {
  version: 1;
  format: AudioFormat;
  durationSeconds: number;
  channelRoles: ChannelRole[];
  /** Seconds of speech per party; `total` is the time anyone spoke (overlaps counted once). */
  talkSeconds: { agent: number | null; customer: number | null; total: number };
  /** Agent talk ÷ (agent + customer talk), 0..1. */
  talkRatio: number | null;
  /** Time nobody spoke. */
  silenceSeconds: number;
  silenceShare: number;
  longestSilence: TimeSpan | null;
  longestSilenceSeconds: number;
  /** Silences of at least `deadAirMinSeconds`. */
  deadAirSeconds: number;
  deadAirShare: number;
  deadAirCount: number;
  deadAirMinSeconds: number;
  /** Both parties speaking at once, counted when it lasts at least `overtalkMinSeconds`. */
  overtalkCount: number | null;
  overtalkSeconds: number | null;
  overtalkShare: number | null;
  overtalkMinSeconds: number;
  longestAgentMonologue: TimeSpan | null;
  longestAgentMonologueSeconds: number | null;
  longestCustomerMonologueSeconds: number | null;
  holds: HoldSegment[];
  holdCount: number;
  holdSeconds: number;
  longestHoldSeconds: number;
  /** When each party spoke (mono: `mixed`). At most 5,000 spans per party. */
  speech: { agent: TimeSpan[]; customer: TimeSpan[]; mixed: TimeSpan[] };
  overtalk: TimeSpan[];
  notes: string[];
}

/** The names of the measures a KPI can set a threshold on. */
export const audioMeasureNames = [
  "duration_seconds",
  "agent_talk_seconds",
  "customer_talk_seconds",
  "talk_seconds",
  "talk_ratio",
  "silence_share",
  "silence_seconds",
  "longest_silence_seconds",
  "dead_air_share",
  "dead_air_seconds",
  "dead_air_count",
  "overtalk_count",
  "overtalk_seconds",
  "overtalk_share",
  "longest_agent_monologue_seconds",
  "longest_customer_monologue_seconds",
  "hold_count",
  "hold_seconds",
  "longest_hold_seconds",
] as const;

export type AudioMeasureName = (typeof audioMeasureNames)[number];

/** One measure's value, or null when the recording cannot give it (e.g. per-party figures of a mono call). */
export function audioMeasureValue(measures: AudioMeasures, name: AudioMeasureName): number | null {
  switch (name) {
    case "duration_seconds":
      return measures.durationSeconds;
    case "agent_talk_seconds":
      return measures.talkSeconds.agent;
    case "customer_talk_seconds":
      return measures.talkSeconds.customer;
    case "talk_seconds":
      return measures.talkSeconds.total;
    case "talk_ratio":
      return measures.talkRatio;
    case "silence_share":
      return measures.silenceShare;
    case "silence_seconds":
      return measures.silenceSeconds;
    case "longest_silence_seconds":
      return measures.longestSilenceSeconds;
    case "dead_air_share":
      return measures.deadAirShare;
    case "dead_air_seconds":
      return measures.deadAirSeconds;
    case "dead_air_count":
      return measures.deadAirCount;
    case "overtalk_count":
      return measures.overtalkCount;
    case "overtalk_seconds":
      return measures.overtalkSeconds;
    case "overtalk_share":
      return measures.overtalkShare;
    case "longest_agent_monologue_seconds":
      return measures.longestAgentMonologueSeconds;
    case "longest_customer_monologue_seconds":
      return measures.longestCustomerMonologueSeconds;
    case "hold_count":
      return measures.holdCount;
    case "hold_seconds":
      return measures.holdSeconds;
    case "longest_hold_seconds":
      return measures.longestHoldSeconds;
  }
}

/** Where a phrase was heard in the recording by keyword spotting (no transcript needed). */
export interface SpottedPhrase {
  phrase: string;
  speaker: "agent" | "customer" | "unknown";
  start: number;
  end: number;
  /** The spotter's confidence, 0..1, when it gives one. */
  confidence: number | null;
}

/** What speech engines made of a recording, stored with the interaction. */
export interface SpeechAnalysis {
  /** The engine that transcribed the recording; null when the source supplied the transcript or none ran. */
  transcriber: string | null;
  /** The spotter that listened for the profiles' phrases; null when none ran. */
  spotter: string | null;
  spotted: SpottedPhrase[];
  /** Phrases the spotter could not listen for, and why. */
  unspottable: Record<string, string>;
  notes: string[];
  /** Why transcription or spotting failed, when it did (the analysis went on without it). */
  error: string | null;
}

/** Stored instead of measures when the recording could not be decoded (and a transcript carried on). */
export interface AudioMeasuresFailure {
  error: string;
  reason: string;
}
