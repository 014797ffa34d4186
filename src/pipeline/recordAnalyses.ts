import type { EvaluationContext } from "../analysis/scoring/evaluateKpi.ts";
import { type ProfileScores, rollUp, scoreProfile } from "../analysis/scoring/scoreProfile.ts";
import type { RoutingDecision } from "../core/assignment.ts";
import type { Clock } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import type { KpiResult } from "../core/qualityProfile.ts";
import type { ChatClient } from "../engines/chatClient.ts";
import { writeAnalysisRun } from "../storage/analysisRuns.ts";
import type { Database } from "../storage/db.ts";
import type { OutboxMessage } from "../storage/outbox.ts";
import type { AnalysisRunState } from "../storage/repositories/analyses.ts";
import type {
  ExistingAnalysis,
  InteractionRecord,
  InteractionStateChange,
} from "../storage/repositories/interactions.ts";
import type { ProfileRecord } from "../storage/repositories/profiles.ts";
import { latestReviewsOf } from "../storage/repositories/reviews.ts";
import {
  analysisCompletedEvent,
  analysisFailedEvent,
  analysisInProgressEvent,
  deliverableEvents,
} from "./analysisEvents.ts";
import type { JobCompletion } from "./jobWorker.ts";
import { askLanguageModel, usesLanguageModel } from "./scoringInputs.ts";

/** An interaction routed to at least one profile, with everything scoring reads. */
export interface RoutedInteraction {
  interaction: InteractionRecord;
  /** The processing revision of the job at hand. */
  revision: number;
  decision: RoutingDecision;
  /** The live profiles the decision names, at their current versions. */
  profiles: readonly ProfileRecord[];
  /** The analyses the interaction has from earlier runs (re-scored in place, same ids). */
  existing: readonly ExistingAnalysis[];
  /** What fetching and listening found, stored with the analyses. */
  heard: InteractionStateChange;
  inputs: EvaluationContext;
  webhooksEnabled: boolean;
}

export interface RecordAnalysesDependencies {
  db: Database;
  clock: Clock;
  /** The language model for `llm` KPIs, when the server has one. */
  chat: ChatClient | null;
  /** Called after each commit with the events it queued, so local dispatchers send them at once. */
  onEventsQueued?: (events: readonly OutboxMessage[]) => void;
}

/** One profile's analysis in this run: its row (an earlier run's, or a new one). */
interface Analysis {
  id: string;
  profile: ProfileRecord;
  /** It has results from an earlier run, so it may have been reviewed. */
  scored: boolean;
}

type Outcome =
  | { analysis: Analysis; scores: ProfileScores; results: KpiResult[]; error?: undefined }
  | { analysis: Analysis; scores?: undefined; results?: undefined; error: string };

/**
 * Scores each profile and writes the analyses, the interaction's end state, their events and the
 * job's end at once. Local scoring takes milliseconds, so the IN_PROGRESS events are written with the
 * results (before them, in the order receivers get them). When a profile asks a language model
 * (seconds per KPI), the analyses are first marked in progress on their own, so that receivers hear
 * IN_PROGRESS while the model works.
 */
export async function scoreAndRecordAnalyses(
  deps: RecordAnalysesDependencies,
  routed: RoutedInteraction,
  completion?: JobCompletion,
): Promise<void> {
  const { db, clock } = deps;
  const existing = new Map(routed.existing.map((a) => [a.profileId, a]));
  const analyses: Analysis[] = routed.profiles.map((profile) => {
    const earlier = existing.get(profile.id);
    return { id: earlier?.id ?? newId(), profile, scored: earlier?.scored ?? false };
  });
  const interactionId = routed.interaction.id;
  const rerunProfileIds = routed.profiles.map((p) => p.id);

  const slow = deps.chat !== null && routed.profiles.some((p) => usesLanguageModel(p.definition));
  if (slow) {
    const now = clock.now();
    const events = deliverableEvents(inProgressEvents(routed, analyses, now), routed.webhooksEnabled);
    await writeAnalysisRun(
      db,
      {
        interactionId,
        interaction: { ...routed.heard, routing: routed.decision, notAnalysedReason: null },
        analyses: analyses.map((analysis) => runState(routed, analysis, { status: "processing", now })),
        rerunProfileIds,
        events,
        lease: null,
      },
      now,
    );
    deps.onEventsQueued?.(events);
  }

  const evaluations = await Promise.all(analyses.map((analysis) => evaluate(deps, routed, analysis)));
  const reviews = await latestReviewsOf(
    db,
    analyses.filter((a) => a.scored).map((a) => a.id),
  );
  const outcomes = analyses.map((analysis, index): Outcome => {
    const evaluation = evaluations[index]!;
    if ("error" in evaluation) return { analysis, error: evaluation.error };
    try {
      const scores = rollUp(analysis.profile.definition, evaluation.results, reviews.get(analysis.id) ?? []);
      return { analysis, scores, results: evaluation.results };
    } catch (error) {
      return { analysis, error: `Scoring failed: ${describeError(error)}` };
    }
  });

  const now = clock.now();
  const allFailed = outcomes.every((o) => !o.scores);
  const events = deliverableEvents(
    [...(slow ? [] : inProgressEvents(routed, analyses, now)), ...resultEvents(routed, outcomes, now)],
    routed.webhooksEnabled,
  );
  await writeAnalysisRun(
    db,
    {
      interactionId,
      interaction: {
        ...(slow ? {} : { ...routed.heard, routing: routed.decision, notAnalysedReason: null }),
        status: allFailed ? "failed" : "completed",
        failureReason: allFailed ? `Every analysis failed: ${outcomes.map((o) => o.error).join("; ")}` : null,
      },
      analyses: outcomes.map((outcome) =>
        runState(routed, outcome.analysis, {
          status: outcome.scores ? "completed" : "failed",
          now,
          started: !slow,
          outcome,
        }),
      ),
      rerunProfileIds: slow ? null : rerunProfileIds,
      events,
      lease: completion?.lease ?? null,
    },
    now,
  );
  completion?.completed();
  deps.onEventsQueued?.(events);
}

/** What is written of an analysis: in progress (a slow run's first step) or its outcome. */
function runState(
  routed: RoutedInteraction,
  analysis: Analysis,
  step: { status: AnalysisRunState["status"]; now: Date; started?: boolean; outcome?: Outcome },
): AnalysisRunState {
  const { outcome, now } = step;
  return {
    id: analysis.id,
    accountId: routed.interaction.accountId,
    interactionId: routed.interaction.id,
    profileId: analysis.profile.id,
    profileVersion: analysis.profile.version,
    revision: routed.revision,
    status: step.status,
    startedAt: step.status === "processing" || step.started ? now : null,
    completedAt: outcome ? now : null,
    failureReason: outcome?.error ?? null,
    scores: outcome?.scores
      ? {
          aiScore: outcome.scores.aiScore,
          qaScore: outcome.scores.qaScore,
          finalScore: outcome.scores.finalScore,
          criticalityAdjustedScore: outcome.scores.criticalityAdjustedScore,
          maxScore: outcome.scores.maxScore,
        }
      : null,
    results: outcome?.results ?? null,
  };
}

/** Answers every KPI of a profile (asking the language model first when the profile has `llm` KPIs). */
async function evaluate(
  deps: RecordAnalysesDependencies,
  routed: RoutedInteraction,
  analysis: Analysis,
): Promise<{ results: KpiResult[] } | { error: string }> {
  try {
    const { definition } = analysis.profile;
    const llm = await askLanguageModel(deps.chat, definition, routed.inputs.transcript);
    return {
      results: scoreProfile(definition, {
        ...routed.inputs,
        llm,
        ...(deps.chat ? { llmLabel: deps.chat.label } : {}),
      }),
    };
  } catch (error) {
    return { error: `Scoring failed: ${describeError(error)}` };
  }
}

function subjectOf(routed: RoutedInteraction) {
  return { accountId: routed.interaction.accountId, interaction: routed.interaction };
}

function inProgressEvents(
  routed: RoutedInteraction,
  analyses: readonly Analysis[],
  now: Date,
): OutboxMessage[] {
  return analyses.flatMap(({ id, profile }) =>
    analysisInProgressEvent(
      subjectOf(routed),
      { id, profileId: profile.id, profileName: profile.name, revision: routed.revision },
      now,
    ),
  );
}

function resultEvents(routed: RoutedInteraction, outcomes: readonly Outcome[], now: Date): OutboxMessage[] {
  return outcomes.flatMap((outcome) =>
    outcome.scores
      ? analysisCompletedEvent(
          subjectOf(routed),
          {
            id: outcome.analysis.id,
            profileId: outcome.analysis.profile.id,
            revision: routed.revision,
            completedAt: now,
          },
          outcome.scores,
          now,
        )
      : analysisFailedEvent(
          subjectOf(routed),
          { errorCode: "ANALYSIS_FAILED", errorMessage: outcome.error, revision: routed.revision },
          { id: outcome.analysis.id, profileId: outcome.analysis.profile.id },
          now,
        ),
  );
}
