// Generates the labelled call recordings of test/fixtures/audio: two-party calls synthesised with
// Debian's flite voices (agent and customer on separate channels), with a known script, pauses,
// overtalk, hold music, line noise and a planted card number, encoded as 8 kHz µ-law WAV like real
// telephony. Writes each call and labels.json (the script with the exact time of every utterance,
// and the measures and KPI answers those labels imply). Run it again only to change the fixtures:
//
//   node scripts/generate-audio-fixtures.ts        (needs flite: apt-get install flite)
import { execFileSync } from "node:child_process";
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeAudio } from "../src/media/decodeAudio.ts";
import { encodeMulaw } from "../src/media/pcmDecoder.ts";
import { Resampler } from "../src/media/resampler.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outDir = join(root, "test", "fixtures", "audio");
const rate = 16_000;
const voices = { agent: "slt", customer: "rms" } as const;

type Party = "agent" | "customer";
type Step =
  /** `gap`: seconds after the previous step ends (negative: starts before it ends — overtalk). */
  { say: string; by: Party; gap: number } | { silence: number } | { music: number; on: Party; gap: number };

interface CallScript {
  name: string;
  description: string;
  stereo: boolean;
  noise: boolean;
  steps: Step[];
  /** The answers a correct analysis gives (for the agreement figure). */
  kpis: Record<string, "Yes" | "No">;
}

const calls: CallScript[] = [
  {
    name: "billing-call",
    description:
      "A well-handled billing call: greeting, verification, 20 s of hold music, overtalk, closing.",
    stereo: true,
    noise: false,
    steps: [
      { silence: 0.5 },
      {
        by: "agent",
        gap: 0,
        say: "Thank you for calling Northwind Energy, my name is Sarah. How can I help you today?",
      },
      { by: "customer", gap: 0.7, say: "Hi, I think I have been charged twice for my last bill." },
      { by: "agent", gap: 0.8, say: "I am sorry to hear that. Can you confirm your date of birth please?" },
      { by: "customer", gap: 0.9, say: "Yes, it is the fourth of May, nineteen eighty one." },
      {
        by: "agent",
        gap: 0.6,
        say: "Thank you. I will put you on hold for a moment while I check the account.",
      },
      { music: 20, on: "agent", gap: 1.5 },
      {
        by: "agent",
        gap: 1.5,
        say: "Thank you for holding. I can see the duplicate payment, and I have raised a refund.",
      },
      { by: "customer", gap: -0.9, say: "Oh, that is great, thank you." },
      { by: "agent", gap: 0.8, say: "Is there anything else I can help you with today?" },
      { by: "customer", gap: 0.7, say: "No, that is everything." },
      { by: "agent", gap: 0.6, say: "Thank you for calling, have a great day. Goodbye." },
      { silence: 1 },
    ],
    kpis: {
      greeting: "Yes",
      hold_thanks: "Yes",
      closing: "Yes",
      card_request: "No",
      apology: "Yes",
    },
  },
  {
    name: "card-payment-call",
    description:
      "A card payment: the customer reads a 16-digit card number across two turns and a security code (planted PII).",
    stereo: true,
    noise: false,
    steps: [
      { silence: 0.8 },
      { by: "agent", gap: 0, say: "Good morning, thank you for calling Acme Insurance, this is Sarah." },
      { by: "customer", gap: 0.8, say: "Hello, I would like to pay my renewal by card." },
      { by: "agent", gap: 0.7, say: "Of course. Please read me the long number on the card." },
      { by: "customer", gap: 1.0, say: "It is four one one one, one one one one," },
      { by: "agent", gap: 0.4, say: "Okay." },
      { by: "customer", gap: 0.5, say: "one one one one, one one one one." },
      { by: "agent", gap: 0.8, say: "And the three digit security code on the back of the card?" },
      { by: "customer", gap: 1.2, say: "Seven three seven." },
      { by: "agent", gap: 0.9, say: "Thank you, the payment has gone through. Have a great day." },
      { silence: 0.8 },
    ],
    kpis: {
      greeting: "Yes",
      hold_thanks: "No",
      closing: "Yes",
      card_request: "Yes",
      apology: "No",
    },
  },
  {
    name: "complaint-call",
    description:
      "A poorly handled complaint on a noisy line (mains hum and hiss): no greeting, a 20 s agent monologue, overtalk, 12 s of dead air, no closing.",
    stereo: true,
    noise: true,
    steps: [
      { silence: 0.6 },
      { by: "agent", gap: 0, say: "Yeah, what is the problem?" },
      {
        by: "customer",
        gap: 0.8,
        say: "My internet has been down for three days and nobody has called me back.",
      },
      {
        by: "agent",
        gap: 0.9,
        say: "Right, so what happens is the engineers look at the exchange first, and if the exchange is fine they book a visit, and the visits are booked in order.",
      },
      {
        by: "agent",
        gap: 0.9,
        say: "There is nothing I can do to move it, and you will just have to wait for the text message.",
      },
      { by: "customer", gap: -1.6, say: "But I work from home!" },
      { by: "agent", gap: 1.0, say: "The system shows the ticket is open." },
      { silence: 12 },
      { by: "agent", gap: 0, say: "Okay, I have moved you to Thursday." },
      { by: "customer", gap: -0.7, say: "Fine, whatever." },
      { silence: 1 },
    ],
    kpis: {
      greeting: "No",
      hold_thanks: "No",
      closing: "No",
      card_request: "No",
      apology: "No",
    },
  },
  {
    name: "mono-call",
    description: "A short call recorded on one channel (both parties mixed), with a 6 s silence.",
    stereo: false,
    noise: false,
    steps: [
      { silence: 0.5 },
      { by: "agent", gap: 0, say: "Thank you for calling, how can I help you?" },
      { by: "customer", gap: 0.8, say: "I would like to check my order status." },
      { silence: 6 },
      { by: "agent", gap: 0, say: "Your order was sent this morning." },
      { by: "agent", gap: 1.2, say: "Have a great day, goodbye." },
      { silence: 0.7 },
    ],
    kpis: {
      greeting: "Yes",
      hold_thanks: "No",
      closing: "Yes",
      card_request: "No",
      apology: "No",
    },
  },
];

interface Utterance {
  speaker: Party;
  text: string;
  start: number;
  end: number;
  /** Where speech actually is inside the utterance (pauses of 0.5 s or more split it). */
  spans: [number, number][];
}

async function synthesise(text: string, party: Party, work: string): Promise<Float32Array> {
  const path = join(work, "utterance.wav");
  execFileSync("flite", ["-voice", voices[party], "-t", text, "-o", path]);
  const parts: Float32Array[] = [];
  const decoded = await decodeAudio(
    createReadStream(path),
    statSync(path).size,
    { ffmpegPath: null, maxSeconds: 600, ffmpegTimeoutMs: 1 },
    { start: () => {}, write: (channels) => parts.push(Float32Array.from(channels[0]!)) },
  );
  if (decoded.format.sampleRate !== rate) throw new Error(`flite voice ${voices[party]} is not ${rate} Hz`);
  const samples = concat(parts);
  // Trim flite's own leading and trailing silence, so labels start where the voice starts.
  const active = activeFrames(samples);
  const first = active.findIndex((a) => a);
  const last = active.length - 1 - [...active].reverse().findIndex((a) => a);
  return samples.subarray(first * frame, Math.min(samples.length, (last + 1) * frame));
}

const frame = rate / 100;

/** 10 ms frames whose RMS is above −45 dBFS: unambiguous on clean synthetic speech. */
function activeFrames(samples: Float32Array): boolean[] {
  const out: boolean[] = [];
  for (let at = 0; at + frame <= samples.length; at += frame) {
    let sum = 0;
    for (let i = at; i < at + frame; i++) sum += samples[i]! * samples[i]!;
    out.push(Math.sqrt(sum / frame) > 10 ** (-45 / 20));
  }
  return out;
}

/** Speech spans of a trimmed utterance (seconds from its start), pauses of ≥ 0.5 s splitting it. */
function speechSpans(samples: Float32Array): [number, number][] {
  const active = activeFrames(samples);
  const spans: [number, number][] = [];
  let start = -1;
  let lastActive = -1;
  active.forEach((a, i) => {
    if (!a) return;
    if (start < 0) start = i;
    else if (i - lastActive > 50) {
      spans.push([start / 100, (lastActive + 1) / 100]);
      start = i;
    }
    lastActive = i;
  });
  if (start >= 0) spans.push([start / 100, (lastActive + 1) / 100]);
  return spans;
}

/** Steady hold music: a slow melody of soft organ-like notes, gliding from one to the next. */
function holdMusic(seconds: number): Float32Array {
  const notes = [261.63, 329.63, 392.0, 329.63, 293.66, 349.23, 440.0, 349.23];
  const out = new Float32Array(Math.round(seconds * rate));
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    const note = notes[Math.floor(t / 0.6) % notes.length]!;
    phase += (2 * Math.PI * note) / rate;
    const fade = Math.min(1, t / 0.2, (seconds - t) / 0.2);
    out[i] = fade * 0.08 * (Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.25 * Math.sin(3 * phase));
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sounds placed on one party's channel: where each starts (in samples) and its samples. */
type Track = [number, Float32Array][];

function render(track: Track, length: number): Float32Array {
  const out = new Float32Array(length);
  for (const [at, samples] of track) {
    for (let i = 0; i < samples.length && at + i < length; i++) out[at + i] = out[at + i]! + samples[i]!;
  }
  return out;
}

/** Mains hum (50 Hz and harmonics) and white hiss, as on a poor line. */
function addLineNoise(samples: Float32Array, seed: number): void {
  let state = seed;
  for (let i = 0; i < samples.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    const hiss = (state / 4294967296 - 0.5) * 0.02;
    const t = i / rate;
    const hum = 0.03 * Math.sin(2 * Math.PI * 50 * t) + 0.015 * Math.sin(2 * Math.PI * 150 * t);
    samples[i] = samples[i]! + hum + hiss;
  }
}

/** 16 kHz float channels → 8 kHz µ-law WAV bytes. */
function telephoneWav(channels: Float32Array[]): Buffer {
  const narrow = channels.map((c) => {
    const resampler = new Resampler(rate, 8000);
    return concat([resampler.process(c), resampler.flush()]);
  });
  const frames = narrow[0]!.length;
  const count = narrow.length;
  const header = Buffer.alloc(58);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(50 + frames * count, 4);
  header.write("WAVE", 8, "latin1");
  header.write("fmt ", 12, "latin1");
  header.writeUInt32LE(18, 16);
  header.writeUInt16LE(7, 20); // WAVE_FORMAT_MULAW
  header.writeUInt16LE(count, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000 * count, 28);
  header.writeUInt16LE(count, 32);
  header.writeUInt16LE(8, 34);
  header.writeUInt16LE(0, 36);
  header.write("fact", 38, "latin1");
  header.writeUInt32LE(4, 42);
  header.writeUInt32LE(frames, 46);
  header.write("data", 50, "latin1");
  header.writeUInt32LE(frames * count, 54);
  const data = Buffer.alloc(frames * count);
  for (let i = 0; i < frames; i++)
    for (let c = 0; c < count; c++) data[i * count + c] = encodeMulaw(narrow[c]![i]!);
  return Buffer.concat([header, data]);
}

async function generate(call: CallScript, work: string) {
  const tracks: Record<Party, Track> = { agent: [], customer: [] };
  const utterances: Utterance[] = [];
  const holds: { start: number; end: number; kind: "music" }[] = [];
  let cursor = 0;
  for (const step of call.steps) {
    if ("silence" in step) {
      cursor += step.silence;
    } else if ("music" in step) {
      const start = cursor + step.gap;
      tracks[step.on].push([Math.round(start * rate), holdMusic(step.music)]);
      holds.push({ start: round(start), end: round(start + step.music), kind: "music" });
      cursor = start + step.music;
    } else {
      const samples = await synthesise(step.say, step.by, work);
      const start = cursor + step.gap;
      const duration = samples.length / rate;
      tracks[step.by].push([Math.round(start * rate), samples]);
      utterances.push({
        speaker: step.by,
        text: step.say,
        start: round(start),
        end: round(start + duration),
        spans: speechSpans(samples).map(([s, e]) => [round(start + s), round(start + e)]),
      });
      cursor = Math.max(cursor, start + duration);
    }
  }
  const length = Math.round(cursor * rate);
  const agent = render(tracks.agent, length);
  const customer = render(tracks.customer, length);
  if (call.noise) {
    addLineNoise(agent, 7);
    addLineNoise(customer, 11);
  }
  const channels = call.stereo ? [agent, customer] : [agent.map((v, i) => v + customer[i]!)];
  const wav = telephoneWav(channels);
  writeFileSync(join(outDir, `${call.name}.wav`), wav);
  const duration = round(length / rate);
  return {
    name: call.name,
    file: `${call.name}.wav`,
    description: call.description,
    format: { container: "wav", codec: "mulaw", sampleRate: 8000, channels: call.stereo ? 2 : 1 },
    channels: call.stereo ? { agent: 0, customer: 1 } : { mixed: 0 },
    durationSeconds: duration,
    lineNoise: call.noise,
    utterances,
    holds,
    expected: expectedMeasures(utterances, holds, duration, call.stereo),
    kpis: call.kpis,
  };
}

type Span = { start: number; end: number };

function unionOf(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** The measures the labels imply, computed here independently of cqa's own measuring code. */
function expectedMeasures(utterances: Utterance[], holds: Span[], duration: number, stereo: boolean) {
  const spansOf = (who?: Party) =>
    unionOf(
      utterances
        .filter((u) => !who || u.speaker === who)
        .flatMap((u) => u.spans.map(([start, end]) => ({ start, end }))),
    );
  const sum = (spans: Span[]) => round(spans.reduce((n, s) => n + s.end - s.start, 0));
  const covered = unionOf([...spansOf(), ...holds]);
  const silences: Span[] = [];
  let at = 0;
  for (const s of covered) {
    if (s.start > at) silences.push({ start: at, end: s.start });
    at = Math.max(at, s.end);
  }
  if (at < duration) silences.push({ start: at, end: duration });
  const agent = spansOf("agent");
  const customer = spansOf("customer");
  const overlaps: Span[] = [];
  for (const a of agent) {
    for (const c of customer) {
      const start = Math.max(a.start, c.start);
      const end = Math.min(a.end, c.end);
      if (end - start >= 0.3) overlaps.push({ start, end });
    }
  }
  return {
    talkSeconds: stereo
      ? { agent: sum(agent), customer: sum(customer), total: sum(spansOf()) }
      : { agent: null, customer: null, total: sum(spansOf()) },
    silenceSeconds: sum(silences),
    silenceShare: round(sum(silences) / duration, 4),
    longestSilenceSeconds: round(Math.max(0, ...silences.map((s) => s.end - s.start))),
    deadAirCount: silences.filter((s) => s.end - s.start >= 5).length,
    overtalkCount: stereo ? overlaps.length : null,
    holdCount: holds.length,
  };
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "cqa-fixtures-"));
try {
  const labels = [];
  for (const call of calls) {
    labels.push(await generate(call, work));
    process.stdout.write(`${call.name}: ${labels.at(-1)!.durationSeconds} s\n`);
  }
  writeFileSync(
    join(outDir, "labels.json"),
    `${JSON.stringify(
      {
        generatedBy: "scripts/generate-audio-fixtures.ts",
        voices,
        kpiPhrases: {
          greeting: { phrases: ["thank you for calling"], speaker: "agent", firstSeconds: 30 },
          hold_thanks: { phrases: ["thank you for holding"], speaker: "agent" },
          closing: { phrases: ["have a great day"], speaker: "agent", lastSeconds: 30 },
          card_request: { phrases: ["number on the card", "security code"], speaker: "agent" },
          apology: { phrases: ["sorry to hear that"], speaker: "agent" },
        },
        calls: labels,
      },
      null,
      2,
    )}\n`,
  );
  // Laid out the way the project's formatter wants JSON, so `npm run lint` stays clean.
  execFileSync(process.execPath, [
    join(root, "node_modules", "@biomejs", "biome", "bin", "biome"),
    "format",
    "--write",
    join(outDir, "labels.json"),
  ]);
} finally {
  rmSync(work, { recursive: true, force: true });
}
