import { open } from "node:fs/promises";
import { AppError } from "../core/errors.ts";
import { wavHeader16 } from "../media/wavWriter.ts";
import { type HttpEngineSettings, postToEngine, RequestGate, realWaiter, type Waiter } from "./httpEngine.ts";
import type { EngineInput, RecognisedSegment, SpeechEngine, TranscribeOptions } from "./speechEngine.ts";

/** Audio sent per request: 10 minutes of 16 kHz mono 16-bit is 19 MB, under the common 25 MB cap. */
const chunkSeconds = 600;
const bytesPerSecond = 16_000 * 2;

/** One segment of the published `verbose_json` answer. */
interface VerboseSegment {
  start?: unknown;
  end?: unknown;
  text?: unknown;
  avg_logprob?: unknown;
  no_speech_prob?: unknown;
}

/**
 * Any server that speaks OpenAI's `POST /v1/audio/transcriptions` (OpenAI, whisper.cpp's server,
 * faster-whisper servers, hosted providers): each channel is sent as 16 kHz WAV (in 10-minute
 * pieces for long calls) with `response_format=verbose_json` and segment timestamps, and the
 * language hint when the interaction has one.
 */
export class OpenAiTranscriber implements SpeechEngine {
  readonly kind = "openai";
  readonly label: string;
  readonly languages = null;
  readonly accuracyNote = "Timestamps are per segment, as the server returned them.";
  readonly #settings: HttpEngineSettings;
  readonly #gate: RequestGate;
  readonly #waiter: Waiter;

  constructor(settings: HttpEngineSettings, waiter: Waiter = realWaiter) {
    this.#settings = settings;
    this.#waiter = waiter;
    this.#gate = new RequestGate(settings.requestsPerMinute, waiter);
    this.label = `${settings.model} at ${new URL(settings.baseUrl).host} (OpenAI-compatible)`;
  }

  async transcribe(input: EngineInput, options: TranscribeOptions): Promise<RecognisedSegment[]> {
    const file = await open(input.path, "r");
    try {
      const dataBytes = (await file.stat()).size - 44;
      const segments: RecognisedSegment[] = [];
      for (let offset = 0; offset < dataBytes; offset += chunkSeconds * bytesPerSecond) {
        const length = Math.min(chunkSeconds * bytesPerSecond, dataBytes - offset);
        const samples = Buffer.alloc(length);
        await file.read(samples, 0, length, 44 + offset);
        const wav = Buffer.concat([wavHeader16(16_000, 1, length), samples]);
        const startSeconds = offset / bytesPerSecond;
        const piece = await this.#transcribePiece(
          wav,
          options,
          `${input.role} channel from ${Math.round(startSeconds)} s`,
        );
        segments.push(
          ...piece.map((s) => ({ ...s, start: s.start + startSeconds, end: s.end + startSeconds })),
        );
      }
      return segments;
    } finally {
      await file.close();
    }
  }

  async #transcribePiece(
    wav: Buffer,
    options: TranscribeOptions,
    what: string,
  ): Promise<RecognisedSegment[]> {
    const response = await postToEngine(
      this.#settings,
      "/audio/transcriptions",
      () => {
        const form = new FormData();
        form.append("file", new Blob([new Uint8Array(wav)], { type: "audio/wav" }), "audio.wav");
        form.append("model", this.#settings.model);
        form.append("response_format", "verbose_json");
        form.append("timestamp_granularities[]", "segment");
        form.append("temperature", "0");
        if (options.language) form.append("language", options.language.slice(0, 2).toLowerCase());
        return { payload: form };
      },
      { what: `Transcription (${what}) by ${this.label}`, gate: this.#gate, waiter: this.#waiter },
    );
    return readTranscription(response.body, (wav.length - 44) / bytesPerSecond, this.label);
  }
}

/** The segments of a `verbose_json` (or plain `json`) transcription answer. */
export function readTranscription(body: unknown, seconds: number, label: string): RecognisedSegment[] {
  if (typeof body !== "object" || body === null) {
    throw new AppError(
      "ENGINE_FAILED",
      `${label} answered something other than JSON: ${String(body).slice(0, 200)}`,
    );
  }
  const answer = body as { segments?: unknown; text?: unknown };
  if (Array.isArray(answer.segments)) {
    return (answer.segments as VerboseSegment[]).flatMap((segment) => {
      const start = Number(segment.start);
      const end = Number(segment.end);
      const text = typeof segment.text === "string" ? segment.text.trim() : "";
      if (!Number.isFinite(start) || !Number.isFinite(end) || text === "") return [];
      // Whisper marks stretches it believes hold no speech; their "text" is usually invented.
      if (typeof segment.no_speech_prob === "number" && segment.no_speech_prob > 0.8) return [];
      const confidence =
        typeof segment.avg_logprob === "number"
          ? Math.round(Math.exp(segment.avg_logprob) * 100) / 100
          : null;
      return [{ start, end: Math.max(start, end), text, confidence }];
    });
  }
  if (typeof answer.text === "string") {
    // A server without segment timestamps: one untimed piece spanning the audio.
    return answer.text.trim() === ""
      ? []
      : [{ start: 0, end: seconds, text: answer.text.trim(), confidence: null }];
  }
  throw new AppError("ENGINE_FAILED", `${label} answered JSON without "segments" or "text"`);
}
