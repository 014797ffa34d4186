import type { Kpi, KpiEvaluation } from "../../core/qualityProfile.ts";
import type { Transcript } from "../../core/transcript.ts";
import { checkApplicability } from "./applicability.ts";
import { saidSentence } from "./describeFindings.ts";
import { evaluatePhraseAbsent } from "./phraseAbsent.ts";
import { evaluatePhrasePresent } from "./phrasePresent.ts";
import { toEvidence } from "./phraseSearch.ts";

/** What an evaluator may look at besides the KPI: the conversation and its facts. */
export interface EvaluationContext {
  transcript: Transcript | null;
  channelType: string;
  durationSeconds: number | null;
}

/**
 * Answers one KPI for one conversation with a justification and evidence. N/A when there is no
 * transcript (nothing to judge), or when the KPI's `appliesWhen` does not hold and the KPI allows N/A;
 * a KPI that does not allow N/A is then evaluated anyway and the justification says so. When a trigger
 * phrase made the KPI apply, only the conversation from the trigger on is checked.
 */
export function evaluateKpi(kpi: Kpi, context: EvaluationContext): KpiEvaluation {
  const { transcript } = context;
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
  }
}
