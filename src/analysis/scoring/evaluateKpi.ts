import type { AudioMeasures, SpeechAnalysis } from "../../core/audio.ts";
import type { Kpi, KpiEvaluation } from "../../core/qualityProfile.ts";
import type { Transcript } from "../../core/transcript.ts";
import { checkApplicability } from "./applicability.ts";
import { evaluateAudioMeasure } from "./audioMeasure.ts";
import { saidSentence } from "./describeFindings.ts";
import { evaluateLlm, type LlmOutcome } from "./llmEvaluator.ts";
import { evaluatePhraseAbsent } from "./phraseAbsent.ts";
import { evaluatePhrasePresent } from "./phrasePresent.ts";
import { toEvidence } from "./phraseSearch.ts";
import { evaluatePhraseSpotted } from "./phraseSpotted.ts";
import { evaluateSentiment } from "./sentiment.ts";

/** What an evaluator may look at besides the KPI: the conversation and its facts. */
export interface EvaluationContext {
  transcript: Transcript | null;
  channelType: string;
  durationSeconds: number | null;
  /** Measures of the recording; null without one (or when it could not be decoded). */
  audio?: AudioMeasures | null;
  /** Why there are no measures ("No recording was sent"), for N/A justifications. */
  audioMissingReason?: string;
  /** Phrases heard in the recording by keyword spotting, and which engines ran. */
  speech?: SpeechAnalysis | null;
  /** Answers of the language model to `llm` KPIs, by KPI id (asked before scoring). */
  llm?: ReadonlyMap<string, LlmOutcome>;
  /** Which model answered `llm` KPIs, for the justification. */
  llmLabel?: string;
}

/**
 * Answers one KPI for one conversation with a justification and evidence. N/A when there is no
 * transcript (nothing to judge), or when the KPI's `appliesWhen` does not hold and the KPI allows N/A;
 * a KPI that does not allow N/A is then evaluated anyway and the justification says so. When a trigger
 * phrase made the KPI apply, only the conversation from the trigger on is checked.
 */
export function evaluateKpi(kpi: Kpi, context: EvaluationContext): KpiEvaluation {
  const { transcript } = context;
  const evaluator = kpi.evaluator;
  // Audio measures and spotting answer from the recording: a transcript is needed only to check
  // whether the KPI applies when it has trigger phrases or a minimum of turns.
  if (
    (evaluator.type === "audio_measure" || evaluator.type === "phrase_spotted") &&
    (transcript === null || transcript.turns.length === 0)
  ) {
    const when = evaluator.appliesWhen;
    if (when?.phrasePresent !== undefined || when?.minTurns !== undefined) {
      return {
        answer: "N/A",
        justification:
          "Whether this KPI applies depends on what was said, and there is no transcript to tell.",
        evidence: [],
      };
    }
    const channels = when?.channels;
    if (
      channels !== undefined &&
      !channels.some((c) => c.trim().toUpperCase() === context.channelType.trim().toUpperCase())
    ) {
      return {
        answer: "N/A",
        justification: `Not applicable: this KPI applies only to ${channels.join(" or ")} conversations.`,
        evidence: [],
      };
    }
    return evaluator.type === "audio_measure"
      ? evaluateAudioMeasure(
          evaluator,
          context.audio ?? null,
          context.audioMissingReason ?? "No recording was measured",
        )
      : evaluatePhraseSpotted(
          evaluator,
          null,
          context.speech ?? null,
          context.audio?.durationSeconds ?? context.durationSeconds,
        );
  }
  if (transcript === null || transcript.turns.length === 0) {
    const why = transcript === null ? "No transcript was available" : "The transcript has no turns";
    const exception = kpi.allowNa ? "" : " N/A is used although this KPI does not otherwise allow it.";
    return {
      answer: "N/A",
      justification: `${why}: there is nothing to check "${kpi.name}" against, so it is answered N/A.${exception}`,
      evidence: [],
    };
  }

  const applicability = checkApplicability(kpi.evaluator.appliesWhen, transcript, context.channelType);
  if (!applicability.applies && kpi.allowNa) {
    return { answer: "N/A", justification: `Not applicable: ${applicability.reason}.`, evidence: [] };
  }

  // What a trigger calls for comes after it: thanks for holding count only once the hold began.
  const fromTurnIndex = applicability.applies ? (applicability.trigger?.turn.index ?? 0) : 0;
  const evaluation = runEvaluator(kpi, context, transcript, fromTurnIndex);
  if (!applicability.applies) {
    return {
      ...evaluation,
      justification: `${evaluation.justification} (This KPI does not allow N/A, so it was scored although ${applicability.reason}.)`,
    };
  }
  const trigger = applicability.trigger;
  if (trigger === null) return evaluation;
  // The moment that made the KPI apply (e.g. the hold) is evidence a reviewer will look for first.
  return {
    answer: evaluation.answer,
    justification: `${evaluation.justification} It applies because ${saidSentence(trigger, false)}; only what was said from then on was checked.`,
    evidence: [toEvidence(trigger), ...evaluation.evidence],
  };
}

function runEvaluator(
  kpi: Kpi,
  context: EvaluationContext,
  transcript: Transcript,
  fromTurnIndex: number,
): KpiEvaluation {
  const evaluator = kpi.evaluator;
  switch (evaluator.type) {
    case "phrase_present":
      return evaluatePhrasePresent(evaluator, transcript, context.durationSeconds, fromTurnIndex);
    case "phrase_absent":
      return evaluatePhraseAbsent(evaluator, transcript, fromTurnIndex);
    case "audio_measure":
      return evaluateAudioMeasure(
        evaluator,
        context.audio ?? null,
        context.audioMissingReason ?? "No recording was measured",
      );
    case "phrase_spotted":
      return evaluatePhraseSpotted(
        evaluator,
        fromTurnIndex === 0
          ? transcript
          : { ...transcript, turns: transcript.turns.filter((t) => t.index >= fromTurnIndex) },
        context.speech ?? null,
        context.audio?.durationSeconds ?? context.durationSeconds,
      );
    case "sentiment":
      return evaluateSentiment(evaluator, transcript);
    case "llm":
      return evaluateLlm(kpi, context.llm?.get(kpi.id), transcript, context.llmLabel ?? "Language model");
  }
}
