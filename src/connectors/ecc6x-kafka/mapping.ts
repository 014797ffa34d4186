import type { Ecc6xKafkaConfig } from "./config.ts";

// Where a Kafka event becomes an interaction: an ECC6x conversation event (JSON) is mapped by the
// integration's field mapping to the Standard API's ingest item, which the canonical ingest path then
// validates. Events that cannot even be mapped are returned as poison with a reason.

/** The outcome of mapping one event: the canonical item, or why it is poison. */
export type MappedEvent =
  | { ok: true; externalId: string; item: Record<string, unknown> }
  | { ok: false; code: PoisonCode; reason: string };

/** Why an event could not be mapped (the dead letter's code and the dead-letter topic's header). */
export type PoisonCode = "TOO_LARGE" | "EMPTY" | "INVALID_JSON" | "WRONG_SCHEMA" | "MISSING_ID";

type EventSettings = Ecc6xKafkaConfig["event"];

/** Reads a dotted path (`agent.id`) from a parsed event. */
export function readPath(event: unknown, path: string | null): unknown {
  if (path === null) return undefined;
  let current: unknown = event;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Maps the bytes of one Kafka record to the canonical ingest item. */
export function mapEvent(value: Buffer | null, settings: EventSettings): MappedEvent {
  if (value === null || value.length === 0) {
    return {
      ok: false,
      code: "EMPTY",
      reason: "The record has no value (an empty or tombstone record); expected a JSON event",
    };
  }
  if (value.length > settings.max_bytes) {
    return {
      ok: false,
      code: "TOO_LARGE",
      reason: `The event is ${value.length} bytes, over the ${settings.max_bytes}-byte limit (event.max_bytes); send the transcript by URL or raise the limit`,
    };
  }
  let event: unknown;
  try {
    event = JSON.parse(value.toString("utf8"));
  } catch (error) {
    return {
      ok: false,
      code: "INVALID_JSON",
      reason: `The event is not JSON (${error instanceof Error ? error.message : String(error)}); ECC6x events are JSON objects`,
    };
  }
  return mapParsedEvent(event, settings);
}

/** Maps an already parsed event (also used to retry a dead letter). */
export function mapParsedEvent(event: unknown, settings: EventSettings): MappedEvent {
  if (event === null || typeof event !== "object" || Array.isArray(event)) {
    return {
      ok: false,
      code: "WRONG_SCHEMA",
      reason: `The event is JSON but not an object (got ${Array.isArray(event) ? "an array" : event === null ? "null" : typeof event}); see the event schema in docs/integrations/ecc6x-kafka.md`,
    };
  }
  const mapping = settings.mapping;
  const rawId = readPath(event, mapping.external_interaction_id);
  if (rawId === undefined || rawId === null || (typeof rawId === "string" && rawId.trim() === "")) {
    return {
      ok: false,
      code: "MISSING_ID",
      reason: `The event has no call id at '${mapping.external_interaction_id}' (event.mapping.external_interaction_id); every event needs one`,
    };
  }
  if (typeof rawId !== "string" && typeof rawId !== "number") {
    return {
      ok: false,
      code: "WRONG_SCHEMA",
      reason: `The call id at '${mapping.external_interaction_id}' must be a string or a number (got ${typeof rawId})`,
    };
  }
  const externalId = String(rawId);
  const metadata: Record<string, unknown> = {};
  const extra = readPath(event, mapping.metadata);
  if (extra !== undefined && extra !== null) {
    if (typeof extra !== "object" || Array.isArray(extra)) {
      return {
        ok: false,
        code: "WRONG_SCHEMA",
        reason: `'${mapping.metadata}' must be an object of key-value tags`,
      };
    }
    Object.assign(metadata, extra);
  }
  const tag = (key: string, path: string | null) => {
    const value = readPath(event, path);
    if (value !== undefined && value !== null && value !== "") metadata[key] = scalar(value);
  };
  tag("direction", mapping.direction);
  tag("agent_id", mapping.agent_id);
  tag("agent_name", mapping.agent_name);
  tag("campaign", mapping.campaign);
  const endTime = readPath(event, mapping.end_time);
  if (endTime !== undefined && endTime !== null && endTime !== "") metadata["end_time"] = timeValue(endTime);

  const item: Record<string, unknown> = {
    external_interaction_id: externalId,
    channel_type: stringOr(readPath(event, mapping.channel_type), settings.default_channel),
    source: settings.source,
  };
  const start = readPath(event, mapping.start_time);
  if (start !== undefined && start !== null && start !== "")
    item["interaction_start_time"] = timeValue(start);
  const duration = readPath(event, mapping.duration_seconds);
  if (duration !== undefined && duration !== null && duration !== "") {
    const seconds =
      typeof duration === "string" && /^\s*\d+(\.\d+)?\s*$/.test(duration) ? Number(duration) : duration;
    item["duration_seconds"] = typeof seconds === "number" ? Math.round(seconds) : seconds;
  }
  const recording = readPath(event, mapping.recording_url);
  const voiceLogId = readPath(event, mapping.voice_log_id);
  if (recording !== undefined && recording !== null && recording !== "") item["audio_url"] = recording;
  else if (
    settings.voice_log_url_template &&
    (typeof voiceLogId === "string" || typeof voiceLogId === "number") &&
    String(voiceLogId).trim() !== ""
  ) {
    item["audio_url"] = settings.voice_log_url_template.replaceAll(
      "{voice_log_id}",
      encodeURIComponent(String(voiceLogId)),
    );
  }
  if (voiceLogId !== undefined && voiceLogId !== null && voiceLogId !== "")
    metadata["voice_log_id"] = scalar(voiceLogId);
  const transcript = transcriptText(readPath(event, mapping.transcript));
  if (transcript !== undefined) item["transcript_text"] = transcript;
  const language = readPath(event, mapping.language);
  if (language !== undefined && language !== null && language !== "") item["language"] = language;
  if (Object.keys(metadata).length > 0) item["metadata"] = metadata;
  return { ok: true, externalId, item };
}

function stringOr(value: unknown, fallback: string): unknown {
  if (value === undefined || value === null || value === "") return fallback;
  return typeof value === "string" ? value.toUpperCase() : value;
}

/** Metadata values are scalars: objects are kept as their JSON text rather than refused. */
function scalar(value: unknown): unknown {
  return value !== null && typeof value === "object" ? JSON.stringify(value) : value;
}

/** Epoch milliseconds (number or digits) become ISO-8601; anything else is left for validation. */
function timeValue(value: unknown): unknown {
  const millis =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^\d{12,14}$/.test(value)
        ? Number(value)
        : null;
  if (millis === null || !Number.isFinite(millis)) return value;
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

/** A transcript as text, or as turns [{speaker, text}] joined as "Speaker: text" lines. */
function transcriptText(value: unknown): unknown {
  if (value === undefined || value === null || value === "") return undefined;
  if (!Array.isArray(value)) return value;
  return value
    .map((turn) => {
      if (turn === null || typeof turn !== "object") return String(turn);
      const t = turn as Record<string, unknown>;
      const speaker = t["speaker"] ?? t["role"] ?? t["party"];
      const text = t["text"] ?? t["utterance"] ?? "";
      const label =
        typeof speaker === "string" && speaker !== ""
          ? speaker[0]!.toUpperCase() + speaker.slice(1).toLowerCase()
          : "Speaker";
      return `${label}: ${String(text)}`;
    })
    .join("\n");
}
