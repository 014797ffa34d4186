// Dates and numbers as people in the account's time zone read them.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${withTime}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      day: "numeric",
      month: "short",
      year: "numeric",
      ...(withTime ? { hour: "2-digit", minute: "2-digit" } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}

/** "2 Mar 2026, 14:30" in the account's time zone. */
export function formatDateTime(value: string | null | undefined, timeZone: string): string {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  try {
    return formatter(timeZone, true).format(date);
  } catch {
    return formatter("UTC", true).format(date);
  }
}

/** "2 Mar 2026" for a YYYY-MM-DD day. */
export function formatDay(day: string): string {
  const date = new Date(`${day}T12:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : formatter("UTC", false).format(date);
}

/** Today's date (YYYY-MM-DD) in a time zone, moved by `offsetDays`. */
export function localDate(timeZone: string, offsetDays = 0): string {
  const now = new Date(Date.now() + offsetDays * 86_400_000);
  try {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

/** 0:04, 1:02:03 */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function percentOf(score: number | null | undefined, max: number | null | undefined): number | null {
  if (score === null || score === undefined || !max) return null;
  return Math.round((1000 * score) / max) / 10;
}

/** A readable label for a metadata key without a configured label: agent_id → Agent id. */
export function humanize(key: string): string {
  const text = key.replace(/[_.-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}
