import { addLocalDays, offsetMinutes, startOfLocalDay, zonedParts } from "../../core/time.ts";

const pad = (n: number) => String(n).padStart(2, "0");

/** `YYYY-MM-DD HH:mm:ss` in `timeZone`: the API's DateCreated / StartTime format. */
export function formatExoliteTime(date: Date, timeZone: string): string {
  const p = zonedParts(date, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** The instant of a local wall-clock reading in `timeZone`. */
export function localInstant(
  parts: { year: number; month: number; day: number; hour: number; minute: number; second: number },
  timeZone: string,
): Date {
  const guess = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  let instant = guess - offsetMinutes(new Date(guess), timeZone) * 60_000;
  instant = guess - offsetMinutes(new Date(instant), timeZone) * 60_000;
  return new Date(instant);
}

/** Parses `YYYY-MM-DD HH:mm:ss` (also with a T) in `timeZone`; null when it is not such a time. */
export function parseExoliteTime(text: unknown, timeZone: string): Date | null {
  if (typeof text !== "string") return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  return localInstant({ year, month, day, hour, minute, second }, timeZone);
}

/** The same local time `months` calendar months later (clamped to the month's last day). */
export function addLocalMonths(date: Date, months: number, timeZone: string): Date {
  const p = zonedParts(date, timeZone);
  const monthIndex = p.month - 1 + months;
  const year = p.year + Math.floor(monthIndex / 12);
  const month = (((monthIndex % 12) + 12) % 12) + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return localInstant({ ...p, year, month, day: Math.min(p.day, lastDay) }, timeZone);
}

/** How far back the API keeps call details: 6 months. */
export const historyMonths = 6;

/** The oldest instant the API answers for at `now` (plus an hour of margin for clock skew). */
export function historyStart(now: Date, timeZone: string): Date {
  return new Date(addLocalMonths(now, -historyMonths, timeZone).getTime() + 3600_000);
}

/** Midnight starting the local day before `now`: where a new integration's first run begins. */
export function startOfPreviousLocalDay(now: Date, timeZone: string): Date {
  const p = zonedParts(now, timeZone);
  const [y, m, d] = addLocalDays(p.year, p.month, p.day, -1);
  return startOfLocalDay(y, m, d, timeZone);
}

/** One request range: DateCreated=gte:<gte>;lte:<lte>, both inclusive, to the second. */
export interface CallWindow {
  from: Date;
  /** Exclusive end. */
  to: Date;
  gte: string;
  lte: string;
}

/**
 * Splits [from, to) into ranges the API accepts: each shorter than one calendar month (the API
 * answers 400 to longer ones). `lte` is the last whole second before the range's end.
 */
export function monthWindows(from: Date, to: Date, timeZone: string): CallWindow[] {
  const windows: CallWindow[] = [];
  let start = new Date(Math.floor(from.getTime() / 1000) * 1000);
  while (start < to) {
    const monthLater = addLocalMonths(start, 1, timeZone);
    const end = monthLater < to ? monthLater : to;
    const last = new Date(Math.ceil(end.getTime() / 1000) * 1000 - 1000);
    if (last >= start) {
      windows.push({
        from: start,
        to: end,
        gte: formatExoliteTime(start, timeZone),
        lte: formatExoliteTime(last, timeZone),
      });
    }
    start = new Date(last.getTime() + 1000);
  }
  return windows;
}
