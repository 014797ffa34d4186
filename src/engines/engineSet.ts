import { describeError } from "../core/errors.ts";
import { probeFfmpeg, type ToolStatus } from "../media/ffmpeg.ts";
import { ChatClient } from "./chatClient.ts";
import type { HttpEngineSettings } from "./httpEngine.ts";
import { OpenAiTranscriber } from "./openAiTranscriber.ts";
import { PocketSphinxEngine, type PocketSphinxSettings, probePocketSphinx } from "./pocketsphinx.ts";
import type { PhraseSpotter, SpeechEngine } from "./speechEngine.ts";

/** The engine kinds an account can choose for transcription. */
export const transcriberKinds = ["auto", "none", "pocketsphinx", "openai"] as const;
export type TranscriberChoice = (typeof transcriberKinds)[number];

/** The operator's engine settings (from the configuration). */
export interface EngineSettings {
  /** The process-wide default; accounts and integrations may choose another available one. */
  transcriber: TranscriberChoice;
  ffmpegPath: string;
  pocketsphinx: PocketSphinxSettings;
  /** An OpenAI-compatible /v1/audio/transcriptions server, when configured. */
  openai: HttpEngineSettings | null;
  /** An OpenAI-compatible /v1/chat/completions server for LLM KPIs, when configured. */
  llm: HttpEngineSettings | null;
}

/** One line of `cqa doctor` and of the readiness page. */
export interface EngineStatus {
  name: string;
  available: boolean;
  /** What it is, or why it cannot be used and what to do. */
  detail: string;
  /** Needed for the basics (false: an optional extra). */
  essential: boolean;
}

/** What this process can use to analyse recordings. */
export interface Engines {
  statuses: EngineStatus[];
  ffmpeg: ToolStatus;
  speech: Map<string, SpeechEngine>;
  /** The engine used when an account says "auto" (or names nothing): the configured default if available. */
  defaultSpeech: SpeechEngine | null;
  spotter: PhraseSpotter | null;
  chat: ChatClient | null;
}

/** No engines at all: audio measures still work for WAV (in-process). */
export function noEngines(): Engines {
  return {
    statuses: [],
    ffmpeg: { available: false, path: "ffmpeg", reason: "not probed" },
    speech: new Map(),
    defaultSpeech: null,
    spotter: null,
    chat: null,
  };
}

/**
 * Finds out, once at start, which engines this machine has: ffmpeg (formats other than WAV),
 * PocketSphinx (offline transcription and phrase spotting), and the OpenAI-compatible servers the
 * operator configured. Says for each why it is not available and how to fix it.
 */
export async function detectEngines(settings: EngineSettings): Promise<Engines> {
  const statuses: EngineStatus[] = [
    { name: "audio measures", available: true, detail: "built in (WAV decoded in-process)", essential: true },
  ];
  const ffmpeg = probeFfmpeg(settings.ffmpegPath);
  statuses.push({
    name: "ffmpeg",
    available: ffmpeg.available,
    detail: ffmpeg.available
      ? `${ffmpeg.version}: MP3, OGG, FLAC, M4A, AMR and other formats are decoded`
      : `${ffmpeg.reason}. Without it only WAV recordings can be analysed`,
    essential: false,
  });

  const speech = new Map<string, SpeechEngine>();
  let spotter: PhraseSpotter | null = null;
  const sphinx = await probePocketSphinx(settings.pocketsphinx);
  if (sphinx.available) {
    const engine = new PocketSphinxEngine(settings.pocketsphinx);
    speech.set("pocketsphinx", engine);
    spotter = engine;
  }
  statuses.push({
    name: "pocketsphinx",
    available: sphinx.available,
    detail: sphinx.available
      ? `${sphinx.detail}: offline English transcription (rough) and phrase spotting`
      : `${sphinx.reason}. Without it audio-only calls get audio measures but no transcript unless an OpenAI-compatible server is configured`,
    essential: false,
  });

  if (settings.openai) {
    speech.set("openai", new OpenAiTranscriber(settings.openai));
    statuses.push({
      name: "openai transcription",
      available: true,
      detail: `model ${settings.openai.model} at ${settings.openai.baseUrl} (configured; run 'cqa doctor' to check it answers)`,
      essential: false,
    });
  } else {
    statuses.push({
      name: "openai transcription",
      available: false,
      detail:
        "not configured: set CQA_TRANSCRIBE_URL (and CQA_TRANSCRIBE_API_KEY, CQA_TRANSCRIBE_MODEL) to use a Whisper-class server",
      essential: false,
    });
  }
  const chat = settings.llm ? new ChatClient(settings.llm) : null;
  statuses.push(
    settings.llm
      ? {
          name: "llm",
          available: true,
          detail: `model ${settings.llm.model} at ${settings.llm.baseUrl} (configured)`,
          essential: false,
        }
      : {
          name: "llm",
          available: false,
          detail:
            "not configured: set CQA_LLM_URL (and CQA_LLM_API_KEY, CQA_LLM_MODEL) to answer `llm` KPIs; until then they are N/A",
          essential: false,
        },
  );

  const defaultSpeech = pickDefault(settings.transcriber, speech);
  if (
    settings.transcriber !== "auto" &&
    settings.transcriber !== "none" &&
    !speech.has(settings.transcriber)
  ) {
    statuses.push({
      name: "transcriber",
      available: false,
      detail: `CQA_TRANSCRIBER=${settings.transcriber} but that engine is not available (see above); audio-only calls are not transcribed`,
      essential: false,
    });
  } else {
    statuses.push({
      name: "transcriber",
      available: defaultSpeech !== null,
      detail: defaultSpeech
        ? `default for audio-only calls: ${defaultSpeech.label}`
        : "none: audio-only calls get audio measures only",
      essential: false,
    });
  }
  return { statuses, ffmpeg, speech, defaultSpeech, spotter, chat };
}

/** "auto" prefers a configured server (better accuracy) over the offline engine. */
function pickDefault(choice: TranscriberChoice, speech: Map<string, SpeechEngine>): SpeechEngine | null {
  if (choice === "none") return null;
  if (choice === "auto") return speech.get("openai") ?? speech.get("pocketsphinx") ?? null;
  return speech.get(choice) ?? null;
}

/** Live check of a configured server: does `GET <base>/models` answer at all (any HTTP status)? */
export async function checkServer(settings: HttpEngineSettings): Promise<string> {
  const url = `${settings.baseUrl.replace(/\/+$/, "")}/models`;
  try {
    const response = await fetch(url, {
      headers: settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
    await response.body?.cancel();
    if (response.status === 401 || response.status === 403)
      return `answers, but refused the API key (${response.status})`;
    return `answers (GET /models: ${response.status})`;
  } catch (error) {
    return `does not answer: ${describeError(error)}`;
  }
}
