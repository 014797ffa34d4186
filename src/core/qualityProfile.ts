import type { AudioMeasureName } from "./audio.ts";
import type { Evidence } from "./transcript.ts";

/** The answers an evaluator can give. */
export type KpiAnswer = "Yes" | "No" | "Partially" | "N/A";

export type Criticality = "normal" | "critical" | "fatal";

/** One selectable answer of a KPI and the points it is worth. */
export interface KpiOption {
  uid: string;
  /** The answer this option stands for; a reviewer may pick any option. */
  value: KpiAnswer;
  label: string;
  score: number;
}

export type SpeakerFilter = "agent" | "customer" | "any";

/** Where in the conversation a phrase must be said. */
export interface PhraseWindow {
  firstSeconds?: number;
  lastSeconds?: number;
  firstTurns?: number;
  lastTurns?: number;
}

/** When a KPI applies; when it does not, it is answered N/A and leaves the denominator. */
export interface Applicability {
  /** Applies only if one of these phrases is said (e.g. hold etiquette only when a hold happened). */
  phrasePresent?: { phrases: string[]; speaker?: SpeakerFilter; minSimilarity?: number };
  /** Applies only to these channels (VOICE, CHAT…). */
  channels?: string[];
  /** Applies only when the conversation has at least this many turns. */
  minTurns?: number;
}

export type EvaluatorConfig =
  | {
      type: "phrase_present";
      phrases: string[];
      /** "any": one phrase suffices; "all": every phrase is needed (some → Partially). */
      match?: "any" | "all";
      speaker?: SpeakerFilter;
      window?: PhraseWindow;
      /** 0..1, how close a fuzzy match must be; default 0.8. */
      minSimilarity?: number;
      /** Said, but outside the window: Partially instead of No. Default true. */
      partialOutsideWindow?: boolean;
      appliesWhen?: Applicability;
    }
  | {
      type: "phrase_absent";
      phrases: string[];
      speaker?: SpeakerFilter;
      minSimilarity?: number;
      appliesWhen?: Applicability;
    }
  | AudioMeasureEvaluator
  | PhraseSpottedEvaluator
  | SentimentEvaluator
  | LlmEvaluator;

/** A threshold on a measure of the recording ("dead air under 10 %", "no silence over 30 s"). */
export interface AudioMeasureEvaluator {
  type: "audio_measure";
  measure: AudioMeasureName;
  /** Yes when `measure <operator> value` (or within min..max for `between`). */
  operator: "lt" | "lte" | "gt" | "gte" | "between";
  value?: number;
  min?: number;
  max?: number;
  /** Missed by no more than this (in the measure's unit): Partially instead of No. */
  partialMargin?: number;
  appliesWhen?: Applicability;
}

/** A phrase heard in the recording by keyword spotting, or read in the (rough) transcript. */
export interface PhraseSpottedEvaluator {
  type: "phrase_spotted";
  phrases: string[];
  speaker?: SpeakerFilter;
  window?: Pick<PhraseWindow, "firstSeconds" | "lastSeconds">;
  /** How close a transcript match must be (0..1, default 0.8). */
  minSimilarity?: number;
  /** How sure the spotter must be of a hit heard in the audio (0..1, default 0.9). */
  minConfidence?: number;
  appliesWhen?: Applicability;
}

/** The mood of one party, at the start of the call against its end. */
export interface SentimentEvaluator {
  type: "sentiment";
  speaker: "agent" | "customer";
  /**
   * improves: ends better than it started (or stays positive); not_worse: does not end worse;
   * positive_end: ends positive; not_negative: not negative overall.
   */
  expect: "improves" | "not_worse" | "positive_end" | "not_negative";
  appliesWhen?: Applicability;
}

/** A question put to a language model (any OpenAI-compatible chat endpoint) about the transcript. */
export interface LlmEvaluator {
  type: "llm";
  /** What to judge, in the QA manager's words; the KPI's question is sent with it. */
  prompt: string;
  appliesWhen?: Applicability;
}

export interface Kpi {
  id: string;
  name: string;
  question: string;
  criticality: Criticality;
  allowNa: boolean;
  options: KpiOption[];
  evaluator: EvaluatorConfig;
  /** Shown to the agent when the answer is not Yes. */
  suggestion?: string;
}

export interface SubCategory {
  id: string;
  name: string;
  kpis: Kpi[];
}

export interface Category {
  id: string;
  name: string;
  subCategories: SubCategory[];
}

/** One version of a quality profile: the tree of categories, sub-categories and KPIs. */
export interface ProfileDefinition {
  name: string;
  description?: string;
  categories: Category[];
}

/** What an evaluator concluded about one KPI. */
export interface KpiEvaluation {
  answer: KpiAnswer;
  justification: string;
  evidence: Evidence[];
}

/** The AI result of one KPI as stored with the analysis. */
export interface KpiResult extends KpiEvaluation {
  kpiId: string;
  optionUid: string | null;
  aiScore: number;
  maxScore: number;
  suggestion?: string;
}

/** A QA reviewer's override of one KPI (the latest per KPI applies). */
export interface KpiReview {
  kpiId: string;
  optionUid: string | null;
  optionValue: string | null;
  score: number;
  justification: string | null;
  userComment: string | null;
}
