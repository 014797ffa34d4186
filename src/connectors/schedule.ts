import { z } from "zod";
import { addLocalDays, startOfLocalDay, zonedParts } from "../core/time.ts";
import type { Schedule } from "./connector.ts";

/** The `schedule` of an integration: daily at a local time, or every N seconds; null = on demand only. */
export const scheduleSchema = z
  .union(
    [
      z
        .object({
          type: z.literal("daily"),
          at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, {
            error: "schedule.at must be a time of day such as 02:30 (24-hour clock, account time zone)",
          }),
        })
        .strict(),
      z
        .object({
          type: z.literal("interval"),
          every_seconds: z
            .number()
            .int()
            .min(60, { error: "schedule.every_seconds must be at least 60" })
            .max(7 * 86_400, { error: "schedule.every_seconds must be at most 604800 (a week)" }),
        })
        .strict(),
    ],
    {
      error:
        'schedule must be {"type": "daily", "at": "HH:MM"} or {"type": "interval", "every_seconds": N}, or null for on-demand only',
    },
  )
  .nullable();

/** The next time a schedule fires strictly after `after`; daily times are in `timeZone`. */
export function nextRunAfter(schedule: Schedule | null, after: Date, timeZone: string): Date | null {
  if (!schedule) return null;
  if (schedule.type === "interval") return new Date(after.getTime() + schedule.every_seconds * 1000);
  const [hour, minute] = schedule.at.split(":").map(Number) as [number, number];
  const local = zonedParts(after, timeZone);
  for (let days = 0; days < 3; days++) {
    const [y, m, d] = addLocalDays(local.year, local.month, local.day, days);
    const midnight = startOfLocalDay(y, m, d, timeZone);
    // Wall-clock time on that local day (DST days are off by the shift for one run: acceptable).
    const candidate = new Date(midnight.getTime() + (hour * 60 + minute) * 60_000);
    if (candidate.getTime() > after.getTime()) return candidate;
  }
  return null;
}
