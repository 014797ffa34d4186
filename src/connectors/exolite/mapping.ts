import type { UnreadableRecord } from "../connector.ts";
import type { ExoliteCall } from "./client.ts";
import type { ExoliteConfig } from "./config.ts";
import { parseExoliteTime } from "./windows.ts";

/** What to do with one call of a page. */
export type CallDecision =
  | { kind: "ingest"; sid: string; createdAt: Date; item: Record<string, unknown>; raw: string }
  /** No recording (yet) or fields still empty, but young enough to be filled: a later run looks again. */
  | { kind: "later"; sid: string; createdAt: Date }
  /** Final without a recording (missed, failed, recording off): nothing to analyse. */
  | { kind: "skip"; sid: string; createdAt: Date }
  | { kind: "unreadable"; record: UnreadableRecord; createdAt: Date | null };

const text = (value: unknown): string | null =>
  typeof value === "string" && value.trim() !== "" ? value.trim() : null;

/** Duration in whole seconds: the Duration field, else EndTime − StartTime; null while not filled. */
export function callDurationSeconds(call: ExoliteCall, timeZone: string): number | null {
  const raw = call.Duration;
  const value =
    typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  if (Number.isFinite(value) && value >= 0) return Math.round(value);
  const start = parseExoliteTime(call.StartTime, timeZone);
  const end = parseExoliteTime(call.EndTime, timeZone);
  if (start && end && end >= start) return Math.round((end.getTime() - start.getTime()) / 1000);
  return null;
}

/** The recording URL cqa fetches for a call, per the config (RecordingUrl or the pre-signed one). */
export function recordingUrlOf(call: ExoliteCall, config: ExoliteConfig): string | null {
  const url =
    config.recording.source === "presigned" ? text(call.PreSignedRecordingUrl) : text(call.RecordingUrl);
  return url && /^https?:\/\//i.test(url) ? url : null;
}

/**
 * Maps one call of the bulk call API to the Standard API item, or says why not now. `settledBefore`:
 * calls created before it are final (fields still empty then stay empty); younger ones may still be
 * filled in, so they are left for a later run.
 */
export function decideCall(
  call: ExoliteCall,
  config: ExoliteConfig,
  timeZone: string,
  settledBefore: Date,
): CallDecision {
  const raw = JSON.stringify(call);
  const sid = text(call.Sid);
  const createdAt = parseExoliteTime(call.DateCreated, timeZone);
  if (!sid || !createdAt) {
    return {
      kind: "unreadable",
      createdAt,
      record: {
        sourceRef: `call ${sid ?? "(no Sid)"}`,
        raw,
        code: "VALIDATION_ERROR",
        reason: !sid
          ? "The call has no Sid, so it cannot be told apart from others"
          : `The call's DateCreated '${String(call.DateCreated)}' is not a YYYY-MM-DD HH:mm:ss time`,
      },
    };
  }
  const recording = recordingUrlOf(call, config);
  const duration = callDurationSeconds(call, timeZone);
  const settled = createdAt < settledBefore;
  if (!recording) return { kind: settled ? "skip" : "later", sid, createdAt };
  // Duration and end time arrive minutes after the call: wait for them while they may still come.
  if (duration === null && !settled) return { kind: "later", sid, createdAt };

  const metadata: Record<string, string | number | boolean> = {};
  const put = (key: string, value: unknown) => {
    const v = text(value);
    if (v !== null) metadata[key] = v.slice(0, 1000);
  };
  put("direction", call.Direction);
  put("from", call.From);
  put("to", call.To);
  put("exophone", call.PhoneNumberSid);
  put("call_status", call.Status);
  put("answered_by", call.AnsweredBy);
  metadata["exolite_account_sid"] = config.account_sid;

  const startedAt = parseExoliteTime(call.StartTime, timeZone) ?? createdAt;
  const item: Record<string, unknown> = {
    external_interaction_id: sid,
    channel_type: "VOICE",
    source: "exolite",
    interaction_start_time: startedAt.toISOString(),
    audio_url: recording,
    metadata,
  };
  if (duration !== null) item["duration_seconds"] = duration;
  const lower = recording.toLowerCase().split("?")[0] ?? "";
  const format = /\.(mp3|wav|ogg|m4a|flac)$/.exec(lower)?.[1];
  if (format) item["audio_format"] = format;
  return { kind: "ingest", sid, createdAt, item, raw };
}
