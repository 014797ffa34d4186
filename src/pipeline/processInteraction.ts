import { markRedactedBySource, redactTranscript } from "../analysis/redaction/redactTranscript.ts";
import { parseTranscript } from "../analysis/transcript/parseTranscript.ts";
import { analysisOptionsFor } from "../core/analysisSettings.ts";
import type { RoutingDecision } from "../core/assignment.ts";
import type { Clock } from "../core/clock.ts";
import { AppError, describeError, isAppError } from "../core/errors.ts";
import type { Transcript, TranscriptTurn } from "../core/transcript.ts";
import { type ProcessInteractionPayload, processInteractionJob } from "../ingest/ingestInteractions.ts";
import { splitUrlList } from "../ingest/interactionSchema.ts";
import type { FetchOwner } from "../net/credentialedFetch.ts";
import { routeInteraction } from "../routing/routeInteraction.ts";
import { writeAnalysisRun } from "../storage/analysisRuns.ts";
import type { Database } from "../storage/db.ts";
import type { ClaimedJob } from "../storage/jobQueue.ts";
import { addToOutbox, type OutboxMessage } from "../storage/outbox.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import { updateAnalysis } from "../storage/repositories/analyses.ts";
import {
  type InteractionMedia,
  type InteractionRecord,
  type InteractionStateChange,
  lockInteraction,
  routableFacts,
  startProcessing,
  updateInteractionState,
} from "../storage/repositories/interactions.ts";
import { AccountConfigCache, type AccountPipelineConfig } from "./accountConfigCache.ts";
import {
  analyseMedia,
  assertAnalysable,
  type MediaAnalysis,
  type MediaAnalysisSettings,
} from "./analyseMedia.ts";
import { analysisFailedEvent, deliverableEvents } from "./analysisEvents.ts";
import { fetchTranscript, type MediaFetchSettings, storeRecording } from "./fetchMedia.ts";
import type { JobCompletion, JobHandler } from "./jobWorker.ts";
import { scoreAndRecordAnalyses } from "./recordAnalyses.ts";
import { notAnalysable, phrasesToSpot } from "./scoringInputs.ts";

export interface ProcessInteractionDependencies {
  db: Database;
  clock: Clock;
  media: MediaFetchSettings;
  /**
   * Decoding, audio measures and speech engines. Absent: recordings are stored but not listened to,
   * and audio-only calls are scored N/A with the reason.
   */
  analysis?: MediaAnalysisSettings;
  /** Each account's rules, profiles and settings, kept between interactions (default: a new one). */
  configs?: AccountConfigCache;
  /** Called after each commit with the events it queued, so local dispatchers send them at once. */
  onEventsQueued?: (events: readonly OutboxMessage[]) => void;
}

type Pipeline = ProcessInteractionDependencies & { configs: AccountConfigCache };

/** How long a missing recording is waited for in all (the back-off between tries grows to 1 h). */
const mediaWaitAttempts = 20;

/**
 * The pipeline for one interaction: fetch media → transcript → route by assignment rules →
 * score each profile → complete, the analyses, the interaction's end state, their webhooks and the
 * job's end written at once. Safe to run again after a crash: analyses and events are keyed, so
 * nothing is added twice.
 */
export function processInteractionHandler(deps: ProcessInteractionDependencies): JobHandler {
  const pipeline: Pipeline = { ...deps, configs: deps.configs ?? new AccountConfigCache() };
  return {
    kind: processInteractionJob,
    run: (job, _signal, completion) => processInteraction(pipeline, job, completion),
    onGiveUp: (job, error) => failInteraction(pipeline, job.payload as ProcessInteractionPayload, error),
    backoffMs: (attempt, error) =>
      isAppError(error) && error.code === "MEDIA_NOT_READY"
        ? Math.min(30_000 * 2 ** (attempt - 1), 3_600_000)
        : Math.min(5_000 * 2 ** (attempt - 1), 600_000),
  };
}

async function processInteraction(
  deps: Pipeline,
  job: ClaimedJob,
  completion: JobCompletion | undefined,
): Promise<void> {
  const payload = job.payload as ProcessInteractionPayload;
  const { db, clock } = deps;
  const started = await startProcessing(db, payload.interactionId, payload.revision, clock.now());
  // Gone, finished, or superseded by a reprocess: nothing to do.
  if (!started) return;
  const { interaction } = started;
  const config = await deps.configs.get(db, interaction.accountId, started.accountConfigVersion);

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
  let decision = route(config, interaction);
  let listened: Listened;
  try {
    listened = await listen(deps, config, interaction, media, transcript, decision.profileIds);
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
  const heard: InteractionStateChange = {
    media,
    transcript,
    audioMeasures: listened.media.audioMeasures,
    speech: listened.media.speech,
    waitingReason: null,
  };

  if (decision.profileIds.length === 0) {
    await writeAnalysisRun(
      db,
      {
        interactionId: interaction.id,
        interaction: {
          ...heard,
          status: "completed",
          routing: decision,
          notAnalysedReason: decision.summary,
        },
        analyses: [],
        rerunProfileIds: [],
        events: [],
        lease: completion?.lease ?? null,
      },
      clock.now(),
    );
    completion?.completed();
    return;
  }

  await scoreAndRecordAnalyses(
    {
      db,
      clock,
      chat: deps.analysis?.engines.chat ?? null,
      ...(deps.onEventsQueued ? { onEventsQueued: deps.onEventsQueued } : {}),
    },
    {
      interaction,
      revision: payload.revision,
      decision,
      profiles: decision.profileIds.flatMap((id) => config.profiles.get(id) ?? []),
      existing: started.analyses,
      heard,
      inputs: {
        transcript,
        channelType: interaction.channelType,
        durationSeconds: interaction.durationSeconds,
        audio:
          listened.media.audioMeasures !== null && "version" in listened.media.audioMeasures
            ? listened.media.audioMeasures
            : null,
        audioMissingReason: listened.audioMissingReason,
        speech: listened.media.speech,
      },
      webhooksEnabled: config.webhooksEnabled,
    },
    completion,
  );
}

/** The profiles the account's rules give the interaction, leaving out archived ones (and saying so). */
function route(config: AccountPipelineConfig, interaction: InteractionRecord): RoutingDecision {
  const decision = routeInteraction(config.rules, routableFacts(interaction));
  // A rule may point at a profile that was archived since: say so rather than fail.
  const missing = decision.profileIds.filter((id) => !config.profiles.has(id));
  if (missing.length === 0) return decision;
  const profileIds = decision.profileIds.filter((id) => config.profiles.has(id));
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
  config: AccountPipelineConfig,
  interaction: InteractionRecord,
  media: InteractionMedia,
  supplied: Transcript | null,
  profileIds: string[],
): Promise<Listened> {
  const options = analysisOptionsFor(config.settings, interaction.integrationId);
  const hasRecording = Boolean(media.uploadedAudioKey || media.audio?.length);
  let result: MediaAnalysis = { audioMeasures: null, failure: null, transcript: null, speech: null };
  if (deps.analysis && hasRecording) {
    const profiles = profileIds.flatMap((id) => {
      const profile = config.profiles.get(id);
      return profile ? [profile.definition] : [];
    });
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
  const queued = await deps.db.transaction(async (tx) => {
    const interaction = await lockInteraction(tx, payload.interactionId);
    if (!interaction || interaction.processingRevision !== payload.revision) return null;
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
    const webhooksEnabled = (await getAccount(tx, interaction.accountId))?.webhooksEnabled ?? false;
    const deliverable = deliverableEvents(events, webhooksEnabled);
    await addToOutbox(tx, deliverable, now);
    return deliverable;
  });
  if (queued) deps.onEventsQueued?.(queued);
}
