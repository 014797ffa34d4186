import { markRedactedBySource, redactTranscript } from "../analysis/redaction/redactTranscript.ts";
import type { EvaluationContext } from "../analysis/scoring/evaluateKpi.ts";
import { type ProfileScores, rollUp, scoreProfile } from "../analysis/scoring/scoreProfile.ts";
import { parseTranscript } from "../analysis/transcript/parseTranscript.ts";
import { analysisOptionsFor } from "../core/analysisSettings.ts";
import type { RoutingDecision } from "../core/assignment.ts";
import type { Clock } from "../core/clock.ts";
import { AppError, describeError, isAppError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import type { Transcript, TranscriptTurn } from "../core/transcript.ts";
import { type ProcessInteractionPayload, processInteractionJob } from "../ingest/ingestInteractions.ts";
import { splitUrlList } from "../ingest/interactionSchema.ts";
import type { FetchOwner } from "../net/credentialedFetch.ts";
import { routeInteraction } from "../routing/routeInteraction.ts";
import type { Database, Queryable } from "../storage/db.ts";
import type { ClaimedJob } from "../storage/jobQueue.ts";
import { addToOutbox, type OutboxMessage } from "../storage/outbox.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import { type AnalysisRecord, ensureAnalyses, updateAnalysis } from "../storage/repositories/analyses.ts";
import { getAnalysisSettings } from "../storage/repositories/analysisSettings.ts";
import {
  getInteractionById,
  type InteractionMedia,
  type InteractionRecord,
  lockInteraction,
  routableFacts,
  updateInteractionState,
} from "../storage/repositories/interactions.ts";
import { existingProfileIds, getProfile } from "../storage/repositories/profiles.ts";
import { latestReviews } from "../storage/repositories/reviews.ts";
import { listRules } from "../storage/repositories/rules.ts";
import {
  analyseMedia,
  assertAnalysable,
  type MediaAnalysis,
  type MediaAnalysisSettings,
} from "./analyseMedia.ts";
import { analysisCompletedEvent, analysisFailedEvent, analysisInProgressEvent } from "./analysisEvents.ts";
import { fetchTranscript, type MediaFetchSettings, storeRecording } from "./fetchMedia.ts";
import type { JobHandler } from "./jobWorker.ts";
import { askLanguageModel, notAnalysable, phrasesToSpot } from "./scoringInputs.ts";

export interface ProcessInteractionDependencies {
  db: Database;
  clock: Clock;
  media: MediaFetchSettings;
  /**
   * Decoding, audio measures and speech engines. Absent: recordings are stored but not listened to,
   * and audio-only calls are scored N/A with the reason.
   */
  analysis?: MediaAnalysisSettings;
}

/** How long a missing recording is waited for in all (the back-off between tries grows to 1 h). */
const mediaWaitAttempts = 20;

/**
 * The pipeline for one interaction: fetch media → transcript → route by assignment rules →
 * score each profile → complete, with every state change and its webhooks in one transaction.
 * Safe to run again after a crash: analyses and events are keyed, so nothing is added twice.
 */
export function processInteractionHandler(deps: ProcessInteractionDependencies): JobHandler {
  return {
    kind: processInteractionJob,
    run: (job) => processInteraction(deps, job),
    onGiveUp: (job, error) => failInteraction(deps, job.payload as ProcessInteractionPayload, error),
    backoffMs: (attempt, error) =>
      isAppError(error) && error.code === "MEDIA_NOT_READY"
        ? Math.min(30_000 * 2 ** (attempt - 1), 3_600_000)
        : Math.min(5_000 * 2 ** (attempt - 1), 600_000),
  };
}

async function processInteraction(deps: ProcessInteractionDependencies, job: ClaimedJob): Promise<void> {
  const payload = job.payload as ProcessInteractionPayload;
  const { db, clock } = deps;
  const interaction = await getInteractionById(db, payload.interactionId);
  if (!interaction || interaction.processingRevision !== payload.revision) return;
  if (interaction.status === "completed" || interaction.status === "failed") return;

  if (interaction.status === "queued") {
    await updateInteractionState(db, interaction.id, { status: "processing" }, clock.now());
  }

  let media: InteractionMedia;
  let transcript: Transcript | null;
  try {
    media = await fetchRecordings(deps, interaction);
    transcript = await buildTranscript(deps, interaction, media);
  } catch (error) {
    if (isAppError(error) && error.code === "MEDIA_NOT_READY") {
      if (job.attempts >= mediaWaitAttempts) throw mediaGaveUp(error, job.attempts);
      // Waiting is not failing: the interaction shows why it waits and goes back to the queue.
      await updateInteractionState(
        db,
        interaction.id,
        { status: "queued", waitingReason: error.message },
        clock.now(),
      );
    }
    throw error;
  }
  let decision = await route(deps, interaction);
  let listened: Listened;
  try {
    listened = await listen(deps, interaction, media, transcript, decision.profileIds);
  } catch (error) {
    // An engine that asked to be tried later (429, timeout): the interaction shows why it waits.
    if (isAppError(error) && error.retryable) {
      await updateInteractionState(
        db,
        interaction.id,
        { status: "queued", waitingReason: error.message },
        clock.now(),
      );
    }
    throw error;
  }
  transcript = listened.transcript;
  decision =
    notAnalysable(decision, listened.media, transcript !== null && !listened.machineTranscript) ?? decision;
  await updateInteractionState(
    db,
    interaction.id,
    {
      media,
      transcript,
      audioMeasures: listened.media.audioMeasures,
      speech: listened.media.speech,
      waitingReason: null,
    },
    clock.now(),
  );

  if (decision.profileIds.length === 0) {
    await db.transaction(async (tx) => {
      await settleAnalysesNotRerun(tx, interaction.id, [], clock.now());
      await updateInteractionState(
        tx,
        interaction.id,
        { status: "completed", routing: decision, notAnalysedReason: decision.summary },
        clock.now(),
      );
    });
    return;
  }

  const subject = { accountId: interaction.accountId, interaction };
  const analyses = await db.transaction(async (tx) => {
    const versions = await Promise.all(
      decision.profileIds.map(async (profileId) => {
        const profile = await getProfile(tx, interaction.accountId, profileId);
        return { profileId, version: profile?.version ?? 1, name: profile?.name ?? profileId };
      }),
    );
    const existing = await ensureAnalyses(
      tx,
      versions.map((v) => ({
        id: newId(),
        accountId: interaction.accountId,
        interactionId: interaction.id,
        profileId: v.profileId,
        profileVersion: v.version,
      })),
      clock.now(),
    );
    // A reprocess re-scores the same analyses with the profiles' current versions.
    const rows = existing.map((analysis) => ({
      ...analysis,
      profileVersion:
        versions.find((v) => v.profileId === analysis.profileId)?.version ?? analysis.profileVersion,
    }));
    const now = clock.now();
    const events: OutboxMessage[] = [];
    await settleAnalysesNotRerun(tx, interaction.id, decision.profileIds, now);
    for (const analysis of rows) {
      await updateAnalysis(
        tx,
        analysis.id,
        {
          status: "processing",
          startedAt: now,
          revision: payload.revision,
          failureReason: null,
          profileVersion: analysis.profileVersion,
        },
        now,
      );
      const name = versions.find((v) => v.profileId === analysis.profileId)?.name ?? analysis.profileId;
      events.push(
        ...analysisInProgressEvent(
          subject,
          { id: analysis.id, profileId: analysis.profileId, profileName: name, revision: payload.revision },
          now,
        ),
      );
    }
    await updateInteractionState(tx, interaction.id, { routing: decision, notAnalysedReason: null }, now);
    await addToOutbox(tx, await deliverable(tx, interaction.accountId, events), now);
    return rows;
  });

  const inputs: EvaluationContext = {
    transcript,
    channelType: interaction.channelType,
    durationSeconds: interaction.durationSeconds,
    audio:
      listened.media.audioMeasures !== null && "version" in listened.media.audioMeasures
        ? listened.media.audioMeasures
        : null,
    audioMissingReason: listened.audioMissingReason,
    speech: listened.media.speech,
  };
  const outcomes = await Promise.all(
    analyses.map((analysis) => scoreAnalysis(deps, interaction, inputs, analysis)),
  );

  await db.transaction(async (tx) => {
    const now = clock.now();
    const events: OutboxMessage[] = [];
    for (const outcome of outcomes) {
      const { analysis } = outcome;
      if (outcome.scores) {
        await updateAnalysis(
          tx,
          analysis.id,
          {
            status: "completed",
            aiScore: outcome.scores.aiScore,
            qaScore: outcome.scores.qaScore,
            finalScore: outcome.scores.finalScore,
            criticalityAdjustedScore: outcome.scores.criticalityAdjustedScore,
            maxScore: outcome.scores.maxScore,
            results: outcome.results,
            completedAt: now,
            failureReason: null,
          },
          now,
        );
        events.push(
          ...analysisCompletedEvent(
            subject,
            { id: analysis.id, profileId: analysis.profileId, revision: payload.revision, completedAt: now },
            outcome.scores,
            now,
          ),
        );
      } else {
        await updateAnalysis(
          tx,
          analysis.id,
          { status: "failed", failureReason: outcome.error, completedAt: now },
          now,
        );
        events.push(
          ...analysisFailedEvent(
            subject,
            { errorCode: "ANALYSIS_FAILED", errorMessage: outcome.error, revision: payload.revision },
            { id: analysis.id, profileId: analysis.profileId },
            now,
          ),
        );
      }
    }
    const allFailed = outcomes.every((o) => !o.scores);
    await updateInteractionState(
      tx,
      interaction.id,
      {
        status: allFailed ? "failed" : "completed",
        failureReason: allFailed ? `Every analysis failed: ${outcomes.map((o) => o.error).join("; ")}` : null,
      },
      now,
    );
    await addToOutbox(tx, await deliverable(tx, interaction.accountId, events), now);
  });
}

type ScoreOutcome =
  | {
      analysis: AnalysisRecord;
      scores: ProfileScores;
      results: ReturnType<typeof scoreProfile>;
      error?: undefined;
    }
  | { analysis: AnalysisRecord; scores?: undefined; results?: undefined; error: string };

async function scoreAnalysis(
  deps: ProcessInteractionDependencies,
  interaction: InteractionRecord,
  inputs: EvaluationContext,
  analysis: AnalysisRecord,
): Promise<ScoreOutcome> {
  try {
    const profile = await getProfile(
      deps.db,
      interaction.accountId,
      analysis.profileId,
      analysis.profileVersion,
    );
    if (!profile) {
      return {
        analysis,
        error: `Quality profile ${analysis.profileId} version ${analysis.profileVersion} no longer exists`,
      };
    }
    const chat = deps.analysis?.engines.chat ?? null;
    const llm = await askLanguageModel(chat, profile.definition, inputs.transcript);
    const results = scoreProfile(profile.definition, {
      ...inputs,
      llm,
      ...(chat ? { llmLabel: chat.label } : {}),
    });
    const reviews = await latestReviews(deps.db, analysis.id);
    return { analysis, results, scores: rollUp(profile.definition, results, reviews) };
  } catch (error) {
    return { analysis, error: `Scoring failed: ${describeError(error)}` };
  }
}

async function route(
  deps: ProcessInteractionDependencies,
  interaction: InteractionRecord,
): Promise<RoutingDecision> {
  const rules = await listRules(deps.db, interaction.accountId);
  const decision = routeInteraction(rules, routableFacts(interaction));
  // A rule may point at a profile that was archived since: say so rather than fail.
  const live = await existingProfileIds(deps.db, interaction.accountId, decision.profileIds);
  const missing = decision.profileIds.filter((id) => !live.has(id));
  if (missing.length === 0) return decision;
  const profileIds = decision.profileIds.filter((id) => live.has(id));
  const note = `Profile(s) ${missing.join(", ")} named by the matching rule are archived or deleted and were skipped.`;
  return {
    ...decision,
    profileIds,
    summary: profileIds.length === 0 ? `Not analysed: ${note}` : `${decision.summary} ${note}`,
  };
}

async function fetchRecordings(
  deps: ProcessInteractionDependencies,
  interaction: InteractionRecord,
): Promise<InteractionMedia> {
  const media: InteractionMedia = { ...interaction.media };
  if (!interaction.audioUrl || media.uploadedAudioKey) return media;
  const urls = splitUrlList(interaction.audioUrl);
  const stored = media.audio ?? [];
  for (const [index, url] of urls.entries()) {
    if (stored.some((s) => s.url === url)) continue;
    const key = `recordings/${interaction.accountId}/${interaction.id}/audio-${index}`;
    const blob = await storeRecording(url, key, deps.media, mediaOwner(interaction));
    stored.push({ key: blob.key, size: blob.size, sha256: blob.sha256, contentType: blob.contentType, url });
    // Remember each recording as soon as it is stored, so a retry does not download it again.
    media.audio = stored;
    await updateInteractionState(deps.db, interaction.id, { media }, deps.clock.now());
  }
  return media;
}

/** Whose credentials open the interaction's URLs: its account's, and its integration's. */
function mediaOwner(interaction: InteractionRecord): FetchOwner {
  return {
    accountId: interaction.accountId,
    integrationId: interaction.integrationId,
    externalInteractionId: interaction.externalInteractionId,
  };
}

async function buildTranscript(
  deps: ProcessInteractionDependencies,
  interaction: InteractionRecord,
  media: InteractionMedia,
): Promise<Transcript | null> {
  if (interaction.transcriptUrl) {
    const parts: Transcript[] = [];
    for (const url of splitUrlList(interaction.transcriptUrl)) {
      const fetched = await fetchTranscript(url, deps.media, mediaOwner(interaction));
      parts.push(
        parseTranscript(fetched.text, { format: "auto", ...optional(fetched.contentType, fetched.fileName) }),
      );
    }
    media.transcriptSource = {
      key: null,
      url: interaction.transcriptUrl,
      format: parts[0]?.format ?? "plain",
    };
    return joinTranscripts(parts);
  }
  if (interaction.transcriptText) {
    const transcript = parseTranscript(interaction.transcriptText, { format: "auto" });
    media.transcriptSource = { key: null, url: null, format: transcript.format };
    return transcript;
  }
  return null;
}

/** What listening to the recording gave, with the transcript to score (supplied or made, redacted). */
interface Listened {
  media: MediaAnalysis;
  transcript: Transcript | null;
  /** The transcript was made by a speech engine (not supplied by the source). */
  machineTranscript: boolean;
  audioMissingReason: string;
}

/**
 * Measures the recording, transcribes it when no transcript was supplied and a profile will score
 * the call, listens for the profiles' spotted phrases, then redacts personal data from whichever
 * transcript there is (unless the source says it already did, or the account turned it off).
 */
async function listen(
  deps: ProcessInteractionDependencies,
  interaction: InteractionRecord,
  media: InteractionMedia,
  supplied: Transcript | null,
  profileIds: string[],
): Promise<Listened> {
  const settings = await getAnalysisSettings(deps.db, interaction.accountId);
  const options = analysisOptionsFor(settings, interaction.integrationId);
  const hasRecording = Boolean(media.uploadedAudioKey || media.audio?.length);
  let result: MediaAnalysis = { audioMeasures: null, failure: null, transcript: null, speech: null };
  if (deps.analysis && hasRecording) {
    const profiles = (
      await Promise.all(profileIds.map((id) => getProfile(deps.db, interaction.accountId, id)))
    ).flatMap((p) => (p ? [p.definition] : []));
    result = await analyseMedia(deps.analysis, deps.media.blobs, interaction, media, {
      options,
      transcribe: supplied === null && profileIds.length > 0,
      phrases: phrasesToSpot(profiles),
    });
    assertAnalysable(result, supplied !== null);
  }
  const made = supplied === null ? result.transcript : null;
  let transcript = supplied ?? made;
  if (transcript !== null) {
    transcript = interaction.piiRedacted
      ? markRedactedBySource(transcript)
      : options.redactPii
        ? redactTranscript(transcript)
        : {
            ...transcript,
            redaction: "off" as const,
            notes: [...transcript.notes, "PII redaction is turned off for this account."],
          };
  }
  const audioMissingReason = !hasRecording
    ? "No recording was sent with this conversation"
    : !deps.analysis
      ? "Recordings are not analysed by this server"
      : result.failure
        ? `The recording could not be decoded (${result.failure.message})`
        : "No recording was measured";
  return { media: result, transcript, machineTranscript: made !== null, audioMissingReason };
}

function optional(contentType: string | null, fileName: string): { contentType?: string; fileName?: string } {
  return { ...(contentType ? { contentType } : {}), ...(fileName ? { fileName } : {}) };
}

/** Several transcript files of one conversation, in the order given, as one transcript. */
function joinTranscripts(parts: Transcript[]): Transcript | null {
  const first = parts[0];
  if (!first) return null;
  if (parts.length === 1) return first;
  const turns: TranscriptTurn[] = parts.flatMap((p) => p.turns).map((turn, index) => ({ ...turn, index }));
  return {
    format: first.format,
    turns,
    timed: parts.every((p) => p.timed),
    notes: [
      ...parts.flatMap((p) => p.notes),
      `Joined from ${parts.length} transcript files in the order given.`,
    ],
  };
}

/**
 * Analyses a reprocess queued whose profile the rules no longer select are not re-run: they go back to
 * their earlier result (or stay failed) instead of waiting in `queued` for ever.
 */
async function settleAnalysesNotRerun(
  tx: Queryable,
  interactionId: string,
  rerunProfileIds: string[],
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE analyses SET status = CASE WHEN results IS NOT NULL THEN 'completed' ELSE 'failed' END,
       failure_reason = CASE WHEN results IS NOT NULL THEN failure_reason ELSE COALESCE(failure_reason, $3) END,
       updated_at = $4
     WHERE interaction_id = $1 AND status = 'queued' AND NOT (profile_id = ANY($2::uuid[]))`,
    [
      interactionId,
      rerunProfileIds,
      "Not re-run when the interaction was reprocessed: the assignment rules no longer select this profile",
      now,
    ],
  );
}

/** The events to write: webhooks only when the account's webhook flag is on; integration results always. */
async function deliverable(
  tx: Parameters<typeof getAccount>[0],
  accountId: string,
  events: OutboxMessage[],
): Promise<OutboxMessage[]> {
  if (events.every((e) => e.channel !== "webhook")) return events;
  const webhooksEnabled = (await getAccount(tx, accountId))?.webhooksEnabled ?? false;
  return webhooksEnabled ? events : events.filter((e) => e.channel !== "webhook");
}

function mediaGaveUp(error: AppError, attempts: number): AppError {
  return new AppError("MEDIA_NOT_READY", `${error.message}; gave up after ${attempts} attempts`, {
    cause: error,
    retryable: false,
  });
}

/** Webhook error codes for the reasons an interaction can fail. */
function failureCode(error: unknown): string {
  if (!isAppError(error)) return "ANALYSIS_FAILED";
  switch (error.code) {
    case "MEDIA_NOT_READY":
      return "MEDIA_NOT_AVAILABLE";
    case "FETCH_FAILED":
    case "FETCH_REFUSED":
      return "MEDIA_FETCH_FAILED";
    case "MEDIA_INVALID":
      return "MEDIA_INVALID";
    case "TRANSCRIPT_INVALID":
      return "TRANSCRIPT_INVALID";
    default:
      return "ANALYSIS_FAILED";
  }
}

/** Marks an interaction failed for good, with the reason, and reports it to its callback. */
async function failInteraction(
  deps: ProcessInteractionDependencies,
  payload: ProcessInteractionPayload,
  error: unknown,
): Promise<void> {
  const reason = describeError(error);
  await deps.db.transaction(async (tx) => {
    const interaction = await lockInteraction(tx, payload.interactionId);
    if (!interaction || interaction.processingRevision !== payload.revision) return;
    const now = deps.clock.now();
    await updateInteractionState(
      tx,
      interaction.id,
      { status: "failed", failureReason: reason, waitingReason: null },
      now,
    );
    const analyses = await tx.query<{ id: string; profile_id: string }>(
      "SELECT id, profile_id FROM analyses WHERE interaction_id = $1 AND status IN ('queued', 'processing')",
      [interaction.id],
    );
    const events: OutboxMessage[] = [];
    const subject = { accountId: interaction.accountId, interaction };
    const failure = { errorCode: failureCode(error), errorMessage: reason, revision: payload.revision };
    for (const row of analyses.rows) {
      await updateAnalysis(tx, row.id, { status: "failed", failureReason: reason, completedAt: now }, now);
      events.push(...analysisFailedEvent(subject, failure, { id: row.id, profileId: row.profile_id }, now));
    }
    if (analyses.rows.length === 0) events.push(...analysisFailedEvent(subject, failure, null, now));
    await addToOutbox(tx, await deliverable(tx, interaction.accountId, events), now);
  });
}
