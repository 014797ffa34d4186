// Times as transcripts write them: offsets ("00:01:02", "1:02.5") or clock times of a chat
// ("10:30:01", "10:30 AM", "2026-03-01 10:30:01").

/** A time as written, in seconds; clock times are made relative to the first turn later. */
export interface WrittenTime {
  seconds: number;
  /** A time of day or a date-time rather than an offset into the recording. */
  isClock: boolean;
}

/** The source of a written time, for embedding in other patterns. */
export const timeSource = String.raw`(?:\d{4}-\d{2}-\d{2}[ T])?\d{1,2}(?::\d{2}){1,2}(?:[.,]\d{1,9})?(?:\s*[AaPp]\.?[Mm]\.?)?(?:Z|[+-]\d{2}:?\d{2})?`;

const timePattern =
  /^(?:(\d{4})-(\d{2})-(\d{2})[ T])?(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,](\d{1,9}))?(?:\s*([AaPp])\.?[Mm]\.?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Reads "hh:mm:ss(.mmm)", "mm:ss(.mmm)", SRT's "hh:mm:ss,mmm", "10:30 AM" and "2026-03-01 10:30:01".
 * Two parts are minutes and seconds unless AM/PM or a date says they are hours and minutes.
 */
export function parseWrittenTime(text: string): WrittenTime | null {
  const match = timePattern.exec(text.trim());
  if (match === null) return null;
  const [, year, month, day, first, second, third, fraction, meridiem] = match;
  const hasDate = year !== undefined;
  const isClock = hasDate || meridiem !== undefined;
  let hours: number;
  let minutes: number;
  let seconds: number;
  if (third !== undefined || isClock) {
    hours = Number(first);
    minutes = Number(second);
    seconds = Number(third ?? 0);
  } else {
    hours = 0;
    minutes = Number(first);
    seconds = Number(second);
  }
  if (minutes > 59 || seconds > 59) return null;
  if (meridiem !== undefined) {
    if (hours < 1 || hours > 12) return null;
    hours = (hours % 12) + (meridiem.toLowerCase() === "p" ? 12 : 0);
  }
  let total = hours * 3600 + minutes * 60 + seconds + (fraction === undefined ? 0 : Number(`0.${fraction}`));
  if (hasDate) total += Date.UTC(Number(year), Number(month) - 1, Number(day)) / 1000;
  return { seconds: total, isClock };
}

/** An offset this large at the first turn is taken as a clock time (a chat log, not a recording). */
const clockThresholdSeconds = 600;
const day = 24 * 3600;

/**
 * Turns written times into seconds from the start of the conversation. Clock times (or offsets that
 * start implausibly late) are counted from the first one; a note says so.
 */
export function toConversationSeconds(times: readonly (WrittenTime | undefined)[]): {
  seconds: (number | undefined)[];
  note: string | null;
} {
  const written = times.filter((t): t is WrittenTime => t !== undefined);
  const first = written[0];
  if (first === undefined) return { seconds: times.map(() => undefined), note: null };
  const isClock = written.some((t) => t.isClock) || first.seconds >= clockThresholdSeconds;
  if (!isClock)
    return { seconds: times.map((t) => (t === undefined ? undefined : roundSeconds(t.seconds))), note: null };

  // Times of day without a date wrap at midnight; a big step back means the next day.
  let dayOffset = 0;
  let previous: number | null = null;
  const absolute = times.map((t) => {
    if (t === undefined) return undefined;
    let value = t.seconds + dayOffset;
    if (previous !== null && t.seconds < day && value < previous - day / 2) {
      dayOffset += day;
      value += day;
    }
    previous = value;
    return value;
  });
  const base = Math.min(...absolute.filter((t): t is number => t !== undefined));
  return {
    seconds: absolute.map((t) => (t === undefined ? undefined : roundSeconds(t - base))),
    note: `Turn times look like clock times (the first is ${formatClockTime(first.seconds)}); they were counted in seconds from the first turn.`,
  };
}

function formatClockTime(seconds: number): string {
  const inDay = ((seconds % day) + day) % day;
  const h = Math.floor(inDay / 3600);
  const m = Math.floor((inDay % 3600) / 60);
  const s = Math.floor(inDay % 60);
  return [h, m, s].map((n) => String(n).padStart(2, "0")).join(":");
}

function roundSeconds(value: number): number {
  return Math.round(value * 1000) / 1000;
}
