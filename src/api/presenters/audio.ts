import type { AudioMeasures, AudioMeasuresFailure, SpeechAnalysis, TimeSpan } from "../../core/audio.ts";
import type { RedactionSpan } from "../../core/transcript.ts";

const span = (s: TimeSpan | null) => (s === null ? null : { start: s.start, end: s.end });
const spans = (list: readonly TimeSpan[]) => list.map((s) => [s.start, s.end]);

/** The audio measures of an interaction (snake_case), or why the recording could not be measured. */
export function presentAudioMeasures(
  measures: AudioMeasures | AudioMeasuresFailure | null,
): Record<string, unknown> | null {
  if (measures === null) return null;
  if (!("version" in measures)) return { error: measures.error, reason: measures.reason };
  return {
    duration_seconds: measures.durationSeconds,
    format: {
      container: measures.format.container,
      codec: measures.format.codec,
      sample_rate: measures.format.sampleRate,
      channels: measures.format.channels,
      bits_per_sample: measures.format.bitsPerSample,
      decoder: measures.format.decoder,
    },
    channel_roles: measures.channelRoles,
    talk_seconds: measures.talkSeconds,
    talk_ratio: measures.talkRatio,
    silence_seconds: measures.silenceSeconds,
    silence_share: measures.silenceShare,
    longest_silence_seconds: measures.longestSilenceSeconds,
    longest_silence: span(measures.longestSilence),
    dead_air_seconds: measures.deadAirSeconds,
    dead_air_share: measures.deadAirShare,
    dead_air_count: measures.deadAirCount,
    dead_air_min_seconds: measures.deadAirMinSeconds,
    overtalk_count: measures.overtalkCount,
    overtalk_seconds: measures.overtalkSeconds,
    overtalk_share: measures.overtalkShare,
    overtalk_min_seconds: measures.overtalkMinSeconds,
    longest_agent_monologue_seconds: measures.longestAgentMonologueSeconds,
    longest_agent_monologue: span(measures.longestAgentMonologue),
    longest_customer_monologue_seconds: measures.longestCustomerMonologueSeconds,
    hold_count: measures.holdCount,
    hold_seconds: measures.holdSeconds,
    longest_hold_seconds: measures.longestHoldSeconds,
    holds: measures.holds.map((h) => ({ start: h.start, end: h.end, kind: h.kind })),
    // [start, end] pairs in seconds, for a timeline.
    speech: {
      agent: spans(measures.speech.agent),
      customer: spans(measures.speech.customer),
      mixed: spans(measures.speech.mixed),
    },
    overtalk: spans(measures.overtalk),
    notes: measures.notes,
  };
}

/** Which engines listened to the recording and what they heard. */
export function presentSpeech(speech: SpeechAnalysis | null): Record<string, unknown> | null {
  if (speech === null) return null;
  return {
    transcriber: speech.transcriber,
    spotter: speech.spotter,
    spotted_phrases: speech.spotted.map((s) => ({
      phrase: s.phrase,
      speaker: s.speaker,
      start: s.start,
      end: s.end,
      confidence: s.confidence,
    })),
    unspottable_phrases: speech.unspottable,
    notes: speech.notes,
    error: speech.error,
  };
}

/** Where personal data was redacted in the transcript, for highlighting. */
export function presentRedactions(
  redactions: readonly RedactionSpan[] | undefined,
): Record<string, unknown>[] {
  return (redactions ?? []).map((r) => ({
    turn_index: r.turnIndex,
    char_start: r.charStart,
    char_end: r.charEnd,
    kind: r.kind,
    start_seconds: r.startSeconds ?? null,
    end_seconds: r.endSeconds ?? null,
  }));
}
