import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AnalysisOptions } from "../core/analysisSettings.ts";
import type {
  AudioMeasures,
  AudioMeasuresFailure,
  SpeechAnalysis,
  SpottedPhrase,
  TimeSpan,
} from "../core/audio.ts";
import { AppError, describeError, isAppError } from "../core/errors.ts";
import type { Transcript } from "../core/transcript.ts";
import type { Engines } from "../engines/engineSet.ts";
import { mergeChannels, type PhraseSpotter, type SpeechEngine } from "../engines/speechEngine.ts";
import type { DecodeSettings } from "../media/decodeAudio.ts";
import { mediaFailureOf } from "../media/mediaError.ts";
import type { BlobStore } from "../storage/blob/blobStore.ts";
import type { InteractionMedia, InteractionRecord } from "../storage/repositories/interactions.ts";
import { analyseRecording, type EngineChannel } from "./analyseRecording.ts";

/** What the media stage needs to listen to recordings. */
export interface MediaAnalysisSettings {
  engines: Engines;
  decode: DecodeSettings;
}

/** What the recording gave: measures (or why not), an engine transcript, phrases heard. */
export interface MediaAnalysis {
  audioMeasures: AudioMeasures | AudioMeasuresFailure | null;
  /** Present when the recording could not be decoded: the error, for failing an audio-only call. */
  failure: AppError | null;
  transcript: Transcript | null;
  speech: SpeechAnalysis | null;
}

export interface MediaAnalysisRequest {
  options: AnalysisOptions;
  /** Transcribe (no transcript was supplied, and a profile will score the call). */
  transcribe: boolean;
  /** Phrases of the `phrase_spotted` KPIs to listen for. */
  phrases: string[];
}

/** The stored recording of an interaction (the first, when several were sent). */
export function recordingKey(media: InteractionMedia): string | null {
  return media.uploadedAudioKey ?? media.audio?.[0]?.key ?? null;
}

/**
 * Listens to an interaction's recording: one decoding pass for the audio measures (and the 16 kHz
 * channel copies engines read), then the chosen speech engine per channel, merged into turns by time,
 * and the phrase spotter for the profiles' phrases. A recording that cannot be decoded is reported
 * (not thrown) so a supplied transcript can still be scored; an engine that fails for good leaves the
 * call without a transcript and says why, while a passing failure (a 429, a timeout) is thrown so the
 * job is retried later.
 */
export async function analyseMedia(
  settings: MediaAnalysisSettings,
  blobs: BlobStore,
  interaction: InteractionRecord,
  media: InteractionMedia,
  request: MediaAnalysisRequest,
): Promise<MediaAnalysis> {
  const key = recordingKey(media);
  if (key === null) return { audioMeasures: null, failure: null, transcript: null, speech: null };
  const notes: string[] = [];
  if ((media.audio?.length ?? 0) > 1) {
    notes.push(`${media.audio!.length} recordings were sent; the first was measured and transcribed.`);
  }
  const language = interaction.language ?? request.options.language;
  const engine = request.transcribe ? chooseEngine(settings.engines, request.options, language, notes) : null;
  const spotter = request.phrases.length > 0 ? chooseSpotter(settings.engines, language, notes) : null;
  const dir = await mkdtemp(join(settings.decode.tempDir ?? tmpdir(), "cqa-audio-"));
  try {
    let recording: Awaited<ReturnType<typeof analyseRecording>>;
    try {
      const size = await blobs.size(key);
      recording = await analyseRecording(await blobs.getStream(key), size, {
        decode: settings.decode,
        channelMap: request.options.channelMap,
        ...(engine !== null || spotter !== null ? { engineInputDir: dir } : {}),
      });
    } catch (error) {
      if (mediaFailureOf(error) === null) throw error;
      const failure = error as AppError;
      return {
        audioMeasures: { error: failure.message, reason: mediaFailureOf(error)! },
        failure,
        transcript: null,
        speech: null,
      };
    }
    const { measures } = recording;
    const channels = recording.engineChannels ?? [];
    const music = measures.holds.filter((h) => h.kind === "music");
    const speech: SpeechAnalysis = {
      transcriber: engine?.label ?? null,
      spotter: spotter?.label ?? null,
      spotted: [],
      unspottable: spotter ? Object.fromEntries(spotter.unspottable(request.phrases)) : {},
      notes,
      error: null,
    };
    let transcript: Transcript | null = null;
    if (engine !== null) {
      try {
        transcript = await transcribe(engine, channels, language, music);
      } catch (error) {
        if (isAppError(error) && error.retryable) throw error;
        speech.error = `Transcription by ${engine.label} failed: ${describeError(error)}`;
        speech.transcriber = null;
      }
    }
    if (spotter !== null) {
      try {
        speech.spotted = await spot(spotter, channels, request.phrases, music);
      } catch (error) {
        const problem = `Phrase spotting by ${spotter.label} failed: ${describeError(error)}`;
        speech.error = speech.error ? `${speech.error}; ${problem}` : problem;
        speech.spotter = null;
      }
    }
    return { audioMeasures: measures, failure: null, transcript, speech };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function chooseEngine(
  engines: Engines,
  options: AnalysisOptions,
  language: string | null,
  notes: string[],
): SpeechEngine | null {
  if (options.transcriber === "none") {
    notes.push("Not transcribed: transcription is turned off for this account.");
    return null;
  }
  const engine =
    options.transcriber === "auto"
      ? engines.defaultSpeech
      : (engines.speech.get(options.transcriber) ?? null);
  if (engine === null) {
    notes.push(
      options.transcriber === "auto"
        ? "Not transcribed: no speech engine is available on this server (see cqa doctor)."
        : `Not transcribed: the account chose the ${options.transcriber} engine, which is not available on this server (see cqa doctor).`,
    );
    return null;
  }
  if (!speaks(engine.languages, language)) {
    notes.push(
      `Not transcribed: ${engine.label} handles ${engine.languages!.join(", ")} only, and this call is in '${language}'.`,
    );
    return null;
  }
  return engine;
}

function chooseSpotter(engines: Engines, language: string | null, notes: string[]): PhraseSpotter | null {
  const spotter = engines.spotter;
  if (spotter === null) {
    notes.push("Phrases were not listened for in the audio: no phrase spotter (PocketSphinx) is available.");
    return null;
  }
  if (!speaks(["en"], language)) {
    notes.push(
      `Phrases were not listened for in the audio: the offline spotter knows English only, and this call is in '${language}'.`,
    );
    return null;
  }
  return spotter;
}

function speaks(languages: readonly string[] | null, language: string | null): boolean {
  if (languages === null || language === null) return true;
  return languages.includes(language.slice(0, 2).toLowerCase());
}

async function transcribe(
  engine: SpeechEngine,
  channels: readonly EngineChannel[],
  language: string | null,
  music: readonly TimeSpan[],
): Promise<Transcript> {
  const parts = [];
  for (const channel of channels) {
    const segments = await engine.transcribe(
      { path: channel.path, seconds: channel.seconds, role: channel.role },
      { language },
    );
    parts.push({ role: channel.role, segments });
  }
  return mergeChannels(parts, engine, music);
}

async function spot(
  spotter: PhraseSpotter,
  channels: readonly EngineChannel[],
  phrases: readonly string[],
  music: readonly TimeSpan[],
): Promise<SpottedPhrase[]> {
  const found: SpottedPhrase[] = [];
  for (const channel of channels) {
    const hits = await spotter.spot(
      { path: channel.path, seconds: channel.seconds, role: channel.role },
      phrases,
    );
    const speaker = channel.role === "mixed" ? "unknown" : channel.role;
    for (const hit of hits) {
      // The spotter "hears" words in hold music; nothing said during music counts.
      if (music.some((m) => hit.start >= m.start - 0.25 && hit.end <= m.end + 0.25)) continue;
      found.push({ ...hit, speaker });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** Throws the decoding failure of an audio-only call (nothing else to analyse). */
export function assertAnalysable(result: MediaAnalysis, hasSuppliedTranscript: boolean): void {
  if (result.failure !== null && !hasSuppliedTranscript) {
    throw new AppError(
      result.failure.code,
      `The recording could not be analysed: ${result.failure.message}`,
      {
        cause: result.failure,
        retryable: false,
        details: result.failure.details,
      },
    );
  }
}
