import { closeSync, openSync, writeSync } from "node:fs";

/** The 44-byte header of a 16-bit PCM WAV. */
export function wavHeader16(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  header.write("WAVE", 8, "latin1");
  header.write("fmt ", 12, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return header;
}

/** Float samples (−1..1) → 16-bit little-endian PCM bytes, interleaving the channels given. */
export function toPcm16(channels: readonly Float32Array[]): Buffer {
  const frames = channels[0]?.length ?? 0;
  const count = channels.length;
  const out = Buffer.alloc(frames * count * 2);
  for (let c = 0; c < count; c++) {
    const samples = channels[c]!;
    for (let i = 0; i < frames; i++) {
      const v = samples[i]!;
      out.writeInt16LE(v >= 1 ? 32767 : v <= -1 ? -32768 : Math.round(v * 32767), (i * count + c) * 2);
    }
  }
  return out;
}

/**
 * Writes a 16-bit PCM WAV file sample chunk by sample chunk (the header is completed on close), so
 * an engine can read a channel without cqa holding the whole recording in memory.
 */
export class WavFileWriter {
  readonly path: string;
  readonly #fd: number;
  readonly #sampleRate: number;
  readonly #channels: number;
  #dataBytes = 0;
  #closed = false;

  constructor(path: string, sampleRate: number, channels = 1) {
    this.path = path;
    this.#sampleRate = sampleRate;
    this.#channels = channels;
    this.#fd = openSync(path, "w");
    writeSync(this.#fd, wavHeader16(sampleRate, channels, 0));
  }

  write(channels: readonly Float32Array[]): void {
    const bytes = toPcm16(channels);
    writeSync(this.#fd, bytes);
    this.#dataBytes += bytes.length;
  }

  get seconds(): number {
    return this.#dataBytes / (2 * this.#channels * this.#sampleRate);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    writeSync(this.#fd, wavHeader16(this.#sampleRate, this.#channels, this.#dataBytes), 0, 44, 0);
    closeSync(this.#fd);
  }
}
