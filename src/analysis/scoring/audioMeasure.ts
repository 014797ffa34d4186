import {
  type AudioMeasureName,
  type AudioMeasures,
  audioMeasureValue,
  type TimeSpan,
} from "../../core/audio.ts";
import type { AudioMeasureEvaluator, KpiEvaluation } from "../../core/qualityProfile.ts";
import type { Evidence } from "../../core/transcript.ts";

/** How each measure reads in a justification. */
const measureWords: Record<AudioMeasureName, { name: string; unit: "seconds" | "share" | "count" }> = {
  duration_seconds: { name: "The call", unit: "seconds" },
  agent_talk_seconds: { name: "The agent's talk time", unit: "seconds" },
  customer_talk_seconds: { name: "The customer's talk time", unit: "seconds" },
  talk_seconds: { name: "Talk time", unit: "seconds" },
  talk_ratio: { name: "The agent's share of the talk", unit: "share" },
  silence_share: { name: "Silence", unit: "share" },
  silence_seconds: { name: "Silence", unit: "seconds" },
  longest_silence_seconds: { name: "The longest silence", unit: "seconds" },
  dead_air_share: { name: "Dead air", unit: "share" },
  dead_air_seconds: { name: "Dead air", unit: "seconds" },
  dead_air_count: { name: "Dead-air stretches", unit: "count" },
  overtalk_count: { name: "Overtalk", unit: "count" },
  overtalk_seconds: { name: "Overtalk", unit: "seconds" },
  overtalk_share: { name: "Overtalk", unit: "share" },
  longest_agent_monologue_seconds: { name: "The agent's longest monologue", unit: "seconds" },
  longest_customer_monologue_seconds: { name: "The customer's longest monologue", unit: "seconds" },
  hold_count: { name: "Holds", unit: "count" },
  hold_seconds: { name: "Time on hold", unit: "seconds" },
  longest_hold_seconds: { name: "The longest hold", unit: "seconds" },
};

/** A value as a reviewer reads it: 12.5 %, 1 min 5 s, 3 times. */
export function formatMeasure(name: AudioMeasureName, value: number): string {
  switch (measureWords[name].unit) {
    case "share":
      return `${(Math.round(value * 1000) / 10).toLocaleString("en-GB")} %`;
    case "count":
      return `${value}`;
    case "seconds": {
      if (value < 60) return `${Math.round(value * 10) / 10} s`;
      const minutes = Math.floor(value / 60);
      const seconds = Math.round(value - minutes * 60);
      return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
    }
  }
}

function describeTarget(config: AudioMeasureEvaluator): string {
  const f = (v: number) => formatMeasure(config.measure, v);
  switch (config.operator) {
    case "lt":
      return `under ${f(config.value!)}`;
    case "lte":
      return `at most ${f(config.value!)}`;
    case "gt":
      return `over ${f(config.value!)}`;
    case "gte":
      return `at least ${f(config.value!)}`;
    case "between":
      return `between ${f(config.min!)} and ${f(config.max!)}`;
  }
}

/** How far a value misses the target (0 when it meets it). */
function miss(config: AudioMeasureEvaluator, value: number): number {
  switch (config.operator) {
    case "lt":
      return value < config.value! ? 0 : value - config.value! + Number.EPSILON;
    case "lte":
      return value <= config.value! ? 0 : value - config.value!;
    case "gt":
      return value > config.value! ? 0 : config.value! - value + Number.EPSILON;
    case "gte":
      return value >= config.value! ? 0 : config.value! - value;
    case "between":
      return value < config.min! ? config.min! - value : value > config.max! ? value - config.max! : 0;
  }
}

/** The moment of the recording a reviewer should listen to for this measure, if there is one. */
function momentOf(measures: AudioMeasures, name: AudioMeasureName): { span: TimeSpan; what: string }[] {
  switch (name) {
    case "longest_silence_seconds":
    case "silence_share":
    case "silence_seconds":
      return measures.longestSilence ? [{ span: measures.longestSilence, what: "longest silence" }] : [];
    case "dead_air_share":
    case "dead_air_seconds":
    case "dead_air_count":
      return complementLongOnes(measures).map((span) => ({ span, what: "dead air" }));
    case "overtalk_count":
    case "overtalk_seconds":
    case "overtalk_share":
      return measures.overtalk.slice(0, 10).map((span) => ({ span, what: "overtalk" }));
    case "longest_agent_monologue_seconds":
      return measures.longestAgentMonologue
        ? [{ span: measures.longestAgentMonologue, what: "agent monologue" }]
        : [];
    case "hold_count":
    case "hold_seconds":
    case "longest_hold_seconds":
      return measures.holds
        .slice(0, 10)
        .map((h) => ({ span: h, what: h.kind === "music" ? "hold (music)" : "hold (silence)" }));
    default:
      return [];
  }
}

/** The dead-air stretches themselves: silences of at least the dead-air minimum. */
function complementLongOnes(measures: AudioMeasures): TimeSpan[] {
  const spoken = [
    ...measures.speech.agent,
    ...measures.speech.customer,
    ...measures.speech.mixed,
    ...measures.holds,
  ].sort((a, b) => a.start - b.start);
  const out: TimeSpan[] = [];
  let at = 0;
  for (const s of spoken) {
    if (s.start - at >= measures.deadAirMinSeconds) out.push({ start: at, end: s.start });
    at = Math.max(at, s.end);
  }
  if (measures.durationSeconds - at >= measures.deadAirMinSeconds)
    out.push({ start: at, end: measures.durationSeconds });
  return out.slice(0, 10);
}

function seconds(value: number): string {
  const m = Math.floor(value / 60);
  const s = Math.floor(value - m * 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

/**
 * Yes when the recording's measure meets the threshold; Partially when it misses by no more than
 * `partialMargin`; No otherwise. N/A when there is no recording, or when the recording cannot give the
 * measure (per-party figures of a mono call). Evidence points at the moments concerned.
 */
export function evaluateAudioMeasure(
  config: AudioMeasureEvaluator,
  measures: AudioMeasures | null,
  noMeasuresReason: string,
): KpiEvaluation {
  const words = measureWords[config.measure];
  if (measures === null) {
    return {
      answer: "N/A",
      justification: `${noMeasuresReason}, so "${words.name.toLowerCase()}" could not be measured.`,
      evidence: [],
    };
  }
  const value = audioMeasureValue(measures, config.measure);
  if (value === null) {
    const why =
      measures.notes.find((n) => n.startsWith("Mono")) ?? "The recording does not give this measure.";
    return { answer: "N/A", justification: `${words.name} cannot be measured: ${why}`, evidence: [] };
  }
  const evidence: Evidence[] = momentOf(measures, config.measure).map(({ span, what }) => ({
    turnIndex: -1,
    speaker: what.startsWith("agent") ? "agent" : "unknown",
    quote: `${what}, ${seconds(span.start)}–${seconds(span.end)} (${formatMeasure("duration_seconds", span.end - span.start)})`,
    charStart: 0,
    charEnd: 0,
    startSeconds: span.start,
    endSeconds: span.end,
    source: "measure",
  }));
  const target = describeTarget(config);
  const shortfall = miss(config, value);
  const was = `${words.name} was ${formatMeasure(config.measure, value)}`;
  if (shortfall === 0) return { answer: "Yes", justification: `${was}: ${target}, as required.`, evidence };
  if (config.partialMargin !== undefined && shortfall <= config.partialMargin) {
    return {
      answer: "Partially",
      justification: `${was}, not ${target}, but within the margin of ${formatMeasure(config.measure, config.partialMargin)}.`,
      evidence,
    };
  }
  return { answer: "No", justification: `${was}; it should be ${target}.`, evidence };
}
