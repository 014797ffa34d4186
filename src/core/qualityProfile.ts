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
    };

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
