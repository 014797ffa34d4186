import { type CallField, type CallFieldNames, callFields } from "./config.ts";
import { parseDuration, parseTime } from "./dateTimes.ts";

/** How a row becomes a conversation: where its fields are and how its times are written. */
export interface RowMapping {
  names: CallFieldNames;
  dateFormat: string;
  timeZone: string;
  source: string;
  /** The recording's URL for a call SID (the Voice Log API). */
  recordingUrl(callSid: string): string;
  /** Reads a field by its configured name (a CSV header, or a dotted JSON path). */
  read(row: Record<string, unknown>, name: string): unknown;
  /** The row's own names (headers / top-level keys) that a configured name covers. */
  covers(name: string): string;
}

/** Logical fields that become metadata under their own name. */
const metadataFields: readonly CallField[] = [
  "agent_id",
  "agent_name",
  "campaign",
  "queue",
  "direction",
  "customer_number",
  "disposition",
];

/** A row as cqa's canonical interaction, or why it cannot be one. */
export type MappedRow =
  | { ok: true; callSid: string; item: Record<string, unknown>; cursorTime?: Date }
  | { ok: false; callSid: string | null; reason: string };

function text(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * Maps one call row to the Standard API's item: the call SID is the external id, the recording is the
 * Voice Log API's URL for it, the default fields become metadata under their own names, and every other
 * plain value of the row becomes metadata as it is named in the row.
 */
export function mapCallRow(row: Record<string, unknown>, mapping: RowMapping): MappedRow {
  const { names } = mapping;
  const callSid = text(mapping.read(row, names.call_sid));
  if (callSid === null) {
    return { ok: false, callSid: null, reason: `The row has no call SID (field '${names.call_sid}')` };
  }
  if (callSid.length > 255) {
    return { ok: false, callSid: callSid.slice(0, 60), reason: "The call SID is longer than 255 characters" };
  }
  const item: Record<string, unknown> = {
    external_interaction_id: callSid,
    channel_type: "VOICE",
    source: mapping.source,
    audio_url: mapping.recordingUrl(callSid),
  };
  const startText = text(mapping.read(row, names.start_time));
  if (startText !== null) {
    const start = parseTime(startText, mapping.dateFormat, mapping.timeZone);
    if (typeof start === "string") {
      return {
        ok: false,
        callSid,
        reason: `The start time (field '${names.start_time}') ${start}; check date_format`,
      };
    }
    item["interaction_start_time"] = start.toISOString();
  }
  const durationText = text(mapping.read(row, names.duration));
  if (durationText !== null) {
    const seconds = parseDuration(durationText);
    if (typeof seconds === "string") {
      return { ok: false, callSid, reason: `The duration (field '${names.duration}') ${seconds}` };
    }
    item["duration_seconds"] = seconds;
  }
  const metadata: Record<string, string | number | boolean> = {};
  const used = new Set(callFields.map((field) => mapping.covers(names[field])));
  for (const [key, value] of Object.entries(row)) {
    if (used.has(key) || key === "") continue;
    if (
      typeof value === "string"
        ? value.trim() !== ""
        : typeof value === "number" || typeof value === "boolean"
    ) {
      metadata[key.slice(0, 128)] = typeof value === "string" ? value.trim() : (value as number | boolean);
    }
  }
  for (const field of metadataFields) {
    const value = mapping.read(row, names[field]);
    const shown = typeof value === "number" || typeof value === "boolean" ? value : text(value);
    if (shown !== null && shown !== undefined) metadata[field] = shown;
  }
  if (Object.keys(metadata).length > 0) item["metadata"] = metadata;
  return { ok: true, callSid, item };
}

/** Reads a dotted path (`call.agent.id`) of a JSON row. */
export function readPath(row: unknown, path: string): unknown {
  let current: unknown = row;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
