import type { SpeakerRole } from "../../core/transcript.ts";
import { invalidTranscript } from "./invalidTranscript.ts";
import { parsePlainTranscript } from "./plainTranscript.ts";
import { roleOfLabel } from "./speakerLabels.ts";
import { parseWrittenTime, toConversationSeconds, type WrittenTime } from "./timestamps.ts";
import type { TranscriptDraft, TurnDraft } from "./transcriptDraft.ts";

type JsonObject = Record<string, unknown>;

const listKeys = ["segments", "turns", "transcript", "utterances", "messages"];
/** Wrappers that speech-to-text services and APIs put around the list. */
const wrapperKeys = ["results", "result", "data", "conversation", "response"];
const labelKeys = [
  "speaker",
  "role",
  "participant",
  "speaker_label",
  "speakerLabel",
  "sender",
  "from",
  "author",
];
const textKeys = ["text", "content", "utterance", "transcript", "message", "body"];
const startNames = new Set([
  "start",
  "starttime",
  "startseconds",
  "offset",
  "begin",
  "begintime",
  "timestamp",
  "time",
  "createdat",
  "sentat",
]);
const endNames = new Set(["end", "endtime", "endseconds", "stop", "stoptime"]);
const durationNames = new Set(["duration", "durationseconds"]);

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function findSegments(value: unknown, depth = 0): unknown[] | string | null {
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return value;
  if (!isObject(value) || depth > 2) return null;
  for (const key of listKeys) {
    const candidate = value[key];
    if (Array.isArray(candidate) || typeof candidate === "string") return candidate;
  }
  for (const key of wrapperKeys) {
    const found = findSegments(value[key], depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** A label as written: strings as they are, numbers as digits, a participant object by its name or role. */
function labelText(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (isObject(value)) return labelText(value["name"] ?? value["role"] ?? value["id"]);
  return null;
}

function segmentText(value: unknown): string | null {
  if (typeof value === "string") return value;
  // Chat APIs send content as parts: [{ "type": "text", "text": "…" }].
  if (Array.isArray(value)) {
    const parts = value.map((part) =>
      typeof part === "string" ? part : isObject(part) ? segmentText(part["text"]) : null,
    );
    const text = parts.filter((p): p is string => p !== null).join(" ");
    return text === "" ? null : text;
  }
  return null;
}

/** Reads a number of seconds, "hh:mm:ss(.mmm)", "12.5s" or an ISO date-time; epoch values count as clock times. */
function readTime(value: unknown, inMilliseconds: boolean): WrittenTime | undefined {
  let seconds: number | null = null;
  if (typeof value === "number" && Number.isFinite(value)) seconds = value;
  else if (typeof value === "string") {
    const text = value.trim();
    const numeric = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/i.exec(text);
    if (numeric !== null) {
      const unit = numeric[2]?.toLowerCase();
      return readTime(Number(numeric[1]), unit === undefined ? inMilliseconds : unit === "ms");
    }
    const written = parseWrittenTime(text);
    if (written !== null) return written;
    const parsed = Date.parse(text);
    return Number.isNaN(parsed) || !/^\d{4}-\d{2}-\d{2}/.test(text)
      ? undefined
      : { seconds: parsed / 1000, isClock: true };
  }
  if (seconds === null || seconds < 0) return undefined;
  if (inMilliseconds) seconds /= 1000;
  // No call lasts years: such values are Unix times, in milliseconds when even larger.
  if (seconds > 1e11) return { seconds: seconds / 1000, isClock: true };
  if (seconds > 1e8) return { seconds, isClock: true };
  return { seconds, isClock: false };
}

interface SegmentTimes {
  start?: WrittenTime;
  end?: WrittenTime;
  duration?: WrittenTime;
}

function segmentTimes(segment: JsonObject): SegmentTimes {
  const times: SegmentTimes = {};
  for (const [key, value] of Object.entries(segment)) {
    const inMilliseconds = /(_ms|Ms|MS)$/.test(key);
    const name = key
      .replace(/(_ms|Ms|MS)$/, "")
      .replace(/[_-]/g, "")
      .toLowerCase();
    const slot = startNames.has(name)
      ? "start"
      : endNames.has(name)
        ? "end"
        : durationNames.has(name)
          ? "duration"
          : null;
    if (slot === null || times[slot] !== undefined) continue;
    const time = readTime(value, inMilliseconds);
    if (time !== undefined) times[slot] = time;
  }
  return times;
}

/** Channel 0 (left) is the agent and channel 1 (right) the customer, as most recorders store calls. */
function roleOfChannel(value: unknown): SpeakerRole | null {
  const text =
    typeof value === "number" ? String(value) : typeof value === "string" ? value.trim().toLowerCase() : "";
  if (text === "0" || text === "left" || text === "ch0") return "agent";
  if (text === "1" || text === "right" || text === "ch1") return "customer";
  return null;
}

interface ReadSegment {
  turn: TurnDraft;
  times: SegmentTimes;
  /** The role channel 0 / 1 would give, used only when the labels name no role. */
  channelRole: SpeakerRole | null;
}

function readSegment(segment: unknown): ReadSegment | null {
  if (typeof segment === "string") {
    return { turn: { speaker: "unknown", speakerLabel: "", text: segment }, times: {}, channelRole: null };
  }
  if (!isObject(segment)) return null;
  let text: string | null = null;
  for (const key of textKeys) {
    text = segmentText(segment[key]);
    if (text !== null) break;
  }
  if (text === null || text.trim() === "") return null;
  const labels = labelKeys.map((key) => labelText(segment[key])).filter((l): l is string => l !== null);
  const labelRole = labels.map(roleOfLabel).find((role) => role !== "unknown");
  const channel = segment["channel"] ?? segment["channel_index"] ?? segment["channelIndex"];
  const speakerLabel =
    labels[0] ?? (channel === undefined || channel === null ? "" : `channel ${String(channel)}`);
  return {
    turn: { speaker: labelRole ?? "unknown", speakerLabel, text: text.trim() },
    times: segmentTimes(segment),
    channelRole: roleOfChannel(channel),
  };
}

/**
 * Gives channel roles to segments whose labels name none, when the segments use both channels. A
 * mono recording has every segment on channel 0 and must be told apart by its speaker labels instead.
 */
function applyChannelRoles(segments: ReadSegment[]): { turns: TurnDraft[]; note: string | null } {
  const usesBothChannels =
    segments.some((s) => s.channelRole === "agent") && segments.some((s) => s.channelRole === "customer");
  const labelsNameRoles = segments.some((s) => s.turn.speaker !== "unknown");
  if (!usesBothChannels || labelsNameRoles) return { turns: segments.map((s) => s.turn), note: null };
  return {
    turns: segments.map((s) => ({ ...s.turn, speaker: s.channelRole ?? s.turn.speaker })),
    note: "Channel 0 was taken as the agent and channel 1 as the customer (the usual stereo layout: agent on the left).",
  };
}

/**
 * Reads an array of segments, or an object holding one under segments / turns / transcript /
 * utterances / messages (also inside a results or data wrapper). A transcript given as one string is
 * read as plain text.
 */
export function parseJsonTranscript(value: unknown): TranscriptDraft {
  const found = findSegments(value);
  if (found === null) {
    throw invalidTranscript(
      `The JSON transcript has no list of segments: send an array, or an object with one of ${listKeys.map((k) => `"${k}"`).join(", ")}.`,
    );
  }
  if (typeof found === "string") return parsePlainTranscript(found);
  if (found.every((item) => typeof item === "string")) return parsePlainTranscript(found.join("\n"));

  const segments = found.map(readSegment).filter((s): s is ReadSegment => s !== null);
  if (segments.length === 0) {
    throw invalidTranscript(
      `None of the ${found.length} JSON segments has text: each needs one of ${textKeys.map((k) => `"${k}"`).join(", ")}.`,
    );
  }
  const notes: string[] = [];
  const byChannel = applyChannelRoles(segments);
  if (byChannel.note !== null) notes.push(byChannel.note);
  // Starts and ends are made relative together, in spoken order, so that clock times share one origin.
  const relative = toConversationSeconds(
    segments.flatMap((s) => [s.times.start, s.times.end ?? endFromDuration(s.times)]),
  );
  if (relative.note !== null) notes.push(relative.note);
  let turns = byChannel.turns.map((drafted, i) => {
    const turn: TurnDraft = { ...drafted };
    const start = relative.seconds[2 * i];
    const end = relative.seconds[2 * i + 1];
    if (start !== undefined) turn.start = start;
    if (end !== undefined && (start === undefined || end >= start)) turn.end = end;
    return turn;
  });
  if (
    turns.every((t) => t.start !== undefined) &&
    turns.some((t, i) => i > 0 && t.start! < turns[i - 1]!.start!)
  ) {
    // Stereo engines often list one channel after the other.
    turns = [...turns].sort((a, b) => a.start! - b.start!);
    notes.push("Segments were not in time order; they were sorted by start time.");
  }
  return { turns, notes };
}

function endFromDuration(times: SegmentTimes): WrittenTime | undefined {
  if (times.start === undefined || times.duration === undefined) return undefined;
  return { seconds: times.start.seconds + times.duration.seconds, isClock: times.start.isClock };
}
