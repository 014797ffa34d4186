/**
 * Telephone audio carries nothing above 4 kHz. Upsampled to 16 kHz for a wideband speech model
 * (PocketSphinx's en-us model is 16 kHz only), the empty 4–7.5 kHz band looks to the model like no
 * speech it was trained on, and accuracy collapses. Filling that band with low-level noise brings it
 * back (measured on the fixture set: see docs/analysis.md).
 */
export class TelephoneBandFill {
  readonly #noise: Float32Array;
  #position = 0;

  /** `levelDbfs`: RMS of the added noise relative to full scale (e.g. −48). */
  constructor(sampleRate: number, levelDbfs: number, seed = 0x5eed) {
    this.#noise = bandNoise(sampleRate, levelDbfs, seed);
  }

  /** Adds the noise to `samples` in place and returns them. */
  apply(samples: Float32Array): Float32Array {
    const noise = this.#noise;
    let p = this.#position;
    for (let i = 0; i < samples.length; i++) {
      samples[i] = samples[i]! + noise[p]!;
      p = p + 1 === noise.length ? 0 : p + 1;
    }
    this.#position = p;
    return samples;
  }
}

const noiseSeconds = 4;
const cache = new Map<string, Float32Array>();

/** A few seconds of noise band-passed to 4–7.5 kHz at the given RMS level, looped by the filler. */
function bandNoise(sampleRate: number, levelDbfs: number, seed: number): Float32Array {
  const key = `${sampleRate}:${levelDbfs}:${seed}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const length = sampleRate * noiseSeconds;
  let state = seed >>> 0;
  const white = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    // xorshift32: deterministic, so the same recording always gives the same transcript.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    white[i] = (state >>> 0) / 4294967296 - 0.5;
  }
  const taps = bandPass(sampleRate, 4000, Math.min(7500, sampleRate / 2 - 250), 101);
  const shaped = new Float32Array(length);
  const half = (taps.length - 1) / 2;
  let energy = 0;
  for (let i = 0; i < length; i++) {
    let sum = 0;
    for (let k = 0; k < taps.length; k++) {
      // Circular, so the loop point has no seam.
      sum += taps[k]! * white[(i + k - half + length) % length]!;
    }
    shaped[i] = sum;
    energy += sum * sum;
  }
  const rms = Math.sqrt(energy / length);
  const gain = rms > 0 ? 10 ** (levelDbfs / 20) / rms : 0;
  for (let i = 0; i < length; i++) shaped[i] = shaped[i]! * gain;
  cache.set(key, shaped);
  return shaped;
}

/** Windowed-sinc band-pass FIR (Hamming window). */
function bandPass(sampleRate: number, low: number, high: number, length: number): Float64Array {
  const taps = new Float64Array(length);
  const mid = (length - 1) / 2;
  const lowCut = low / sampleRate;
  const highCut = high / sampleRate;
  for (let n = 0; n < length; n++) {
    const x = n - mid;
    const ideal =
      x === 0
        ? 2 * (highCut - lowCut)
        : (Math.sin(2 * Math.PI * highCut * x) - Math.sin(2 * Math.PI * lowCut * x)) / (Math.PI * x);
    taps[n] = ideal * (0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (length - 1)));
  }
  return taps;
}
