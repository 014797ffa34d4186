// npm run bench -- --only analysis: the analysis engine's figures on the labelled fixture set
// (test/fixtures/audio) and Debian's pocketsphinx-testdata — audio measures in × real time per core,
// transcription real-time factor and word error rate per engine, phrase-spotting agreement with the
// labels, and scoring throughput for a 20-KPI profile. Written to docs/benchmarks.md between its own
// markers. Reported, never asserted (the agreement thresholds are asserted by the tests).
import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseProfileDefinition } from "../src/analysis/profileSchema.ts";
import { redactTranscript } from "../src/analysis/redaction/redactTranscript.ts";
import { scoreProfile } from "../src/analysis/scoring/scoreProfile.ts";
import { parseTranscript } from "../src/analysis/transcript/parseTranscript.ts";
import { defaultAnalysisSettings } from "../src/core/analysisSettings.ts";
import type { KpiResult } from "../src/core/qualityProfile.ts";
import { detectEngines, type Engines } from "../src/engines/engineSet.ts";
import { defaultPocketSphinx, PocketSphinxEngine } from "../src/engines/pocketsphinx.ts";
import type { SpeechEngine } from "../src/engines/speechEngine.ts";
import { wordErrorRate } from "../src/engines/wordErrorRate.ts";
import { analyseMedia } from "../src/pipeline/analyseMedia.ts";
import { analyseRecording, defaultBandFillDbfs } from "../src/pipeline/analyseRecording.ts";
import { createFsBlobStore } from "../src/storage/blob/fsBlobStore.ts";
import type { InteractionRecord } from "../src/storage/repositories/interactions.ts";
import {
  audioFixtureDir,
  audioLabels,
  fixtureProfile,
  type LabelledCall,
  librivoxUtterances,
} from "../test/support/audioFixtures.ts";
import type { GeneratedBlock } from "./report.ts";

/** The aim for audio measures. */
export const measuresAimTimesRealTime = 500;

export interface EngineRow {
  engine: string;
  audio: string;
  seconds: number;
  rtf: number | null;
  wer: number | null;
  words: number;
  note: string;
}

export interface AnalysisFigures {
  date: string;
  machine: string;
  measures: { audioSeconds: number; cpuSeconds: number; timesRealTime: number; passes: number };
  engines: EngineRow[];
  agreement: { spotted: number; transcript: number; answers: number; misses: string[] } | null;
  scoring: { interactionsPerSecond: number; kpis: number; interactions: number } | null;
  notes: string[];
}

const decode = { ffmpegPath: null, maxSeconds: 14_400, ffmpegTimeoutMs: 60_000 };

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Audio measures over the fixture calls, repeated until `seconds` of CPU have been spent; one core. */
async function measureAudioMeasures(labels: LabelledCall[], minCpuSeconds: number) {
  let audioSeconds = 0;
  let passes = 0;
  const start = cpuSeconds();
  // Warm-up pass (JIT), not counted.
  for (const call of labels) await measureFile(join(audioFixtureDir, call.file));
  const counted = cpuSeconds();
  while (cpuSeconds() - counted < minCpuSeconds) {
    for (const call of labels) {
      await measureFile(join(audioFixtureDir, call.file));
      audioSeconds += call.durationSeconds;
    }
    passes++;
  }
  const cpu = cpuSeconds() - counted;
  void start;
  return { audioSeconds, cpuSeconds: cpu, timesRealTime: audioSeconds / cpu, passes };
}

async function measureFile(path: string) {
  return analyseRecording(createReadStream(path), statSync(path).size, {
    decode,
    channelMap: { agent: 0, customer: 1 },
  });
}

/** One engine over the fixture calls (by channel) and the real read speech of pocketsphinx-testdata. */
async function measureEngine(
  engine: SpeechEngine,
  labels: LabelledCall[],
  bandFillDbfs: number,
  label: string,
): Promise<EngineRow[]> {
  const rows: EngineRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), "cqa-bench-engine-"));
  try {
    const refs: string[] = [];
    const hyps: string[] = [];
    let seconds = 0;
    let wall = 0;
    for (const call of labels) {
      const out = mkdtempSync(join(dir, "call-"));
      const path = join(audioFixtureDir, call.file);
      const { engineChannels, measures } = await analyseRecording(
        createReadStream(path),
        statSync(path).size,
        {
          decode,
          channelMap: { agent: 0, customer: 1 },
          engineInputDir: out,
          bandFillDbfs,
        },
      );
      const music = measures.holds.filter((h) => h.kind === "music");
      for (const channel of engineChannels ?? []) {
        const started = performance.now();
        const segments = await engine.transcribe(channel, { language: "en" });
        wall += performance.now() - started;
        seconds += channel.seconds;
        const heard = segments.filter(
          (s) => !music.some((m) => s.start >= m.start - 0.25 && s.end <= m.end + 0.25),
        );
        hyps.push(heard.map((s) => s.text).join(" "));
        refs.push(
          call.utterances
            .filter((u) => channel.role === "mixed" || u.speaker === channel.role)
            .map((u) => u.text)
            .join(" "),
        );
      }
    }
    const fixtures = wordErrorRate(refs, hyps);
    rows.push({
      engine: label,
      audio: "fixture calls: synthetic speech, 8 kHz µ-law, per channel",
      seconds,
      rtf: wall / 1000 / seconds,
      wer: fixtures.wer,
      words: fixtures.words,
      note: "",
    });
    const real = librivoxUtterances();
    if (real.length > 0 && bandFillDbfs === defaultBandFillDbfs) {
      let realSeconds = 0;
      let realWall = 0;
      const realHyps: string[] = [];
      for (const u of real) {
        const channelSeconds = (statSync(u.path).size - 44) / 32_000;
        const started = performance.now();
        const segments = await engine.transcribe(
          { path: u.path, seconds: channelSeconds, role: "mixed" },
          { language: "en" },
        );
        realWall += performance.now() - started;
        realSeconds += channelSeconds;
        realHyps.push(segments.map((s) => s.text).join(" "));
      }
      const rate = wordErrorRate(
        real.map((u) => u.text),
        realHyps,
      );
      rows.push({
        engine: label,
        audio: "pocketsphinx-testdata: real read speech, 16 kHz",
        seconds: realSeconds,
        rtf: realWall / 1000 / realSeconds,
        wer: rate.wer,
        words: rate.words,
        note: "",
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** Phrase spotting (+ rough transcript) and the transcript alone against the fixture labels, through the pipeline's own code. */
async function measureAgreement(engines: Engines) {
  const labels = audioLabels();
  const definition = parseProfileDefinition(fixtureProfile(labels, { transcriptTwins: true }));
  const blobs = createFsBlobStore(audioFixtureDir);
  let spotted = 0;
  let transcript = 0;
  let spottingSeconds = 0;
  let spottingWall = 0;
  const misses: string[] = [];
  const settings = { engines, decode };
  for (const call of labels.calls) {
    const interaction = { language: null, accountId: "bench", id: call.name } as unknown as InteractionRecord;
    const phrases = Object.values(labels.kpiPhrases).flatMap((p) => p.phrases);
    const started = performance.now();
    const media = await analyseMedia(
      settings,
      blobs,
      interaction,
      { audio: [{ key: call.file, size: 0, sha256: "", contentType: null, url: "" }] },
      {
        options: defaultAnalysisSettings,
        transcribe: true,
        phrases,
      },
    );
    spottingWall += performance.now() - started;
    spottingSeconds += call.durationSeconds;
    const measures =
      media.audioMeasures !== null && "version" in media.audioMeasures ? media.audioMeasures : null;
    const results = scoreProfile(definition, {
      transcript: media.transcript ? redactTranscript(media.transcript) : null,
      channelType: "VOICE",
      durationSeconds: null,
      audio: measures,
      speech: media.speech,
    });
    const byId = new Map<string, KpiResult>(results.map((r) => [r.kpiId, r]));
    for (const [kpi, expected] of Object.entries(call.kpis)) {
      const heard = byId.get(kpi)!;
      const read = byId.get(`${kpi}_text`)!;
      if (heard.answer === expected) spotted++;
      else misses.push(`${call.name}/${kpi}: ${heard.answer} (labelled ${expected})`);
      if (read.answer === expected) transcript++;
      else misses.push(`${call.name}/${kpi} (transcript only): ${read.answer} (labelled ${expected})`);
    }
  }
  const answers = labels.calls.length * Object.keys(labels.kpiPhrases).length;
  return {
    spotted: spotted / answers,
    transcript: transcript / answers,
    answers,
    misses,
    spottingSeconds,
    spottingWall,
  };
}

/** A 20-KPI profile of the text evaluators (phrases, windows, triggers, sentiment) on supplied transcripts. */
function twentyKpiProfile(): unknown {
  const phrases: [string, string[], Record<string, unknown>][] = [
    [
      "greeting",
      ["thank you for calling", "good morning", "how can I help"],
      { window: { first_seconds: 30, first_turns: 2 } },
    ],
    ["name", ["my name is"], { window: { first_turns: 3 } }],
    ["verification", ["date of birth", "postcode", "first line of your address"], {}],
    ["empathy", ["sorry to hear", "I understand", "I can imagine"], {}],
    ["ownership", ["I will", "let me", "I'll sort"], {}],
    ["hold-permission", ["put you on hold", "bear with me"], {}],
    ["refund", ["refund", "credit"], {}],
    ["timescale", ["working days", "within"], {}],
    ["anything-else", ["anything else"], { window: { last_turns: 4 } }],
    ["closing", ["have a great day", "goodbye", "thanks for calling"], { window: { last_turns: 3 } }],
    ["recap", ["to summarise", "so just to confirm"], {}],
    ["survey", ["short survey"], {}],
    ["callback", ["call you back"], {}],
    ["reference", ["reference number"], {}],
    ["consent", ["recorded for quality"], {}],
  ];
  const present = phrases.map(([id, list, extra]) => ({
    id,
    name: id,
    question: `Did the agent cover ${id}?`,
    allow_na: true,
    evaluator: { type: "phrase_present", phrases: list, ...extra },
  }));
  const absent = ["stupid", "not my problem", "calm down"].map((p) => ({
    id: `no-${p.replace(/ /g, "-")}`,
    name: `No "${p}"`,
    question: `Did the agent avoid "${p}"?`,
    criticality: "fatal",
    evaluator: { type: "phrase_absent", phrases: [p] },
  }));
  const hold = {
    id: "hold-thanks",
    name: "Thanks after hold",
    question: "Did the agent thank the customer for holding?",
    allow_na: true,
    evaluator: {
      type: "phrase_present",
      phrases: ["thank you for holding", "thanks for waiting"],
      applies_when: { phrase_present: { phrases: ["put you on hold"] } },
    },
  };
  const mood = {
    id: "mood",
    name: "Customer mood improves",
    question: "Did the customer end happier than they started?",
    allow_na: true,
    evaluator: { type: "sentiment", speaker: "customer", expect: "improves" },
  };
  return {
    name: "Benchmark: 20 KPIs",
    categories: [
      { name: "All", sub_categories: [{ name: "All", kpis: [...present, ...absent, hold, mood] }] },
    ],
  };
}

const sampleTranscript = `[00:00:02] Agent: Good morning, thank you for calling Northwind Energy, my name is Priya. How can I help you today?
[00:00:09] Customer: Hi Priya. I've been charged twice for my March bill and I'm not happy about it.
[00:00:15] Agent: Oh no, I'm sorry to hear that. I can imagine that's really frustrating. Let's get it sorted.
[00:00:22] Agent: Before I look at the account, can you confirm your full name and date of birth for me, please?
[00:00:29] Customer: Sure, it's Daniel Okafor, twelfth of June 1984. My card is 4111 1111 1111 1111 if you need it.
[00:00:35] Agent: Thank you Daniel. And the first line of your address?
[00:00:39] Customer: 14 Mill Lane.
[00:00:43] Agent: Perfect, you're verified. Let me check the payments, I'll just put you on hold for a moment.
[00:01:58] Agent: Thank you for holding, Daniel. I can see the duplicate payment of £86.40 on the fourth.
[00:02:08] Agent: I've raised a refund, it should be back in your account within three to five working days.
[00:02:15] Customer: Great, thanks for sorting that, that's a relief.
[00:02:18] Agent: You're welcome. Is there anything else I can help you with today?
[00:02:22] Customer: No, that's everything.
[00:02:24] Agent: Thank you for calling Northwind Energy, have a great day.
[00:02:27] Customer: You too, bye.`;

/** Parse + redact + score, in-process, for about `seconds`: the scoring stage of the pipeline. */
function measureScoring(seconds: number) {
  const definition = parseProfileDefinition(twentyKpiProfile());
  const kpis = definition.categories.flatMap((c) => c.subCategories.flatMap((s) => s.kpis)).length;
  // Distinct texts, so nothing is cached across interactions.
  const texts = Array.from({ length: 200 }, (_, i) =>
    sampleTranscript.replace("Daniel", `Daniel ${i}`).replace("Priya", `Priya ${i % 17}`),
  );
  for (const text of texts.slice(0, 50))
    scoreProfile(definition, {
      transcript: redactTranscript(parseTranscript(text)),
      channelType: "VOICE",
      durationSeconds: 150,
    });
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const text = texts[done % texts.length]!;
    scoreProfile(definition, {
      transcript: redactTranscript(parseTranscript(text)),
      channelType: "VOICE",
      durationSeconds: 150,
    });
    done++;
  }
  return { interactionsPerSecond: done / ((performance.now() - started) / 1000), kpis, interactions: done };
}

/** Runs every analysis measurement it can on this machine. */
export async function measureAnalysis(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<AnalysisFigures> {
  const notes: string[] = [];
  const labels = audioLabels();
  options.log("  audio measures (one core) …");
  const measures = await measureAudioMeasures(labels.calls, options.quick ? 3 : 10);
  options.log(`  audio measures: ${Math.round(measures.timesRealTime)} × real time`);

  const engines = await detectEngines({
    transcriber: "auto",
    ffmpegPath: "ffmpeg",
    pocketsphinx: defaultPocketSphinx,
    openai: process.env["CQA_TRANSCRIBE_URL"]
      ? {
          baseUrl: process.env["CQA_TRANSCRIBE_URL"],
          apiKey: process.env["CQA_TRANSCRIBE_API_KEY"] ?? null,
          model: process.env["CQA_TRANSCRIBE_MODEL"] ?? "whisper-1",
          timeoutMs: 300_000,
          maxAttempts: 3,
          requestsPerMinute: null,
        }
      : null,
    llm: null,
  });
  const rows: EngineRow[] = [];
  const sphinx = engines.speech.get("pocketsphinx");
  if (sphinx instanceof PocketSphinxEngine) {
    options.log("  PocketSphinx transcription …");
    rows.push(...(await measureEngine(sphinx, labels.calls, defaultBandFillDbfs, "PocketSphinx (offline)")));
    if (!options.quick) {
      const bare = await measureEngine(sphinx, labels.calls, -400, "PocketSphinx, upper band not filled");
      rows.push(
        ...bare.map((r) => ({ ...r, note: "8 kHz audio upsampled without the noise fill, for comparison" })),
      );
    }
  } else {
    rows.push({
      engine: "PocketSphinx (offline)",
      audio: "—",
      seconds: 0,
      rtf: null,
      wer: null,
      words: 0,
      note: `not measured: ${engines.statuses.find((s) => s.name === "pocketsphinx")?.detail}`,
    });
  }
  const served = engines.speech.get("openai");
  if (served) {
    options.log("  OpenAI-compatible server transcription …");
    rows.push(...(await measureEngine(served, labels.calls, defaultBandFillDbfs, served.label)));
  } else {
    rows.push({
      engine: "OpenAI-compatible server",
      audio: "—",
      seconds: 0,
      rtf: null,
      wer: null,
      words: 0,
      note: "not measured: set CQA_TRANSCRIBE_URL (and _API_KEY, _MODEL) to include one",
    });
  }

  let agreement: AnalysisFigures["agreement"] = null;
  if (engines.spotter) {
    options.log("  phrase spotting agreement …");
    const measured = await measureAgreement(engines);
    agreement = {
      spotted: measured.spotted,
      transcript: measured.transcript,
      answers: measured.answers,
      misses: measured.misses,
    };
    notes.push(
      `Listening to a call (transcription and spotting of both channels, with decoding and measures) took ${(measured.spottingWall / 1000 / measured.spottingSeconds).toFixed(2)} × its duration on one core.`,
    );
  } else {
    notes.push("Phrase-spotting agreement not measured: PocketSphinx is not installed.");
  }
  options.log("  scoring throughput …");
  const scoring = measureScoring(options.quick ? 2 : 5);
  return {
    date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    machine: `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown"}), Node ${process.version}`,
    measures,
    engines: rows,
    agreement,
    scoring,
    notes,
  };
}

const percent = (v: number) => `${(v * 100).toFixed(1)} %`;

/** The generated section of docs/benchmarks.md. */
export function analysisSection(f: AnalysisFigures): string {
  const met = f.measures.timesRealTime >= measuresAimTimesRealTime ? "met" : "not met";
  const lines = [
    `Measured ${f.date} on ${f.machine}.`,
    "",
    "| figure | value | aim |",
    "| --- | ---: | --- |",
    `| audio measures (decode + voice activity + measures), × real time per core | ${Math.round(f.measures.timesRealTime).toLocaleString("en-GB")} × (${Math.round(f.measures.audioSeconds).toLocaleString("en-GB")} s of audio in ${f.measures.cpuSeconds.toFixed(1)} s CPU) | ≥ ${measuresAimTimesRealTime} × — ${met} |`,
  ];
  if (f.agreement) {
    lines.push(
      `| KPI answers agreeing with the labels: phrase spotting + rough transcript | ${percent(f.agreement.spotted)} of ${f.agreement.answers} | test fails below 85 % |`,
      `| KPI answers agreeing with the labels: rough transcript alone | ${percent(f.agreement.transcript)} of ${f.agreement.answers} | test fails below 75 % |`,
    );
  }
  if (f.scoring) {
    lines.push(
      `| scoring a ${f.scoring.kpis}-KPI profile on supplied transcripts (parse + redact + score, one core) | ${Math.round(f.scoring.interactionsPerSecond).toLocaleString("en-GB")} interactions/s | — |`,
    );
  }
  lines.push(
    "",
    "| engine | audio | seconds | real-time factor | word error rate | words | note |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ...f.engines.map(
      (r) =>
        `| ${r.engine} | ${r.audio} | ${r.seconds ? r.seconds.toFixed(0) : "—"} | ${r.rtf === null ? "—" : r.rtf.toFixed(3)} | ${r.wer === null ? "—" : percent(r.wer)} | ${r.words || "—"} | ${r.note} |`,
    ),
    "",
    ...f.notes.map((n) => `- ${n}`),
  );
  if (f.agreement && f.agreement.misses.length > 0) {
    lines.push(`- Answers that disagreed with the labels: ${f.agreement.misses.join("; ")}.`);
  }
  return lines.join("\n");
}

/** Where the analysis figures go on the results page. */
export const analysisBlock: GeneratedBlock = { name: "analysis", heading: "Analysis figures" };
