/** A value a condition can hold or an interaction field can have: text, number or boolean. */
export type Scalar = string | number | boolean;

export function isScalar(value: unknown): value is Scalar {
  return (
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

const isoDatePattern = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/i;

/** True for an ISO-8601 date (`2026-04-01`) or date-time (`2026-04-01T10:30:00Z`). */
export function isIsoDate(value: unknown): value is string {
  return typeof value === "string" && isoDatePattern.test(value.trim()) && !Number.isNaN(parseInstant(value));
}

/**
 * Milliseconds since the epoch of an ISO-8601 date or date-time; NaN when it is not one. A date-time
 * without an offset is UTC (as in the ingest API), never the server's local time.
 */
export function parseInstant(value: string): number {
  const text = value.trim();
  if (!isoDatePattern.test(text)) return Number.NaN;
  const iso = text.replace(" ", "T");
  if (!iso.includes("T")) return Date.parse(iso);
  const time = iso.slice(10);
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(time)) return Date.parse(iso);
  // V8 rejects an hour-only offset such as +05, which ISO-8601 allows.
  if (/[+-]\d{2}$/.test(time)) return Date.parse(`${iso}:00`);
  return Date.parse(`${iso}Z`);
}

const numericPattern = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** The number a value stands for: numbers as they are, numeric strings parsed; NaN otherwise. */
export function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && numericPattern.test(value.trim())) return Number(value.trim());
  return Number.NaN;
}

/** The boolean a value stands for: booleans as they are, "true"/"false" in any case; else undefined. */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return undefined;
  const text = value.trim().toLowerCase();
  if (text === "true") return true;
  if (text === "false") return false;
  return undefined;
}

/** How a value reads in a message: strings quoted, long ones shortened. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "missing";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  if (typeof value === "object") return "an object";
  return String(value);
}
