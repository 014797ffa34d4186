import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { AudioFormat } from "../core/audio.ts";
import { decodeWithFfmpeg } from "./ffmpeg.ts";
import { formatDuration, mediaError } from "./mediaError.ts";
import { PcmDecoder } from "./pcmDecoder.ts";
import { sniffFormat } from "./sniffFormat.ts";
import { codecOf, type ForeignWav, parseWavHeader, type WavHeader } from "./wavHeader.ts";

/** How a recording may be decoded, and the bounds that keep a bad file from hurting the worker. */
export interface DecodeSettings {
  /** ffmpeg to run for formats other than WAV; null when it is not installed. */
  ffmpegPath: string | null;
  /** Why ffmpeg is unavailable (for the error message), when ffmpegPath is null. */
  ffmpegMissingReason?: string;
  /** Longest recording analysed; longer ones fail with their own reason. */
  maxSeconds: number;
  /** Wall time allowed for ffmpeg, per recording. */
  ffmpegTimeoutMs: number;
  /** Where ffmpeg's input is staged (a recording is copied there for the decode, then removed). */
  tempDir?: string;
}

/** What was decoded. */
export interface DecodedAudio {
  format: AudioFormat;
  /** Sample frames delivered to the sink. */
  frames: number;
  durationSeconds: number;
}

/** Receives the recording's layout first, then its samples in order. */
export interface SampleSink {
  /** Called once, before any sample. */
  start(format: AudioFormat): void;
  /** One Float32Array per channel (−1..1), all the same length. */
  write(channels: Float32Array[]): void;
}

/** Header bytes read before deciding what the file is. */
const headBytes = 64 * 1024;

/**
 * Decodes a recording chunk by chunk into `sink`, never holding the whole file in memory. WAV (PCM
 * 8/16/24/32-bit, float, µ-law, A-law, any rate and channel count) is decoded in-process; other
 * formats go through ffmpeg when it is installed. Each way a file can be bad — empty, truncated,
 * damaged, not audio, too long, undecodable — fails with its own message (see `mediaError`).
 */
export async function decodeAudio(
  source: Readable,
  sizeBytes: number | null,
  settings: DecodeSettings,
  sink: SampleSink,
): Promise<DecodedAudio> {
  if (sizeBytes === 0) throw mediaError("empty", "The recording is empty (0 bytes)");
  const reader = new ChunkReader(source);
  try {
    const head = await reader.readAtLeast(headBytes);
    if (head.length === 0) throw mediaError("empty", "The recording is empty (0 bytes)");
    const sniffed = sniffFormat(head);
    if (sniffed.kind === "not-audio") {
      throw mediaError(
        "not_audio",
        `The recording is not audio: it looks like ${sniffed.looksLike}. Check the audio_url`,
      );
    }
    if (sniffed.kind === "wav") {
      const header = parseWavHeader(head, sizeBytes, settings.maxSeconds);
      if (!("formatTag" in header)) {
        return await decodeWav(header, head, reader, sniffed.container, "in-process", settings, sink);
      }
      return await viaFfmpeg(`WAV (${(header as ForeignWav).codecName})`, head, reader, settings, sink);
    }
    if (sniffed.kind === "audio")
      return await viaFfmpeg(sniffed.container.toUpperCase(), head, reader, settings, sink);
    if (settings.ffmpegPath === null) {
      throw mediaError(
        "unsupported",
        `The recording's format was not recognised (it starts with bytes ${hexStart(head)}); it is not WAV, and ffmpeg, which could try other formats, is not available`,
      );
    }
    return await viaFfmpeg("unrecognised-format", head, reader, settings, sink, true);
  } finally {
    reader.destroy();
  }
}

async function decodeWav(
  header: WavHeader,
  head: Buffer,
  reader: ChunkReader,
  container: string,
  decoder: AudioFormat["decoder"],
  settings: DecodeSettings,
  sink: SampleSink,
): Promise<DecodedAudio> {
  const format: AudioFormat = {
    container,
    codec: codecOf(header.encoding),
    sampleRate: header.sampleRate,
    channels: header.channels,
    bitsPerSample: header.bitsPerSample,
    decoder,
  };
  sink.start(format);
  const pcm = new PcmDecoder(header.encoding, header.channels);
  const maxFrames = Math.ceil(settings.maxSeconds * header.sampleRate);
  let remaining = header.dataBytes ?? Number.POSITIVE_INFINITY;
  let frames = 0;
  const feed = (bytes: Buffer) => {
    const take = bytes.length > remaining ? bytes.subarray(0, remaining) : bytes;
    remaining -= take.length;
    const channels = pcm.decode(take);
    const count = channels[0]?.length ?? 0;
    if (count === 0) return;
    frames += count;
    if (frames > maxFrames) {
      throw mediaError(
        "too_long",
        `The recording is longer than the ${formatDuration(settings.maxSeconds)} cqa analyses per recording (CQA_MAX_AUDIO_SECONDS); split it into shorter files`,
      );
    }
    sink.write(channels);
  };
  if (head.length > header.dataOffset) feed(head.subarray(header.dataOffset));
  while (remaining > 0) {
    const chunk = await reader.next();
    if (chunk === null) break;
    feed(chunk);
  }
  if (frames === 0) {
    throw mediaError("empty", "The recording holds no audio: its WAV header is followed by 0 samples");
  }
  return { format, frames, durationSeconds: frames / header.sampleRate };
}

async function viaFfmpeg(
  container: string,
  head: Buffer,
  reader: ChunkReader,
  settings: DecodeSettings,
  sink: SampleSink,
  guessing = false,
): Promise<DecodedAudio> {
  if (settings.ffmpegPath === null) {
    throw mediaError(
      "decoder_missing",
      `The recording is ${container}; cqa decodes WAV itself and needs ffmpeg for ${container}, which is not available` +
        (settings.ffmpegMissingReason
          ? ` (${settings.ffmpegMissingReason})`
          : ": install ffmpeg (apt-get install ffmpeg) or set CQA_FFMPEG_PATH"),
    );
  }
  // ffmpeg reads a file rather than a pipe: MP4/M4A keep their index at the end and need to seek.
  const dir = await mkdtemp(join(settings.tempDir ?? tmpdir(), "cqa-decode-"));
  const inputPath = join(dir, "input");
  try {
    await pipeline(reader.remainingWith(head), createWriteStream(inputPath));
    const ffmpeg = decodeWithFfmpeg(settings.ffmpegPath, inputPath, container, {
      maxSeconds: settings.maxSeconds,
      timeoutMs: settings.ffmpegTimeoutMs,
    });
    // A decode failure surfaces through `finished`; keep it from being reported as unhandled meanwhile.
    ffmpeg.finished.catch(() => {});
    const output = new ChunkReader(ffmpeg.output);
    try {
      const wavHead = await output.readAtLeast(4096);
      let decoded: DecodedAudio;
      try {
        if (wavHead.length === 0) throw new Error("ffmpeg produced no output");
        const header = parseWavHeader(wavHead, null, settings.maxSeconds);
        if ("formatTag" in header) throw new Error("ffmpeg produced an unexpected WAV encoding");
        decoded = await decodeWav(header, wavHead, output, container.toLowerCase(), "ffmpeg", settings, sink);
      } catch (error) {
        // ffmpeg's own reason (corrupt input, timeout) says more than the empty output it left.
        await ffmpeg.finished.catch((ffmpegError: unknown) => {
          throw guessing ? unrecognised(head, ffmpegError) : cleanPath(ffmpegError, inputPath);
        });
        throw error;
      }
      await ffmpeg.finished.catch((error: unknown) => {
        throw guessing ? unrecognised(head, error) : cleanPath(error, inputPath);
      });
      if (guessing) decoded.format.container = "unknown (read by ffmpeg)";
      return decoded;
    } finally {
      output.destroy();
      ffmpeg.kill();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function unrecognised(head: Buffer, cause: unknown): Error {
  return mediaError(
    "unsupported",
    `The recording's format was not recognised (it starts with bytes ${hexStart(head)}) and ffmpeg could not read it either. Send WAV, MP3, OGG, FLAC, M4A or AMR`,
    cause,
  );
}

function cleanPath(error: unknown, path: string): unknown {
  if (error instanceof Error) error.message = error.message.replaceAll(path, "the recording");
  return error;
}

function hexStart(head: Buffer): string {
  return [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Pulls chunks from a stream on demand, so a header can be read before deciding how to go on. */
class ChunkReader {
  readonly #iterator: AsyncIterator<Buffer>;
  readonly #stream: Readable;
  #pending: Buffer[] = [];

  constructor(stream: Readable) {
    this.#stream = stream;
    this.#iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async next(): Promise<Buffer | null> {
    const pending = this.#pending.shift();
    if (pending) return pending;
    const { value, done } = await this.#iterator.next();
    return done ? null : Buffer.isBuffer(value) ? value : Buffer.from(value);
  }

  /** At least `bytes` (fewer only when the stream ends first). */
  async readAtLeast(bytes: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let total = 0;
    while (total < bytes) {
      const chunk = await this.next();
      if (chunk === null) break;
      parts.push(chunk);
      total += chunk.length;
    }
    return Buffer.concat(parts);
  }

  /** `head` followed by the rest of the stream. */
  async *remainingWith(head: Buffer): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const chunk = await this.next();
      if (chunk === null) return;
      yield chunk;
    }
  }

  destroy(): void {
    this.#stream.destroy();
  }
}
