// The labelled call recordings of test/fixtures/audio (made by scripts/generate-audio-fixtures.ts)
// and the quality profile whose KPIs their labels answer.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const audioFixtureDir = join(root, "test", "fixtures", "audio");

export interface LabelledUtterance {
  speaker: "agent" | "customer";
  text: string;
  start: number;
  end: number;
  spans: [number, number][];
}

export interface LabelledCall {
  name: string;
  file: string;
  description: string;
  format: { container: string; codec: string; sampleRate: number; channels: number };
  durationSeconds: number;
  lineNoise: boolean;
  utterances: LabelledUtterance[];
  holds: { start: number; end: number; kind: "music" }[];
  expected: {
    talkSeconds: { agent: number | null; customer: number | null; total: number };
    silenceSeconds: number;
    silenceShare: number;
    longestSilenceSeconds: number;
    deadAirCount: number;
    overtalkCount: number | null;
    holdCount: number;
  };
  kpis: Record<string, "Yes" | "No">;
}

export interface KpiPhrases {
  phrases: string[];
  speaker: "agent" | "customer";
  firstSeconds?: number;
  lastSeconds?: number;
}

export interface AudioLabels {
  calls: LabelledCall[];
  kpiPhrases: Record<string, KpiPhrases>;
}

export function audioLabels(): AudioLabels {
  return JSON.parse(readFileSync(join(audioFixtureDir, "labels.json"), "utf8")) as AudioLabels;
}

export function fixtureRecording(call: LabelledCall): Buffer {
  return readFileSync(join(audioFixtureDir, call.file));
}

/** Real human speech shipped by Debian's pocketsphinx-testdata: 16 kHz read English with transcriptions. */
export const librivoxDir = "/usr/share/pocketsphinx/test/data/librivox";

export function librivoxUtterances(): { path: string; text: string }[] {
  const transcription = join(librivoxDir, "transcription");
  if (!existsSync(transcription)) return [];
  return readFileSync(transcription, "utf8")
    .split("\n")
    .flatMap((line) => {
      const match = /^<s> (.*) <\/s> \((.+)\)$/.exec(line.trim());
      return match ? [{ path: join(librivoxDir, `${match[2]}.wav`), text: match[1]! }] : [];
    });
}

/**
 * A quality profile (API form) with one `phrase_spotted` KPI per labelled KPI and the audio-measure
 * KPIs a QA team would set, plus `phrase_present` twins answered from the transcript alone.
 */
export function fixtureProfile(
  labels: AudioLabels,
  options: { transcriptTwins?: boolean } = {},
): Record<string, unknown> {
  const spotted = Object.entries(labels.kpiPhrases).map(([id, p]) => ({
    id,
    name: id.replace(/_/g, " "),
    question: `Did the ${p.speaker} say ${p.phrases.map((x) => `"${x}"`).join(" or ")}?`,
    evaluator: {
      type: "phrase_spotted",
      phrases: p.phrases,
      speaker: p.speaker,
      ...(p.firstSeconds || p.lastSeconds
        ? {
            window: {
              ...(p.firstSeconds ? { first_seconds: p.firstSeconds } : {}),
              ...(p.lastSeconds ? { last_seconds: p.lastSeconds } : {}),
            },
          }
        : {}),
    },
  }));
  const twins = Object.entries(labels.kpiPhrases).map(([id, p]) => ({
    id: `${id}_text`,
    name: `${id.replace(/_/g, " ")} (transcript)`,
    question: `Does the transcript show the ${p.speaker} saying ${p.phrases.map((x) => `"${x}"`).join(" or ")}?`,
    allow_na: true,
    evaluator: {
      type: "phrase_present",
      phrases: p.phrases,
      speaker: p.speaker,
      partial_outside_window: false,
      ...(p.firstSeconds
        ? { window: { first_seconds: p.firstSeconds } }
        : p.lastSeconds
          ? { window: { last_seconds: p.lastSeconds } }
          : {}),
    },
  }));
  const measures = [
    {
      id: "dead_air",
      name: "Dead air under 10 %",
      question: "Was dead air under 10 % of the call?",
      allow_na: true,
      evaluator: { type: "audio_measure", measure: "dead_air_share", operator: "lt", value: 0.1 },
    },
    {
      id: "no_long_silence",
      name: "No silence over 30 s",
      question: "Was every silence shorter than 30 seconds?",
      allow_na: true,
      evaluator: { type: "audio_measure", measure: "longest_silence_seconds", operator: "lte", value: 30 },
    },
    {
      id: "monologue",
      name: "No agent monologue over 15 s",
      question: "Did the agent let the customer speak at least every 15 seconds?",
      allow_na: true,
      evaluator: {
        type: "audio_measure",
        measure: "longest_agent_monologue_seconds",
        operator: "lte",
        value: 15,
        partial_margin: 5,
      },
    },
  ];
  return {
    name: "Fixture calls",
    categories: [
      {
        name: "Phrases",
        sub_categories: [{ name: "Heard", kpis: [...spotted, ...(options.transcriptTwins ? twins : [])] }],
      },
      { name: "Audio", sub_categories: [{ name: "Measures", kpis: measures }] },
    ],
  };
}
