import { offsetMinutes, zonedParts } from "../../core/time.ts";

// Pattern letters a date_format may use, longest first so "yyyy" wins over "yy" and "SSS" over "ss".
const tokens: { token: string; regex: string; part: keyof Parts }[] = [
  { token: "yyyy", regex: "(\\d{4})", part: "year" },
  { token: "MM", regex: "(\\d{2})", part: "month" },
  { token: "M", regex: "(\\d{1,2})", part: "month" },
  { token: "dd", regex: "(\\d{2})", part: "day" },
  { token: "d", regex: "(\\d{1,2})", part: "day" },
  { token: "HH", regex: "(\\d{2})", part: "hour" },
  { token: "H", regex: "(\\d{1,2})", part: "hour" },
  { token: "hh", regex: "(\\d{2})", part: "hour12" },
  { token: "h", regex: "(\\d{1,2})", part: "hour12" },
  { token: "mm", regex: "(\\d{2})", part: "minute" },
  { token: "ss", regex: "(\\d{2})", part: "second" },
  { token: "SSS", regex: "(\\d{3})", part: "millisecond" },
  { token: "a", regex: "([AaPp][Mm])", part: "meridiem" },
];

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  hour12: number;
  minute: number;
  second: number;
  millisecond: number;
  meridiem: number;
}

interface CompiledFormat {
  regex: RegExp;
  parts: (keyof Parts)[];
}

const compiled = new Map<string, CompiledFormat>();

function compile(format: string): CompiledFormat {
  const cached = compiled.get(format);
  if (cached) return cached;
  let source = "";
  const parts: (keyof Parts)[] = [];
  for (let i = 0; i < format.length; ) {
    const match = tokens.find((t) => format.startsWith(t.token, i));
    if (match) {
      source += match.regex;
      parts.push(match.part);
      i += match.token.length;
    } else {
      source += format[i]!.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      i++;
    }
  }
  const result = { regex: new RegExp(`^${source}$`), parts };
  compiled.set(format, result);
  return result;
}

/** What is wrong with a date_format, or null when it can be used. */
export function dateFormatProblem(format: string): string | null {
  if (format === "iso" || format === "epoch_seconds" || format === "epoch_millis") return null;
  const { parts } = compile(format);
  const missing = (["year", "month", "day"] as const).filter((p) => !parts.includes(p));
  if (missing.length > 0) {
    return `'${format}' has no ${missing.join(", ")}; use iso, epoch_seconds, epoch_millis or a pattern such as dd/MM/yyyy HH:mm:ss`;
  }
  if (parts.includes("hour12") !== parts.includes("meridiem")) {
    return `'${format}' mixes 12-hour and 24-hour times: use hh with a (AM/PM), or HH`;
  }
  if (new Set(parts).size !== parts.length) return `'${format}' names a part twice`;
  return null;
}

const isoPattern = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;
const hasOffset = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/**
 * Reads a time written in `format`; a time without an offset is local time in `timeZone`. Answers
 * the instant, or a sentence saying why the value does not fit.
 */
export function parseTime(value: string, format: string, timeZone: string): Date | string {
  const text = value.trim();
  if (format === "epoch_seconds" || format === "epoch_millis") {
    if (!/^\d{1,16}(\.\d+)?$/.test(text))
      return `'${text}' is not a number of ${format === "epoch_seconds" ? "seconds" : "milliseconds"} since 1970`;
    return new Date(Number(text) * (format === "epoch_seconds" ? 1000 : 1));
  }
  if (format === "iso") {
    if (!isoPattern.test(text)) return `'${text}' is not an ISO-8601 time such as 2026-04-01T10:30:00Z`;
    if (hasOffset.test(text)) return new Date(text.replace(" ", "T"));
    const [date, time = "00:00"] = text.split(/[T ]/);
    const [y, mo, d] = date!.split("-").map(Number);
    const [h, mi, s = "0"] = time.split(":");
    const seconds = Number(s);
    return fromLocal(
      { year: y!, month: mo!, day: d!, hour: Number(h), minute: Number(mi), second: Math.floor(seconds) },
      Math.round((seconds % 1) * 1000),
      timeZone,
    );
  }
  const { regex, parts } = compile(format);
  const match = regex.exec(text);
  if (!match) return `'${text}' does not match date_format '${format}'`;
  const read: Partial<Parts> = {};
  parts.forEach((part, index) => {
    const raw = match[index + 1]!;
    read[part] = part === "meridiem" ? (raw.toLowerCase() === "pm" ? 1 : 0) : Number(raw);
  });
  let hour = read.hour ?? 0;
  if (read.hour12 !== undefined) {
    if (read.hour12 < 1 || read.hour12 > 12)
      return `'${text}': the hour ${read.hour12} is not a 12-hour clock hour`;
    hour = (read.hour12 % 12) + (read.meridiem === 1 ? 12 : 0);
  }
  const fields = {
    year: read.year!,
    month: read.month!,
    day: read.day!,
    hour,
    minute: read.minute ?? 0,
    second: read.second ?? 0,
  };
  const check = new Date(
    Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second),
  );
  if (
    check.getUTCMonth() !== fields.month - 1 ||
    check.getUTCDate() !== fields.day ||
    fields.hour > 23 ||
    fields.minute > 59 ||
    fields.second > 59
  ) {
    return `'${text}' is not a real date and time`;
  }
  return fromLocal(fields, read.millisecond ?? 0, timeZone);
}

/** Local wall-clock time in a zone → the instant (twice round the offset, for DST edges). */
function fromLocal(
  f: { year: number; month: number; day: number; hour: number; minute: number; second: number },
  millisecond: number,
  timeZone: string,
): Date {
  const wall = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, millisecond);
  let instant = wall - offsetMinutes(new Date(wall), timeZone) * 60_000;
  instant = wall - offsetMinutes(new Date(instant), timeZone) * 60_000;
  return new Date(instant);
}

/** Reads a call length: whole seconds (`125`, `125.0`), `h:mm:ss` or `m:ss`. */
export function parseDuration(value: string): number | string {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text));
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(text);
  if (clock) {
    const [, h = "0", m, s] = clock;
    if (Number(m) < 60 || h === "0") return Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  return `'${text}' is not a call length (seconds, h:mm:ss or m:ss)`;
}

/** Writes an instant in `format` (local time in `timeZone` for patterns): for cursors sent back to an API. */
export function formatTime(at: Date, format: string, timeZone: string): string {
  if (format === "epoch_seconds") return String(Math.floor(at.getTime() / 1000));
  if (format === "epoch_millis") return String(at.getTime());
  if (format === "iso") return at.toISOString().replace(/\.000Z$/, "Z");
  const p = zonedParts(at, timeZone);
  const values: Record<string, string> = {
    yyyy: String(p.year).padStart(4, "0"),
    MM: String(p.month).padStart(2, "0"),
    M: String(p.month),
    dd: String(p.day).padStart(2, "0"),
    d: String(p.day),
    HH: String(p.hour).padStart(2, "0"),
    H: String(p.hour),
    hh: String(p.hour % 12 === 0 ? 12 : p.hour % 12).padStart(2, "0"),
    h: String(p.hour % 12 === 0 ? 12 : p.hour % 12),
    mm: String(p.minute).padStart(2, "0"),
    ss: String(p.second).padStart(2, "0"),
    SSS: String(at.getUTCMilliseconds()).padStart(3, "0"),
    a: p.hour < 12 ? "AM" : "PM",
  };
  let out = "";
  for (let i = 0; i < format.length; ) {
    const match = tokens.find((t) => format.startsWith(t.token, i));
    if (match) {
      out += values[match.token] ?? "";
      i += match.token.length;
    } else {
      out += format[i];
      i++;
    }
  }
  return out;
}
