import type { TimeSpan } from "../../core/audio.ts";
import { type ChannelFeatures, frameHopSeconds } from "./frameFeatures.ts";

/** Speech and non-speech sound found on one channel. */
export interface ChannelActivity {
  /** When someone spoke (pauses under `bridgeSeconds` bridged). */
  speech: TimeSpan[];
  /** Long stretches of steady sound that is not speech: hold music, tones. */
  music: TimeSpan[];
  /** The levels the decision used, for the notes and for tuning. */
  noiseFloorDb: number;
  thresholdDb: number;
}

/** Pauses shorter than this inside one party's speech are part of the talk (breaths, commas). */
export const bridgeSeconds = 0.5;
/** Shorter bursts are clicks or line noise, not talk. */
const minSpeechSeconds = 0.2;
/** Frames noisier than this (spectral flatness) cannot start speech: hiss and static are flat. */
const onsetMaxFlatness = 0.45;
/** Sound that lasts this long with little syllable-rate modulation is treated as music or a tone. */
const musicMinSeconds = 8;
const musicMaxModulationDb = 4.5;

/**
 * Voice activity of one channel from its frame features. The threshold adapts to the channel: it sits
 * well above the channel's noise floor (its quietest tenth) and within 30 dB of its loudest speech, so
 * steady line noise, hum and hiss do not count as talk; frames must also not be noise-flat to start
 * speech; short pauses are bridged and short bursts dropped.
 */
export function detectVoiceActivity(features: ChannelFeatures): ChannelActivity {
  const { energyDb, flatness, frames } = features;
  if (frames === 0) return { speech: [], music: [], noiseFloorDb: -120, thresholdDb: 0 };
  const sorted = Float32Array.from(energyDb).sort();
  const floor = sorted[Math.floor(frames * 0.1)]!;
  const peak = sorted[Math.min(frames - 1, Math.floor(frames * 0.98))]!;
  const thresholdOn = Math.max(floor + 10, peak - 30, -60);
  const thresholdOff = thresholdOn - 4;

  const raw: TimeSpan[] = [];
  let inSpeech = false;
  let startFrame = 0;
  for (let i = 0; i < frames; i++) {
    const e = energyDb[i]!;
    if (!inSpeech) {
      if (e >= thresholdOn && flatness[i]! <= onsetMaxFlatness) {
        inSpeech = true;
        startFrame = i;
      }
    } else if (e < thresholdOff) {
      inSpeech = false;
      raw.push(span(startFrame, i));
    }
  }
  if (inSpeech) raw.push(span(startFrame, frames));

  const bridged = bridgeGaps(raw, bridgeSeconds).filter((s) => s.end - s.start >= minSpeechSeconds);
  const speech: TimeSpan[] = [];
  const music: TimeSpan[] = [];
  for (const s of bridged) {
    if (s.end - s.start >= musicMinSeconds && modulationDb(energyDb, s) < musicMaxModulationDb) music.push(s);
    else speech.push(s);
  }
  return { speech, music, noiseFloorDb: floor, thresholdDb: thresholdOn };
}

function span(startFrame: number, endFrame: number): TimeSpan {
  return { start: round(startFrame * frameHopSeconds), end: round(endFrame * frameHopSeconds + 0.012) };
}

/** Joins spans separated by less than `gap` seconds. */
export function bridgeGaps(spans: readonly TimeSpan[], gap: number): TimeSpan[] {
  const out: TimeSpan[] = [];
  for (const s of spans) {
    const last = out.at(-1);
    if (last && s.start - last.end < gap) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/**
 * How much the energy of a stretch swings within each second (median of per-second standard
 * deviations, dB). Speech rises and falls with every syllable (typically 8–15 dB); music and tones
 * hold steady.
 */
function modulationDb(energyDb: Float32Array, s: TimeSpan): number {
  const first = Math.floor(s.start / frameHopSeconds);
  const last = Math.min(energyDb.length, Math.floor(s.end / frameHopSeconds));
  const perSecond = Math.round(1 / frameHopSeconds);
  const deviations: number[] = [];
  for (let at = first; at + perSecond <= last; at += perSecond) {
    let sum = 0;
    let squares = 0;
    for (let i = at; i < at + perSecond; i++) {
      const e = energyDb[i]!;
      sum += e;
      squares += e * e;
    }
    const mean = sum / perSecond;
    deviations.push(Math.sqrt(Math.max(0, squares / perSecond - mean * mean)));
  }
  deviations.sort((a, b) => a - b);
  return deviations[Math.floor(deviations.length / 2)] ?? Number.POSITIVE_INFINITY;
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}
