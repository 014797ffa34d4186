import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import type { AudioFormat } from "../core/audio.ts";
import { type DecodedAudio, type DecodeSettings, decodeAudio } from "./decodeAudio.ts";
import { probeFfmpeg } from "./ffmpeg.ts";
import { mediaFailureOf } from "./mediaError.ts";
import { encodeAlaw, encodeMulaw } from "./pcmDecoder.ts";

const ffmpeg = probeFfmpeg("ffmpeg");
const settings: DecodeSettings = {
  ffmpegPath: ffmpeg.available ? ffmpeg.path : null,
  maxSeconds: 4 * 3600,
  ffmpegTimeoutMs: 60_000,
};
const noFfmpeg: DecodeSettings = { ...settings, ffmpegPath: null };

/** A WAV file with any format tag, sample size and channel count, built byte by byte. */
function wavFile(options: {
  formatTag: number;
  bits: number;
  channels: number;
  rate: number;
  data: Buffer;
  declaredDataBytes?: number;
  extensible?: boolean;
}): Buffer {
  const { formatTag, bits, channels, rate, data } = options;
  const blockAlign = (bits / 8) * channels;
  const fmt = Buffer.alloc(options.extensible ? 40 : 16);
  fmt.writeUInt16LE(options.extensible ? 0xfffe : formatTag, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate * blockAlign, 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(bits, 14);
  if (options.extensible) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(bits, 18);
    fmt.writeUInt16LE(formatTag, 24); // first two bytes of the sub-format GUID
  }
  const chunk = (id: string, body: Buffer, size = body.length) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, "latin1");
    head.writeUInt32LE(size, 4);
    return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const list = chunk("LIST", Buffer.from("INFOISFT\u0006\u0000\u0000\u0000cqa\u0000\u0000\u0000"));
  const body = Buffer.concat([
    Buffer.from("WAVE"),
    chunk("fmt ", fmt),
    list,
    chunk("data", data, options.declaredDataBytes ?? data.length),
  ]);
  const riff = Buffer.alloc(8);
  riff.write("RIFF", 0, "latin1");
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/** A 440 Hz tone at amplitude 0.5 on channel 0 and 1 kHz at 0.25 on channel 1 (and silence beyond). */
function toneSamples(rate: number, channels: number, seconds: number): number[][] {
  const frames = Math.round(rate * seconds);
  return Array.from({ length: channels }, (_, c) =>
    Array.from({ length: frames }, (_, i) =>
      c === 0
        ? 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate)
        : c === 1
          ? 0.25 * Math.sin((2 * Math.PI * 1000 * i) / rate)
          : 0,
    ),
  );
}

function encode(samples: number[][], bits: number, kind: "pcm" | "float" | "mulaw" | "alaw"): Buffer {
  const channels = samples.length;
  const frames = samples[0]!.length;
  const bytes = bits / 8;
  const out = Buffer.alloc(frames * channels * bytes);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const v = samples[c]![i]!;
      const at = (i * channels + c) * bytes;
      if (kind === "mulaw") out[at] = encodeMulaw(v);
      else if (kind === "alaw") out[at] = encodeAlaw(v);
      else if (kind === "float" && bits === 32) out.writeFloatLE(v, at);
      else if (kind === "float") out.writeDoubleLE(v, at);
      else if (bits === 8) out[at] = Math.round(v * 127) + 128;
      else if (bits === 16) out.writeInt16LE(Math.round(v * 32767), at);
      else if (bits === 24) out.writeIntLE(Math.round(v * 8388607), at, 3);
      else out.writeInt32LE(Math.round(v * 2147483647), at);
    }
  }
  return out;
}

interface Collected extends DecodedAudio {
  started: AudioFormat | null;
  channels: Float32Array[];
}

/** Decodes from a stream cut into small pieces (so frames straddle chunk boundaries). */
async function decode(
  file: Buffer,
  options: DecodeSettings = settings,
  chunkBytes = 1001,
): Promise<Collected> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < file.length; at += chunkBytes) pieces.push(file.subarray(at, at + chunkBytes));
  const parts: Float32Array[][] = [];
  let started: AudioFormat | null = null;
  const decoded = await decodeAudio(Readable.from(pieces), file.length, options, {
    start: (format) => {
      started = format;
    },
    write: (channels) => parts.push(channels.map((c) => Float32Array.from(c))),
  });
  const channels = Array.from({ length: decoded.format.channels }, (_, c) => {
    const all = new Float32Array(decoded.frames);
    let at = 0;
    for (const part of parts) {
      all.set(part[c]!, at);
      at += part[c]!.length;
    }
    return all;
  });
  return { ...decoded, started, channels };
}

async function failure(file: Buffer, options: DecodeSettings = settings, size: number | null = file.length) {
  try {
    await decodeAudio(Readable.from([file]), size, options, { start() {}, write() {} });
  } catch (error) {
    return { reason: mediaFailureOf(error), message: (error as Error).message };
  }
  assert.fail("the recording was expected to fail");
}

function maxError(decoded: Float32Array, expected: number[]): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(decoded[i]! - expected[i]!));
  return worst;
}

describe("decoding WAV in-process", () => {
  const cases = [
    { name: "8-bit unsigned PCM", tag: 1, bits: 8, kind: "pcm", tolerance: 0.01 },
    { name: "16-bit PCM", tag: 1, bits: 16, kind: "pcm", tolerance: 1e-4 },
    { name: "24-bit PCM", tag: 1, bits: 24, kind: "pcm", tolerance: 1e-6 },
    { name: "32-bit PCM", tag: 1, bits: 32, kind: "pcm", tolerance: 1e-6 },
    { name: "32-bit float", tag: 3, bits: 32, kind: "float", tolerance: 1e-7 },
    { name: "64-bit float", tag: 3, bits: 64, kind: "float", tolerance: 1e-7 },
    { name: "G.711 µ-law", tag: 7, bits: 8, kind: "mulaw", tolerance: 0.02 },
    { name: "G.711 A-law", tag: 6, bits: 8, kind: "alaw", tolerance: 0.02 },
  ] as const;
  for (const c of cases) {
    for (const [rate, channels] of [
      [8000, 1],
      [44100, 2],
      [22050, 3],
    ] as const) {
      test(`${c.name}, ${channels} channel(s) at ${rate} Hz decodes to the samples that were written`, async () => {
        const samples = toneSamples(rate, channels, 0.25);
        const file = wavFile({
          formatTag: c.tag,
          bits: c.bits,
          channels,
          rate,
          data: encode(samples, c.bits, c.kind),
        });
        const decoded = await decode(file);
        assert.equal(decoded.format.sampleRate, rate);
        assert.equal(decoded.format.channels, channels);
        assert.equal(decoded.format.decoder, "in-process");
        assert.equal(decoded.frames, samples[0]!.length);
        assert.ok(Math.abs(decoded.durationSeconds - 0.25) < 1e-3);
        assert.deepEqual(decoded.started, decoded.format, "the layout is announced before the samples");
        for (let ch = 0; ch < channels; ch++) {
          assert.ok(maxError(decoded.channels[ch]!, samples[ch]!) <= c.tolerance, `channel ${ch} differs`);
        }
      });
    }
  }

  test("WAVE_FORMAT_EXTENSIBLE headers are read by their sub-format", async () => {
    const samples = toneSamples(16000, 2, 0.1);
    const file = wavFile({
      formatTag: 1,
      bits: 24,
      channels: 2,
      rate: 16000,
      data: encode(samples, 24, "pcm"),
      extensible: true,
    });
    const decoded = await decode(file);
    assert.equal(decoded.format.codec, "pcm_s24le");
    assert.ok(maxError(decoded.channels[1]!, samples[1]!) < 1e-6);
  });

  test("a streamed WAV whose header does not know its size (0xFFFFFFFF) is read to the end", async () => {
    const samples = toneSamples(8000, 1, 0.5);
    const file = wavFile({
      formatTag: 1,
      bits: 16,
      channels: 1,
      rate: 8000,
      data: encode(samples, 16, "pcm"),
      declaredDataBytes: 0xffffffff,
    });
    const decoded = await decode(file);
    assert.equal(decoded.frames, 4000);
  });
});

describe("recordings that cannot be analysed fail with their own reason", () => {
  const good = wavFile({
    formatTag: 1,
    bits: 16,
    channels: 2,
    rate: 8000,
    data: encode(toneSamples(8000, 2, 1), 16, "pcm"),
  });

  test("0 bytes", async () => {
    const { reason, message } = await failure(Buffer.alloc(0));
    assert.equal(reason, "empty");
    assert.match(message, /empty \(0 bytes\)/);
  });

  test("a WAV header with no samples after it", async () => {
    const { reason, message } = await failure(
      wavFile({ formatTag: 1, bits: 16, channels: 1, rate: 8000, data: Buffer.alloc(0) }),
    );
    assert.equal(reason, "empty");
    assert.match(message, /holds no audio/);
  });

  test("truncated: the file ends before the audio its header declares", async () => {
    const cut = good.subarray(0, good.length - 10_000);
    const { reason, message } = await failure(cut);
    assert.equal(reason, "truncated");
    assert.match(
      message,
      /truncated: its header declares 31\.3 KB of audio \(1 s at 8000 Hz, 2 channel\(s\)\) but the file ends 9\.8 KB short/,
    );
    assert.match(message, /send the complete file/);
  });

  test("truncated inside the header", async () => {
    const { reason } = await failure(good.subarray(0, 30));
    assert.equal(reason, "truncated");
  });

  test("corrupt: a WAV header with impossible values", async () => {
    const broken = Buffer.from(good);
    broken.writeUInt16LE(0, 22); // 0 channels
    const { reason, message } = await failure(broken);
    assert.equal(reason, "corrupt");
    assert.match(message, /damaged: its header says it has 0 channels/);
  });

  test("corrupt: no fmt chunk before the samples", async () => {
    const broken = Buffer.from(good);
    broken.write("junk", 12, "latin1");
    const { reason, message } = await failure(broken);
    assert.equal(reason, "corrupt");
    assert.match(message, /samples come before the 'fmt ' chunk/);
  });

  test("2 GB declared in a small file: too long, not read", async () => {
    const huge = wavFile({
      formatTag: 1,
      bits: 16,
      channels: 2,
      rate: 8000,
      data: encode(toneSamples(8000, 2, 0.1), 16, "pcm"),
      declaredDataBytes: 2 * 1024 ** 3,
    });
    const { reason, message } = await failure(huge);
    assert.equal(reason, "too_long");
    assert.match(
      message,
      /declares 2\.0 GB of audio, 18 h 38 min at 8000 Hz and 2 channel\(s\): longer than the 4 h cqa analyses/,
    );
  });

  test("too long: more audio than CQA_MAX_AUDIO_SECONDS, with a size the header did not know", async () => {
    const long = wavFile({
      formatTag: 1,
      bits: 16,
      channels: 1,
      rate: 8000,
      data: encode(toneSamples(8000, 1, 3), 16, "pcm"),
      declaredDataBytes: 0xffffffff,
    });
    const { reason, message } = await failure(long, { ...settings, maxSeconds: 2 });
    assert.equal(reason, "too_long");
    assert.match(message, /longer than the 2 s cqa analyses/);
  });

  test("wrong format: an HTML error page served as the recording", async () => {
    const { reason, message } = await failure(
      Buffer.from("<!DOCTYPE html><html><body>Session expired</body></html>"),
    );
    assert.equal(reason, "not_audio");
    assert.match(message, /not audio: it looks like an HTML page/);
  });

  test("wrong format: a PDF", async () => {
    const { reason, message } = await failure(Buffer.from("%PDF-1.7\n%âãÏÓ\n1 0 obj"));
    assert.equal(reason, "not_audio");
    assert.match(message, /a PDF document/);
  });

  test("an MP3 without ffmpeg names the missing tool and how to install it", async () => {
    const mp3Head = Buffer.concat([
      Buffer.from("ID3\u0004\u0000\u0000\u0000\u0000\u0000\u0000", "latin1"),
      Buffer.alloc(100),
    ]);
    const { reason, message } = await failure(mp3Head, noFfmpeg);
    assert.equal(reason, "decoder_missing");
    assert.match(
      message,
      /The recording is MP3; cqa decodes WAV itself and needs ffmpeg for MP3.*apt-get install ffmpeg/,
    );
  });

  test("unrecognised bytes without ffmpeg", async () => {
    const { reason, message } = await failure(
      Buffer.from([0x00, 0x01, 0x02, 0x03, 0x80, 0x90, 0xa0, 0xb0, 0xc0]),
      noFfmpeg,
    );
    assert.equal(reason, "unsupported");
    assert.match(message, /not recognised \(it starts with bytes 00 01 02 03 80 90 a0 b0\)/);
  });
});

describe("other formats through ffmpeg", {
  skip: ffmpeg.available ? false : "ffmpeg is not installed",
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "cqa-formats-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const source = join(dir, "source.wav");
  writeFileSync(
    source,
    wavFile({
      formatTag: 1,
      bits: 16,
      channels: 2,
      rate: 16000,
      data: encode(toneSamples(16000, 2, 2), 16, "pcm"),
    }),
  );
  const soxAmr = () => {
    const target = join(dir, "call.amr");
    execFileSync("sox", [
      source,
      "-r",
      "8000",
      "-c",
      "1",
      "-e",
      "signed",
      "-b",
      "16",
      "-t",
      "amr-nb",
      target,
    ]);
    return readFileSync(target);
  };
  const convert = (extension: string, args: string[]) => {
    const target = join(dir, `call.${extension}`);
    execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-i", source, ...args, target]);
    return readFileSync(target);
  };

  for (const [extension, args, container, channels] of [
    ["mp3", ["-ac", "2"], "mp3", 2],
    ["ogg", ["-c:a", "libvorbis"], "ogg", 2],
    ["flac", [], "flac", 2],
    ["m4a", ["-c:a", "aac"], "m4a", 2],
    ["amr", [], "amr", 1],
  ] as const) {
    test(`${extension.toUpperCase()} decodes through ffmpeg with its channels and length`, async (t) => {
      let file: Buffer;
      try {
        // Debian's ffmpeg decodes AMR but cannot encode it; sox (with libopencore) can.
        file = extension === "amr" ? soxAmr() : convert(extension, [...args]);
      } catch {
        t.skip(`neither ffmpeg nor sox here can encode ${extension}`);
        return;
      }
      const decoded = await decode(file, settings, 65_536);
      assert.equal(decoded.format.decoder, "ffmpeg");
      assert.equal(decoded.format.container, container);
      assert.equal(decoded.format.channels, channels);
      assert.ok(Math.abs(decoded.durationSeconds - 2) < 0.15, `${decoded.durationSeconds} s`);
      const rms = Math.sqrt(decoded.channels[0]!.reduce((s, v) => s + v * v, 0) / decoded.frames);
      assert.ok(rms > 0.1 && rms < 0.5, `the tone is there (rms ${rms})`);
    });
  }

  test("an ADPCM WAV goes to ffmpeg", async () => {
    const file = convert("adpcm.wav", ["-c:a", "adpcm_ima_wav"]);
    const decoded = await decode(file, settings, 65_536);
    assert.equal(decoded.format.decoder, "ffmpeg");
    assert.ok(Math.abs(decoded.durationSeconds - 2) < 0.1);
  });

  test("corrupt: an MP3 of random bytes after a valid tag fails with ffmpeg's reason", async () => {
    const garbage = Buffer.concat([
      Buffer.from("ID3\u0004\u0000\u0000\u0000\u0000\u0000\u0000", "latin1"),
      Buffer.alloc(4000, 0x5a),
    ]);
    const { reason, message } = await failure(garbage);
    assert.equal(reason, "corrupt");
    assert.match(message, /ffmpeg could not decode the MP3 recording/);
    assert.doesNotMatch(message, /cqa-decode-/, "no temporary paths in the reason");
  });

  test("truncated M4A (index first): ffmpeg would decode the first part; cqa says it is truncated", async () => {
    const file = convert("cut.m4a", ["-c:a", "aac", "-movflags", "+faststart"]);
    const { reason, message } = await failure(file.subarray(0, Math.floor(file.length / 3)));
    assert.equal(reason, "truncated");
    assert.match(message, /The M4A recording is truncated \(the file was cut off/);
  });

  test("truncated M4A (index last): the missing index is reported as truncation", async () => {
    const file = convert("cut-end.m4a", ["-c:a", "aac"]);
    const { reason, message } = await failure(file.subarray(0, Math.floor(file.length / 2)));
    assert.equal(reason, "truncated");
    assert.match(message, /moov atom not found/);
  });
});
