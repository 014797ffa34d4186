import { join } from "node:path";
import type { Readable } from "node:stream";
import { measureConversation } from "../analysis/audio/audioMeasures.ts";
import { FrameFeatureExtractor, featureSampleRate } from "../analysis/audio/frameFeatures.ts";
import { detectVoiceActivity } from "../analysis/audio/voiceActivity.ts";
import type { AudioMeasures, ChannelMap, ChannelRole } from "../core/audio.ts";
import { TelephoneBandFill } from "../media/bandFill.ts";
import { type DecodeSettings, decodeAudio } from "../media/decodeAudio.ts";
import { Resampler } from "../media/resampler.ts";
import { WavFileWriter } from "../media/wavWriter.ts";

/** The rate speech engines get their audio at (PocketSphinx's model, and plenty for Whisper). */
export const engineSampleRate = 16_000;
/** RMS of the noise that fills the empty 4–7.5 kHz band of telephone audio (tuned on the fixtures). */
export const defaultBandFillDbfs = -48;

/** One channel of the recording, ready for a speech engine: 16 kHz 16-bit mono WAV. */
export interface EngineChannel {
  path: string;
  role: ChannelRole;
  /** 0-based channel index in the recording. */
  channel: number;
  seconds: number;
  /** True when the source was narrowband and the upper band was filled with noise. */
  bandFilled: boolean;
}

export interface RecordingAnalysis {
  measures: AudioMeasures;
  /** Present when engine input was asked for. */
  engineChannels: EngineChannel[] | null;
}

export interface RecordingAnalysisSettings {
  decode: DecodeSettings;
  channelMap: ChannelMap;
  /** Write 16 kHz copies of the agent and customer channels (or the one mono channel) here. */
  engineInputDir?: string;
  bandFillDbfs?: number;
}

/**
 * One pass over a recording: decodes it (bounded in time and memory), measures talk, silence,
 * overtalk and holds, and — when a speech engine will listen — writes a 16 kHz copy of each party's
 * channel, upsampled telephone audio getting its empty upper band filled with low-level noise.
 */
export async function analyseRecording(
  source: Readable,
  sizeBytes: number | null,
  settings: RecordingAnalysisSettings,
): Promise<RecordingAnalysis> {
  let extractors: FrameFeatureExtractor[] = [];
  let toFeatures: Resampler[] = [];
  let engine: {
    channel: number;
    role: ChannelRole;
    resampler: Resampler;
    fill: TelephoneBandFill | null;
    writer: WavFileWriter;
  }[] = [];
  const start = (rate: number, channels: number) => {
    extractors = Array.from({ length: channels }, () => new FrameFeatureExtractor());
    toFeatures = Array.from({ length: channels }, () => new Resampler(rate, featureSampleRate));
    if (settings.engineInputDir !== undefined) {
      const dir = settings.engineInputDir;
      const narrowband = rate < 12_000;
      engine = partyChannels(channels, settings.channelMap).map(({ channel, role }) => ({
        channel,
        role,
        resampler: new Resampler(rate, engineSampleRate),
        fill: narrowband
          ? new TelephoneBandFill(
              engineSampleRate,
              settings.bandFillDbfs ?? defaultBandFillDbfs,
              0x5eed + channel,
            )
          : null,
        writer: new WavFileWriter(join(dir, `channel-${channel}.wav`), engineSampleRate),
      }));
    }
  };
  const writeEngine = (item: (typeof engine)[number], samples: Float32Array) => {
    if (samples.length === 0) return;
    item.writer.write([item.fill ? item.fill.apply(samples) : samples]);
  };
  try {
    const decoded = await decodeAudio(source, sizeBytes, settings.decode, {
      start: (format) => start(format.sampleRate, format.channels),
      write: (channels) => {
        channels.forEach((samples, c) => {
          extractors[c]!.push(toFeatures[c]!.process(samples));
        });
        for (const item of engine) writeEngine(item, item.resampler.process(channels[item.channel]!));
      },
    });
    for (const [c, resampler] of toFeatures.entries()) extractors[c]!.push(resampler.flush());
    for (const item of engine) writeEngine(item, item.resampler.flush());
    const activity = extractors.map((extractor) => detectVoiceActivity(extractor.finish()));
    const measures = measureConversation(
      activity,
      settings.channelMap,
      decoded.durationSeconds,
      decoded.format,
    );
    return {
      measures,
      engineChannels:
        settings.engineInputDir === undefined
          ? null
          : engine.map((item) => ({
              path: item.writer.path,
              role: item.role,
              channel: item.channel,
              seconds: item.writer.seconds,
              bandFilled: item.fill !== null,
            })),
    };
  } finally {
    for (const item of engine) item.writer.close();
  }
}

/** The channels a speech engine listens to: the agent's and the customer's, or the one mono channel. */
function partyChannels(channels: number, map: ChannelMap): { channel: number; role: ChannelRole }[] {
  if (channels < 2) return [{ channel: 0, role: "mixed" }];
  const agent = map.agent < channels ? map.agent : 0;
  const customer = map.customer < channels && map.customer !== agent ? map.customer : agent === 0 ? 1 : 0;
  return [
    { channel: agent, role: "agent" },
    { channel: customer, role: "customer" },
  ];
}
