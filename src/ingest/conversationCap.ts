import type { ConversationCap } from "../core/limits.ts";
import { addLocalDays, formatLocalDate, startOfLocalDay, zonedParts } from "../core/time.ts";

/** The cap period `now` falls in, in the account's time zone. */
export interface CapWindow {
  period: ConversationCap["period"];
  /** Local date the period began, `YYYY-MM-DD`. */
  periodStart: string;
  /** When the next period begins (for Retry-After). */
  resetsAt: Date;
}

/** Days start at local midnight, weeks on Monday, months on the 1st — all in the account's zone. */
export function capWindow(cap: ConversationCap, now: Date, timeZone: string): CapWindow {
  const p = zonedParts(now, timeZone);
  let start: [number, number, number];
  let next: [number, number, number];
  switch (cap.period) {
    case "day":
      start = [p.year, p.month, p.day];
      next = addLocalDays(p.year, p.month, p.day, 1);
      break;
    case "week":
      start = addLocalDays(p.year, p.month, p.day, 1 - p.isoWeekday);
      next = addLocalDays(...start, 7);
      break;
    case "month":
      start = [p.year, p.month, 1];
      next = p.month === 12 ? [p.year + 1, 1, 1] : [p.year, p.month + 1, 1];
      break;
  }
  return {
    period: cap.period,
    periodStart: formatLocalDate(...start),
    resetsAt: startOfLocalDay(...next, timeZone),
  };
}

const periodWord: Record<ConversationCap["period"], string> = {
  day: "Daily",
  week: "Weekly",
  month: "Monthly",
};

/** "Monthly conversation cap exceeded: 300/300", as the published API words it. */
export function capExceededMessage(cap: ConversationCap, used: number): string {
  return `${periodWord[cap.period]} conversation cap exceeded: ${used}/${cap.limit}`;
}
