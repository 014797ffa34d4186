import { buildLlmMessages, type LlmOutcome, parseLlmReply } from "../analysis/scoring/llmEvaluator.ts";
import type { RoutingDecision } from "../core/assignment.ts";
import { describeError } from "../core/errors.ts";
import type { Kpi, ProfileDefinition } from "../core/qualityProfile.ts";
import type { Transcript } from "../core/transcript.ts";
import type { ChatClient } from "../engines/chatClient.ts";
import type { MediaAnalysis } from "./analyseMedia.ts";

/** A recording shorter than this is not analysed (an abandoned or misdialled call). */
export const minAnalysableSeconds = 2;

function kpisOf(definition: ProfileDefinition): Kpi[] {
  return definition.categories.flatMap((c) => c.subCategories.flatMap((s) => s.kpis));
}

/** The phrases of the profiles' `phrase_spotted` KPIs: what the spotter listens for. */
export function phrasesToSpot(definitions: readonly ProfileDefinition[]): string[] {
  const phrases = new Set<string>();
  for (const definition of definitions) {
    for (const kpi of kpisOf(definition)) {
      if (kpi.evaluator.type === "phrase_spotted") for (const p of kpi.evaluator.phrases) phrases.add(p);
    }
  }
  return [...phrases];
}

/** Whether scoring the profile asks the language model (it has `llm` KPIs). */
export function usesLanguageModel(definition: ProfileDefinition): boolean {
  return kpisOf(definition).some((kpi) => kpi.evaluator.type === "llm");
}

/**
 * Asks the chat model each `llm` KPI of a profile, one request per KPI. A timeout or failure becomes
 * that KPI's outcome (N/A with the reason), never an exception that fails the whole analysis.
 */
export async function askLanguageModel(
  chat: ChatClient | null,
  definition: ProfileDefinition,
  transcript: Transcript | null,
): Promise<Map<string, LlmOutcome>> {
  const outcomes = new Map<string, LlmOutcome>();
  const kpis = kpisOf(definition).filter((k) => k.evaluator.type === "llm");
  if (chat === null || transcript === null || transcript.turns.length === 0) return outcomes;
  for (const kpi of kpis) {
    if (kpi.evaluator.type !== "llm") continue;
    try {
      const content = await chat.completeJson(
        buildLlmMessages(kpi, kpi.evaluator, transcript),
        `KPI "${kpi.name}"`,
      );
      outcomes.set(kpi.id, parseLlmReply(content));
    } catch (error) {
      outcomes.set(kpi.id, { ok: false, reason: describeError(error) });
    }
  }
  return outcomes;
}

/**
 * A routed call whose recording gives nothing to analyse — too short, or without any speech — and
 * that has no supplied transcript is not analysed, and the decision says why.
 */
export function notAnalysable(
  decision: RoutingDecision,
  media: MediaAnalysis,
  suppliedTranscript: boolean,
): RoutingDecision | null {
  const measures = media.audioMeasures;
  if (decision.profileIds.length === 0 || suppliedTranscript || measures === null || !("version" in measures))
    return null;
  if (measures.durationSeconds < minAnalysableSeconds) {
    return {
      ...decision,
      profileIds: [],
      notAnalysedReason: "too_short",
      summary: `Not analysed: the recording lasts ${measures.durationSeconds} s, too short to analyse (under ${minAnalysableSeconds} s).`,
    };
  }
  if (measures.talkSeconds.total === 0) {
    return {
      ...decision,
      profileIds: [],
      notAnalysedReason: "no_speech",
      summary: `Not analysed: no speech was detected in the ${measures.durationSeconds} s recording (silence or noise only).`,
    };
  }
  return null;
}
