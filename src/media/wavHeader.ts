import { formatBytes, formatDuration, mediaError } from "./mediaError.ts";

/** The sample encodings cqa decodes in-process. */
export type WavEncoding =
  | "pcm_u8"
  | "pcm_s16"
  | "pcm_s24"
  | "pcm_s32"
  | "float32"
  | "float64"
  | "mulaw"
  | "alaw";

/** What the header of a WAV file says. */
export interface WavHeader {
  encoding: WavEncoding;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Bytes of one sample frame (all channels). */
  blockAlign: number;
  /** Where the samples start. */
  dataOffset: number;
  /** Bytes of samples the header declares; null when the writer did not know (streamed: 0xFFFFFFFF). */
  dataBytes: number | null;
}

/** A WAV whose codec cqa does not decode itself (ADPCM, GSM…): ffmpeg can, when installed. */
export interface ForeignWav {
  formatTag: number;
  codecName: string;
}

const formatNames: Record<number, string> = {
  2: "Microsoft ADPCM",
  17: "IMA ADPCM",
  49: "GSM 6.10",
  64: "G.721 ADPCM",
  85: "MP3",
  100: "G.726 ADPCM",
  353: "WMA",
};

const unknownSize = 0xffffffff;

/**
 * Reads a RIFF/WAVE (or RF64) header from the first bytes of a file. Throws a media error saying
 * what is wrong when the header is damaged; answers `ForeignWav` for a valid WAV whose codec has to
 * go through ffmpeg. `head` must hold the header up to the start of the samples (64 KB is plenty for
 * real files; bigger metadata chunks before the samples are reported as corrupt).
 */
export function parseWavHeader(
  head: Buffer,
  fileBytes: number | null,
  maxSeconds: number,
): WavHeader | ForeignWav {
  if (head.length < 12) throw mediaError("truncated", "The WAV file ends inside its 12-byte RIFF header");
  const rf64 = head.toString("latin1", 0, 4) !== "RIFF";
  let offset = 12;
  let fmt: Omit<WavHeader, "dataOffset" | "dataBytes"> | ForeignWav | null = null;
  let ds64DataBytes: number | null = null;
  while (offset + 8 <= head.length) {
    const id = head.toString("latin1", offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === "data") {
      if (fmt === null) {
        throw mediaError(
          "corrupt",
          "The WAV file is damaged: its samples come before the 'fmt ' chunk that describes them",
        );
      }
      if ("formatTag" in fmt) return fmt;
      let dataBytes: number | null = rf64 ? ds64DataBytes : size === unknownSize || size === 0 ? null : size;
      const declaredSeconds = dataBytes === null ? 0 : dataBytes / (fmt.blockAlign * fmt.sampleRate);
      if (declaredSeconds > maxSeconds) {
        throw mediaError(
          "too_long",
          `The WAV header declares ${formatBytes(dataBytes!)} of audio, ${formatDuration(declaredSeconds)} at ${fmt.sampleRate} Hz ` +
            `and ${fmt.channels} channel(s): longer than the ${formatDuration(maxSeconds)} cqa analyses per recording ` +
            "(CQA_MAX_AUDIO_SECONDS). Split the recording, or check the header: a damaged one often claims gigabytes",
        );
      }
      if (dataBytes !== null && fileBytes !== null && body + dataBytes > fileBytes) {
        const missing = body + dataBytes - fileBytes;
        throw mediaError(
          "truncated",
          `The WAV file is truncated: its header declares ${formatBytes(dataBytes)} of audio ` +
            `(${formatDuration(dataBytes / (fmt.blockAlign * fmt.sampleRate))} at ${fmt.sampleRate} Hz, ${fmt.channels} channel(s)) ` +
            `but the file ends ${formatBytes(missing)} short of that. The upload or export was cut off; send the complete file`,
        );
      }
      if (dataBytes !== null) dataBytes -= dataBytes % fmt.blockAlign;
      return { ...fmt, dataOffset: body, dataBytes };
    }
    if (body + size > head.length && id !== "data") {
      if (fileBytes !== null && body + size > fileBytes) {
        throw mediaError(
          "truncated",
          `The WAV file is truncated inside its '${id.trim()}' chunk, before any audio`,
        );
      }
      throw mediaError(
        "corrupt",
        `The WAV file has a '${id.replace(/[^\x20-\x7e]/g, "?").trim()}' chunk of ${formatBytes(size)} before its audio; cqa reads at most ${formatBytes(head.length)} of header. Re-export the file without the extra metadata`,
      );
    }
    if (id === "fmt ") fmt = parseFmt(head.subarray(body, body + size));
    if (id === "ds64" && size >= 16) ds64DataBytes = Number(head.readBigUInt64LE(body + 8));
    offset = body + size + (size % 2);
  }
  if (fileBytes !== null && offset + 8 > fileBytes) {
    throw mediaError(
      "truncated",
      "The WAV file is truncated: it ends before its 'data' chunk, so it holds no audio",
    );
  }
  throw mediaError(
    "corrupt",
    "The WAV file is damaged: no 'data' chunk was found where the header says it should be",
  );
}

function parseFmt(chunk: Buffer): Omit<WavHeader, "dataOffset" | "dataBytes"> | ForeignWav {
  if (chunk.length < 16)
    throw mediaError("corrupt", "The WAV file is damaged: its 'fmt ' chunk is too short");
  let formatTag = chunk.readUInt16LE(0);
  const channels = chunk.readUInt16LE(2);
  const sampleRate = chunk.readUInt32LE(4);
  const blockAlign = chunk.readUInt16LE(12);
  const bitsPerSample = chunk.readUInt16LE(14);
  if (formatTag === 0xfffe && chunk.length >= 40) formatTag = chunk.readUInt16LE(24); // WAVE_FORMAT_EXTENSIBLE
  if (channels === 0 || channels > 32) {
    throw mediaError("corrupt", `The WAV file is damaged: its header says it has ${channels} channels`);
  }
  if (sampleRate < 1000 || sampleRate > 384_000) {
    throw mediaError(
      "corrupt",
      `The WAV file is damaged: its header gives a sample rate of ${sampleRate} Hz`,
    );
  }
  const encoding = encodingOf(formatTag, bitsPerSample);
  if (encoding === null) {
    return {
      formatTag,
      codecName:
        formatNames[formatTag] ?? `format 0x${formatTag.toString(16).padStart(4, "0")}, ${bitsPerSample}-bit`,
    };
  }
  const bytes = Math.ceil(bitsPerSample / 8);
  if (blockAlign !== bytes * channels) {
    throw mediaError(
      "corrupt",
      `The WAV file is damaged: ${channels} channel(s) of ${bitsPerSample}-bit samples need ${bytes * channels} bytes per frame, the header says ${blockAlign}`,
    );
  }
  return { encoding, sampleRate, channels, bitsPerSample, blockAlign };
}

function encodingOf(formatTag: number, bits: number): WavEncoding | null {
  if (formatTag === 1) {
    if (bits === 8) return "pcm_u8";
    if (bits === 16) return "pcm_s16";
    if (bits === 24) return "pcm_s24";
    if (bits === 32) return "pcm_s32";
  }
  if (formatTag === 3) {
    if (bits === 32) return "float32";
    if (bits === 64) return "float64";
  }
  if (formatTag === 7 && bits === 8) return "mulaw";
  if (formatTag === 6 && bits === 8) return "alaw";
  return null;
}

/** The codec name shown in the interaction's audio format. */
export function codecOf(encoding: WavEncoding): string {
  return encoding === "pcm_u8" ? "pcm_u8" : encoding.startsWith("pcm_") ? `${encoding}le` : encoding;
}
