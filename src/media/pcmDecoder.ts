import type { WavEncoding } from "./wavHeader.ts";

/** G.711 µ-law byte → linear sample in −1..1 (ITU-T G.711; the 14-bit range scaled by 32768). */
const mulawTable = new Float32Array(256);
/** G.711 A-law byte → linear sample in −1..1. */
const alawTable = new Float32Array(256);
for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  mulawTable[i] = (sign ? -magnitude : magnitude) / 32768;

  const a = i ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = segment === 0 ? t + 8 : segment === 1 ? t + 0x108 : (t + 0x108) << (segment - 1);
  alawTable[i] = (a & 0x80 ? t : -t) / 32768;
}

/**
 * Turns the sample bytes of a WAV file, chunk by chunk as they are read, into one Float32Array per
 * channel (−1..1). A sample frame split across two chunks is carried over to the next call.
 */
export class PcmDecoder {
  readonly #encoding: WavEncoding;
  readonly #channels: number;
  readonly #bytesPerSample: number;
  readonly #frameBytes: number;
  #carry: Buffer = Buffer.alloc(0);

  constructor(encoding: WavEncoding, channels: number) {
    this.#encoding = encoding;
    this.#channels = channels;
    this.#bytesPerSample = bytesPerSample(encoding);
    this.#frameBytes = this.#bytesPerSample * channels;
  }

  /** Decodes every whole frame of `chunk` (plus what was carried over). */
  decode(chunk: Buffer): Float32Array[] {
    const bytes = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const frames = Math.floor(bytes.length / this.#frameBytes);
    const used = frames * this.#frameBytes;
    this.#carry = used < bytes.length ? Buffer.from(bytes.subarray(used)) : Buffer.alloc(0);
    const out: Float32Array[] = [];
    for (let c = 0; c < this.#channels; c++) out.push(new Float32Array(frames));
    this.#fill(bytes, frames, out);
    return out;
  }

  /** Bytes of an incomplete last frame left over at the end of the file. */
  get leftoverBytes(): number {
    return this.#carry.length;
  }

  #fill(bytes: Buffer, frames: number, out: Float32Array[]): void {
    const channels = this.#channels;
    const step = this.#bytesPerSample;
    for (let c = 0; c < channels; c++) {
      const target = out[c]!;
      let at = c * step;
      const stride = this.#frameBytes;
      switch (this.#encoding) {
        case "pcm_u8":
          for (let i = 0; i < frames; i++, at += stride) target[i] = (bytes[at]! - 128) / 128;
          break;
        case "pcm_s16":
          for (let i = 0; i < frames; i++, at += stride) target[i] = bytes.readInt16LE(at) / 32768;
          break;
        case "pcm_s24":
          for (let i = 0; i < frames; i++, at += stride) target[i] = bytes.readIntLE(at, 3) / 8388608;
          break;
        case "pcm_s32":
          for (let i = 0; i < frames; i++, at += stride) target[i] = bytes.readInt32LE(at) / 2147483648;
          break;
        case "float32":
          for (let i = 0; i < frames; i++, at += stride) target[i] = clampFloat(bytes.readFloatLE(at));
          break;
        case "float64":
          for (let i = 0; i < frames; i++, at += stride) target[i] = clampFloat(bytes.readDoubleLE(at));
          break;
        case "mulaw":
          for (let i = 0; i < frames; i++, at += stride) target[i] = mulawTable[bytes[at]!]!;
          break;
        case "alaw":
          for (let i = 0; i < frames; i++, at += stride) target[i] = alawTable[bytes[at]!]!;
          break;
      }
    }
  }
}

/** Float samples outside −1..1 (or NaN from a damaged file) are clipped, never propagated. */
function clampFloat(value: number): number {
  if (Number.isNaN(value)) return 0;
  if (value < -1) return -1;
  return Math.min(value, 1);
}

export function bytesPerSample(encoding: WavEncoding): number {
  switch (encoding) {
    case "pcm_u8":
    case "mulaw":
    case "alaw":
      return 1;
    case "pcm_s16":
      return 2;
    case "pcm_s24":
      return 3;
    case "pcm_s32":
    case "float32":
      return 4;
    case "float64":
      return 8;
  }
}

/** Linear sample (−1..1) → G.711 µ-law byte: for writing test fixtures like real telephony. */
export function encodeMulaw(sample: number): number {
  const bias = 0x84;
  let value = Math.round(Math.max(-1, Math.min(1, sample)) * 32767);
  const sign = value < 0 ? 0x80 : 0;
  if (value < 0) value = -value;
  value = Math.min(value, 32635) + bias;
  let exponent = 7;
  for (let mask = 0x4000; (value & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (value >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const alawSegmentEnds = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

/** Linear sample (−1..1) → G.711 A-law byte (the ITU-T reference algorithm). */
export function encodeAlaw(sample: number): number {
  let value = Math.round(Math.max(-1, Math.min(1, sample)) * 32767) >> 3;
  let mask = 0xd5;
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  const segment = alawSegmentEnds.findIndex((end) => value <= end);
  if (segment < 0) return 0x7f ^ mask;
  const quant = segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f;
  return ((segment << 4) | quant) ^ mask;
}
