import type {
  AudioFormat,
  AudioMeasures,
  ChannelMap,
  ChannelRole,
  HoldSegment,
  TimeSpan,
} from "../../core/audio.ts";
import type { ChannelActivity } from "./voiceActivity.ts";

/** A silence at least this long is dead air. */
export const deadAirMinSeconds = 5;
/** Both talking for at least this long is overtalk; shorter overlaps are backchannels ("mm-hm"). */
export const overtalkMinSeconds = 0.3;
/** A silence on both sides at least this long looks like a (muted) hold. */
export const holdSilenceMinSeconds = 30;
/** A monologue ends when the other party speaks this long, or after a pause this long. */
const monologueInterruptSeconds = 1;
const monologuePauseSeconds = 2;
const maxSpansPerParty = 5000;

/**
 * The audio measures of a conversation from the voice activity of its channels. With two channels or
 * more, the channel map says which is the agent and which the customer; with one, per-party figures
 * are null and a note says why.
 */
export function measureConversation(
  activity: readonly ChannelActivity[],
  channelMap: ChannelMap,
  durationSeconds: number,
  format: AudioFormat,
): AudioMeasures {
  const notes: string[] = [];
  const duration = round(durationSeconds);
  const stereo = activity.length >= 2;
  let agent: TimeSpan[] = [];
  let customer: TimeSpan[] = [];
  let mixed: TimeSpan[] = [];
  const channelRoles: ChannelRole[] = activity.map(() => "mixed");
  if (stereo) {
    const agentChannel = channelMap.agent < activity.length ? channelMap.agent : 0;
    const customerChannel =
      channelMap.customer < activity.length && channelMap.customer !== agentChannel
        ? channelMap.customer
        : agentChannel === 0
          ? 1
          : 0;
    if (agentChannel !== channelMap.agent || customerChannel !== channelMap.customer) {
      notes.push(
        `The channel map names channel ${channelMap.agent} as the agent and ${channelMap.customer} as the customer, but the recording has ${activity.length} channels: channel ${agentChannel} was taken as the agent and ${customerChannel} as the customer.`,
      );
    }
    agent = activity[agentChannel]!.speech;
    customer = activity[customerChannel]!.speech;
    channelRoles[agentChannel] = "agent";
    channelRoles[customerChannel] = "customer";
    if (activity.length > 2)
      notes.push(`Channels other than ${agentChannel} and ${customerChannel} were not measured.`);
  } else {
    mixed = activity[0]?.speech ?? [];
    notes.push(
      "Mono recording: both parties share one channel, so talk time per party, talk ratio, overtalk and monologues cannot be measured without speaker separation.",
    );
  }
  const talk = union(stereo ? [...agent, ...customer] : mixed);
  const music = union(activity.flatMap((a) => a.music));
  const silences = complement(union([...talk, ...music]), duration);

  const agentSeconds = stereo ? total(agent) : null;
  const customerSeconds = stereo ? total(customer) : null;
  const talkSeconds = total(talk);
  const silenceSeconds = total(silences);
  const longestSilence = longest(silences);
  const deadAir = silences.filter((s) => length(s) >= deadAirMinSeconds);
  const overtalk = stereo ? intersect(agent, customer).filter((s) => length(s) >= overtalkMinSeconds) : [];
  const holds: HoldSegment[] = [
    ...music.map((s) => ({ ...s, kind: "music" as const })),
    ...silences
      .filter((s) => length(s) >= holdSilenceMinSeconds)
      .map((s) => ({ ...s, kind: "silence" as const })),
  ].sort((a, b) => a.start - b.start);
  const agentMonologue = stereo ? longest(monologues(agent, customer)) : null;
  const customerMonologue = stereo ? longest(monologues(customer, agent)) : null;
  if (talkSeconds === 0) notes.push("No speech was detected in the recording.");
  const share = (seconds: number) => (duration > 0 ? round4(seconds / duration) : 0);

  return {
    version: 1,
    format,
    durationSeconds: duration,
    channelRoles,
    talkSeconds: { agent: agentSeconds, customer: customerSeconds, total: talkSeconds },
    talkRatio:
      agentSeconds !== null && customerSeconds !== null && agentSeconds + customerSeconds > 0
        ? round4(agentSeconds / (agentSeconds + customerSeconds))
        : null,
    silenceSeconds,
    silenceShare: share(silenceSeconds),
    longestSilence,
    longestSilenceSeconds: longestSilence ? length(longestSilence) : 0,
    deadAirSeconds: total(deadAir),
    deadAirShare: share(total(deadAir)),
    deadAirCount: deadAir.length,
    deadAirMinSeconds,
    overtalkCount: stereo ? overtalk.length : null,
    overtalkSeconds: stereo ? total(overtalk) : null,
    overtalkShare: stereo ? share(total(overtalk)) : null,
    overtalkMinSeconds,
    longestAgentMonologue: agentMonologue,
    longestAgentMonologueSeconds: stereo ? (agentMonologue ? length(agentMonologue) : 0) : null,
    longestCustomerMonologueSeconds: stereo ? (customerMonologue ? length(customerMonologue) : 0) : null,
    holds,
    holdCount: holds.length,
    holdSeconds: total(holds),
    longestHoldSeconds: holds.reduce((max, h) => Math.max(max, length(h)), 0),
    speech: {
      agent: agent.slice(0, maxSpansPerParty),
      customer: customer.slice(0, maxSpansPerParty),
      mixed: mixed.slice(0, maxSpansPerParty),
    },
    overtalk: overtalk.slice(0, maxSpansPerParty),
    notes,
  };
}

/**
 * Stretches where one party holds the floor: their speech joined across pauses shorter than 2 s,
 * ended by the other party speaking for 1 s or more (a short "mm-hm" does not end it).
 */
export function monologues(speaker: readonly TimeSpan[], other: readonly TimeSpan[]): TimeSpan[] {
  const interruptions = other.filter((s) => length(s) >= monologueInterruptSeconds);
  const out: TimeSpan[] = [];
  for (const s of speaker) {
    const current = out.at(-1);
    const interrupted =
      current !== undefined && interruptions.some((o) => o.start >= current.end - 0.001 && o.start < s.start);
    if (current && !interrupted && s.start - current.end < monologuePauseSeconds)
      current.end = Math.max(current.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Sorted, non-overlapping spans covering the same time. */
export function union(spans: readonly TimeSpan[]): TimeSpan[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: TimeSpan[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ start: s.start, end: s.end });
  }
  return out;
}

/** The parts of [0, duration] not covered by the (sorted, disjoint) spans. */
export function complement(spans: readonly TimeSpan[], duration: number): TimeSpan[] {
  const out: TimeSpan[] = [];
  let at = 0;
  for (const s of spans) {
    if (s.start > at) out.push({ start: round(at), end: round(Math.min(s.start, duration)) });
    at = Math.max(at, s.end);
  }
  if (at < duration) out.push({ start: round(at), end: duration });
  return out.filter((s) => s.end - s.start > 0.001);
}

/** Where both lists of (sorted, disjoint) spans overlap. */
export function intersect(a: readonly TimeSpan[], b: readonly TimeSpan[]): TimeSpan[] {
  const out: TimeSpan[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i]!.start, b[j]!.start);
    const end = Math.min(a[i]!.end, b[j]!.end);
    if (end > start) out.push({ start: round(start), end: round(end) });
    if (a[i]!.end < b[j]!.end) i++;
    else j++;
  }
  return out;
}

function length(s: TimeSpan): number {
  return round(s.end - s.start);
}

function total(spans: readonly TimeSpan[]): number {
  return round(spans.reduce((sum, s) => sum + (s.end - s.start), 0));
}

function longest(spans: readonly TimeSpan[]): TimeSpan | null {
  let best: TimeSpan | null = null;
  for (const s of spans) if (best === null || s.end - s.start > best.end - best.start) best = s;
  return best ? { start: best.start, end: best.end } : null;
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
