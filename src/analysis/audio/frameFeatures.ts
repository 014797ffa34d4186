/** The rate the audio measures work at: every recording is resampled to it (speech lives below 4 kHz). */
export const featureSampleRate = 8000;
/** 20 ms between frames: the time resolution of every audio measure. */
export const frameHopSeconds = 0.02;
const hop = featureSampleRate * frameHopSeconds;
/** 32 ms analysis window (256 samples at 8 kHz), Hann-weighted. */
const size = 256;
/** Speech band: below it mains hum and DC, above it the telephone band ends. */
const lowBin = Math.ceil((250 * size) / featureSampleRate);
const highBin = Math.floor((3500 * size) / featureSampleRate);

const window = new Float32Array(size);
for (let i = 0; i < size; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
// A full-scale sine in the band reads about 0 dB.
const windowPower = window.reduce((sum, w) => sum + w * w, 0);

const bits = Math.log2(size);
const reversed = new Uint16Array(size);
for (let i = 0; i < size; i++) {
  let r = 0;
  for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
  reversed[i] = r;
}
const cosTable = new Float32Array(size / 2);
const sinTable = new Float32Array(size / 2);
for (let i = 0; i < size / 2; i++) {
  cosTable[i] = Math.cos((2 * Math.PI * i) / size);
  sinTable[i] = -Math.sin((2 * Math.PI * i) / size);
}

/** Per-frame features of one channel, 20 ms apart. */
export interface ChannelFeatures {
  /** Speech-band energy in dB relative to full scale. */
  energyDb: Float32Array;
  /** Spectral flatness of the speech band, 0 (tonal, voiced) … 1 (white noise). */
  flatness: Float32Array;
  frames: number;
}

/**
 * Streams one channel of 8 kHz samples into frame features: speech-band energy (hum, DC and hiss
 * outside 250–3500 Hz do not count) and spectral flatness (steady noise is flat, speech is not).
 */
export class FrameFeatureExtractor {
  #pending = new Float32Array(size);
  #pendingLength = 0;
  #energy = new Float32Array(1024);
  #flatness = new Float32Array(1024);
  #frames = 0;
  readonly #re = new Float32Array(size);
  readonly #im = new Float32Array(size);

  /** Adds samples at 8 kHz. */
  push(samples: Float32Array): void {
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(size - this.#pendingLength, samples.length - offset);
      this.#pending.set(samples.subarray(offset, offset + take), this.#pendingLength);
      this.#pendingLength += take;
      offset += take;
      if (this.#pendingLength === size) {
        this.#analyse(this.#pending);
        // Slide by one hop: the windows overlap.
        this.#pending.copyWithin(0, hop, size);
        this.#pendingLength = size - hop;
      }
    }
  }

  /** The features so far; the last partial window is analysed zero-padded. */
  finish(): ChannelFeatures {
    if (this.#pendingLength > size - hop || (this.#frames === 0 && this.#pendingLength > 0)) {
      this.#pending.fill(0, this.#pendingLength);
      this.#analyse(this.#pending);
    }
    this.#pendingLength = 0;
    return {
      energyDb: this.#energy.subarray(0, this.#frames),
      flatness: this.#flatness.subarray(0, this.#frames),
      frames: this.#frames,
    };
  }

  #analyse(frame: Float32Array): void {
    const re = this.#re;
    const im = this.#im;
    for (let i = 0; i < size; i++) {
      re[reversed[i]!] = frame[i]! * window[i]!;
      im[i] = 0;
    }
    fftInPlace(re, im);
    let power = 0;
    let logSum = 0;
    const bins = highBin - lowBin + 1;
    for (let k = lowBin; k <= highBin; k++) {
      const p = re[k]! * re[k]! + im[k]! * im[k]! + 1e-12;
      power += p;
      logSum += Math.log(p);
    }
    if (this.#frames === this.#energy.length) {
      this.#energy = grow(this.#energy);
      this.#flatness = grow(this.#flatness);
    }
    // Two-sided spectrum: ×2 for the negative frequencies; ÷ window power and size for a per-sample mean.
    const normalised = (2 * power) / (windowPower * size);
    this.#energy[this.#frames] = Math.max(-120, 10 * Math.log10(normalised + 1e-12));
    this.#flatness[this.#frames] = Math.exp(logSum / bins) / (power / bins);
    this.#frames++;
  }
}

function grow(array: Float32Array): Float32Array<ArrayBuffer> {
  const next = new Float32Array(array.length * 2);
  next.set(array);
  return next;
}

/** Iterative radix-2 FFT; `re` must already be in bit-reversed order. */
function fftInPlace(re: Float32Array, im: Float32Array): void {
  for (let half = 1; half < size; half <<= 1) {
    const stride = size / (half * 2);
    for (let start = 0; start < size; start += half * 2) {
      for (let k = 0; k < half; k++) {
        const c = cosTable[k * stride]!;
        const s = sinTable[k * stride]!;
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * c - im[b]! * s;
        const ti = re[b]! * s + im[b]! * c;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}
