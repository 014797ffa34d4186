/** Zero crossings of the sinc on each side of the kernel: the quality/speed trade-off. */
const zeroCrossings = 8;
/** Kernel samples per input sample in the lookup table. */
const phases = 256;

/**
 * Streaming sample-rate converter for one channel: windowed-sinc interpolation (Blackman window),
 * low-passed at the lower of the two Nyquist frequencies so downsampling does not alias. Feed it
 * chunks in order with `process`, then `flush` once at the end.
 */
export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  readonly #step: number;
  readonly #halfWidth: number;
  readonly #table: Float32Array;
  #buffer = new Float32Array(0);
  /** Absolute index (in input samples) of `#buffer[0]`. */
  #bufferStart = 0;
  /** Output samples produced so far; the next one sits at `#emitted × #step` input samples. */
  #emitted = 0;
  #inputSeen = 0;
  #finished = false;

  constructor(inRate: number, outRate: number) {
    this.inRate = inRate;
    this.outRate = outRate;
    this.#step = inRate / outRate;
    const cutoff = Math.min(1, outRate / inRate) * 0.96;
    this.#halfWidth = Math.ceil(zeroCrossings / cutoff);
    const length = this.#halfWidth * phases + 1;
    this.#table = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      const x = i / phases; // distance in input samples
      const arg = Math.PI * cutoff * x;
      const sinc = x === 0 ? 1 : Math.sin(arg) / arg;
      const w =
        0.42 +
        0.5 * Math.cos((Math.PI * x) / this.#halfWidth) +
        0.08 * Math.cos((2 * Math.PI * x) / this.#halfWidth);
      this.#table[i] = sinc * w * cutoff;
    }
  }

  /** Converts the next chunk; the answer may be a few samples behind (the kernel's look-ahead). */
  process(input: Float32Array): Float32Array {
    if (this.inRate === this.outRate) {
      this.#inputSeen += input.length;
      return input;
    }
    this.#inputSeen += input.length;
    this.#append(input);
    return this.#emit(this.#bufferStart + this.#buffer.length - this.#halfWidth);
  }

  /** The last samples, once the input has ended. */
  flush(): Float32Array {
    if (this.inRate === this.outRate || this.#finished) return new Float32Array(0);
    this.#finished = true;
    this.#append(new Float32Array(this.#halfWidth + 1));
    const total = Math.floor((this.#inputSeen * this.outRate) / this.inRate);
    return this.#emit(this.#bufferStart + this.#buffer.length - this.#halfWidth, total);
  }

  #append(input: Float32Array): void {
    // Keep only what the next output sample can still reach on its left.
    const keepFrom = Math.max(this.#bufferStart, Math.floor(this.#emitted * this.#step) - this.#halfWidth);
    const kept = this.#buffer.subarray(keepFrom - this.#bufferStart);
    const next = new Float32Array(kept.length + input.length);
    next.set(kept, 0);
    next.set(input, kept.length);
    this.#buffer = next;
    this.#bufferStart = keepFrom;
  }

  /** Emits every output sample whose kernel lies before `limit` (absolute input index), up to `cap` in all. */
  #emit(limit: number, cap = Number.POSITIVE_INFINITY): Float32Array {
    const step = this.#step;
    const wanted = Math.max(0, Math.ceil(limit / step) - this.#emitted);
    const count = Math.max(0, Math.min(wanted, cap - this.#emitted));
    const out = new Float32Array(count);
    const buffer = this.#buffer;
    const start = this.#bufferStart;
    const end = start + buffer.length - 1;
    const half = this.#halfWidth;
    const table = this.#table;
    for (let k = 0; k < count; k++) {
      const t = (this.#emitted + k) * step;
      const first = Math.max(Math.ceil(t - half), start);
      const last = Math.min(Math.floor(t + half), end);
      let sum = 0;
      for (let n = first; n <= last; n++) {
        const distance = t > n ? t - n : n - t;
        sum += buffer[n - start]! * table[Math.round(distance * phases)]!;
      }
      out[k] = sum;
    }
    this.#emitted += count;
    return out;
  }
}
