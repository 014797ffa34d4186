import type { AnalysisEngineConfig, OpenAiServerConfig } from "../config/config.ts";
import { detectEngines, type EngineSettings, type Engines } from "../engines/engineSet.ts";
import type { HttpEngineSettings } from "../engines/httpEngine.ts";
import type { DecodeSettings } from "../media/decodeAudio.ts";

function server(config: OpenAiServerConfig | null): HttpEngineSettings | null {
  return config === null ? null : { ...config, maxAttempts: 3 };
}

/** The engine settings of the configuration, as the engines module takes them. */
export function engineSettingsFrom(config: AnalysisEngineConfig): EngineSettings {
  return {
    transcriber: config.transcriber,
    ffmpegPath: config.ffmpegPath,
    pocketsphinx: { binary: config.pocketsphinxBinary, modelDir: config.pocketsphinxModelDir },
    openai: server(config.transcription),
    llm: server(config.llm),
  };
}

const detected = new Map<string, Promise<Engines>>();

/** Detects the engines once per process and settings (probing runs ffmpeg and PocketSphinx). */
export function startEngines(config: AnalysisEngineConfig): Promise<Engines> {
  const settings = engineSettingsFrom(config);
  const key = JSON.stringify(settings);
  let engines = detected.get(key);
  if (!engines) {
    engines = detectEngines(settings);
    detected.set(key, engines);
  }
  return engines;
}

/** How recordings are decoded: ffmpeg when it was found, the duration limit, a timeout that scales with it. */
export function decodeSettingsFrom(config: AnalysisEngineConfig, engines: Engines): DecodeSettings {
  return {
    ffmpegPath: engines.ffmpeg.available ? engines.ffmpeg.path : null,
    ...(engines.ffmpeg.available ? {} : { ffmpegMissingReason: engines.ffmpeg.reason }),
    maxSeconds: config.maxAudioSeconds,
    // ffmpeg decodes audio at hundreds of times real time; this only stops a stuck one.
    ffmpegTimeoutMs: 60_000 + config.maxAudioSeconds * 50,
  };
}

/** The engines as readiness checks: informative, never making the process "not ready". */
export function engineChecks(engines: Engines): Record<string, { ok: boolean; detail: string }> {
  return Object.fromEntries(
    engines.statuses.map((status) => [
      `engine:${status.name}`,
      {
        ok: status.available || !status.essential,
        detail: `${status.available ? "available" : "unavailable"}: ${status.detail}`,
      },
    ]),
  );
}
