import { z } from "zod";
import { AppError } from "../core/errors.ts";
import { isUuid } from "../core/ids.ts";
import { addLocalDays, startOfLocalDay } from "../core/time.ts";
import type { AnalysisFilter, MetadataOperator, ScoreOperator } from "../storage/repositories/analyses.ts";

const scoreOperators: readonly ScoreOperator[] = [
  "greater_than",
  "less_than",
  "greater_than_or_equal",
  "less_than_or_equal",
  "equals",
];
const metadataOperators: readonly MetadataOperator[] = [
  "equals",
  "not_equals",
  "in",
  "contains",
  "greater_than",
  "less_than",
];

/** The request body of POST /analyses, for the OpenAPI document (validation is below, message by message). */
export const analysisQueryDocSchema = z.object({
  other_filters: z.array(
    z.union([
      z.object({
        field: z.literal("date"),
        operator: z.literal("range"),
        value: z.object({ start_date: z.string(), end_date: z.string() }),
      }),
      z.object({ field: z.literal("score"), operator: z.enum(scoreOperators), value: z.number() }),
    ]),
  ),
  quality_profile_uid: z.string().optional(),
  metadata_filter_group: z
    .array(z.array(z.object({ field: z.string(), operator: z.enum(metadataOperators), value: z.unknown() })))
    .optional(),
});

const maxRangeDays = 31;
const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

const fail = (message: string): never => {
  throw new AppError("VALIDATION_ERROR", message);
};

/**
 * Validates the list-analyses request exactly as the published API does, each rule with its own
 * message. Dates without a time are whole days in the account's time zone; end_date is inclusive.
 */
export function parseAnalysisQuery(
  query: Record<string, string>,
  body: unknown,
  timeZone: string,
): Omit<AnalysisFilter, "scope"> {
  const limit = boundedInteger(query["limit"], 20, 1, 100, "limit must be between 1 and 100");
  const offset = boundedInteger(query["offset"], 0, 0, 10_000, "offset must be between 0 and 10000");
  const input = (body ?? {}) as Record<string, unknown>;
  if (typeof input !== "object" || Array.isArray(input)) fail("The request body must be a JSON object");

  const filters = input["other_filters"];
  if (filters !== undefined && !Array.isArray(filters))
    fail("other_filters must be an array of filter objects");
  const list = (filters ?? []) as unknown[];
  let range: { from: Date; to: Date } | null = null;
  // Several score filters all apply (a range is two of them).
  const scores: NonNullable<AnalysisFilter["scores"]> = [];
  for (const [index, raw] of list.entries()) {
    if (!raw || typeof raw !== "object")
      fail(`other_filters[${index}] must be an object with field, operator and value`);
    const filter = raw as { field?: unknown; operator?: unknown; value?: unknown };
    if (filter.field === "date") {
      range = parseDateRange(filter, timeZone);
    } else if (filter.field === "score") {
      if (!scoreOperators.includes(filter.operator as ScoreOperator))
        fail("Unsupported score filter operator");
      const value =
        typeof filter.value === "string" && filter.value.trim() !== "" ? Number(filter.value) : filter.value;
      if (typeof value !== "number" || !Number.isFinite(value)) fail("score filter value must be a number");
      scores.push({ operator: filter.operator as ScoreOperator, value: value as number });
    } else {
      fail(
        `Unsupported filter field '${String(filter.field)}' in other_filters; supported fields are date and score`,
      );
    }
  }
  if (!range) {
    fail("Date filter is required. Provide a date filter with start_date and end_date in other_filters.");
  }

  const profile = input["quality_profile_uid"];
  if (profile !== undefined && profile !== null && (typeof profile !== "string" || !isUuid(profile))) {
    fail("quality_profile_uid must be a quality profile UUID");
  }
  const metadataGroups = parseMetadataGroups(input["metadata_filter_group"]);
  return {
    from: range!.from,
    to: range!.to,
    ...(scores.length > 0 ? { scores } : {}),
    ...(typeof profile === "string" ? { profileId: profile } : {}),
    ...(metadataGroups ? { metadataGroups } : {}),
    limit,
    offset,
  };
}

function boundedInteger(
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  message: string,
): number {
  if (raw === undefined || raw === "") return fallback;
  if (!/^-?\d+$/.test(raw.trim())) fail(message);
  const value = Number(raw);
  if (value < min || value > max) fail(message);
  return value;
}

function parseDateRange(
  filter: { operator?: unknown; value?: unknown },
  timeZone: string,
): { from: Date; to: Date } {
  if (filter.operator !== "range") fail('The date filter\'s operator must be "range"');
  const value = filter.value as { start_date?: unknown; end_date?: unknown } | undefined;
  if (!value || typeof value !== "object") {
    fail("Date filter is required. Provide a date filter with start_date and end_date in other_filters.");
  }
  const start = parseDate(value!.start_date, "start_date", timeZone, "start");
  const end = parseDate(value!.end_date, "end_date", timeZone, "end");
  if (start.day > end.day) fail("start_date must be before or equal to end_date");
  if (start.from.getTime() > end.to.getTime()) fail("start_date must be before or equal to end_date");
  if ((end.day - start.day) / 86_400_000 > maxRangeDays)
    fail(`Date range must not exceed ${maxRangeDays} days`);
  return { from: start.from, to: end.to };
}

/** A date (whole local day) or an instant; `day` is the UTC midnight of its calendar date, for range length. */
function parseDate(
  raw: unknown,
  name: string,
  timeZone: string,
  edge: "start" | "end",
): { from: Date; to: Date; day: number } {
  const invalid = `Invalid ${name} format. Expected: YYYY-MM-DD or ISO-8601`;
  if (raw === undefined || raw === null || raw === "") {
    fail("Date filter is required. Provide a date filter with start_date and end_date in other_filters.");
  }
  if (typeof raw !== "string") fail(invalid);
  const text = (raw as string).trim();
  if (dateOnly.test(text)) {
    const [y, m, d] = text.split("-").map(Number) as [number, number, number];
    const check = new Date(Date.UTC(y, m - 1, d));
    if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) fail(invalid);
    const next = addLocalDays(y, m, d, 1);
    return {
      from: startOfLocalDay(y, m, d, timeZone),
      to: startOfLocalDay(...next, timeZone),
      day: check.getTime(),
    };
  }
  if (!isoDateTime.test(text) || Number.isNaN(Date.parse(text))) fail(invalid);
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/.test(text);
  const instant = new Date(hasOffset ? text : `${text}Z`);
  const day = Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate());
  // An instant end is inclusive: the window runs up to and including that moment.
  return edge === "end"
    ? { from: instant, to: new Date(instant.getTime() + 1), day }
    : { from: instant, to: instant, day };
}

function parseMetadataGroups(raw: unknown): AnalysisFilter["metadataGroups"] {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    fail("metadata_filter_group must be an array of arrays of conditions (inner AND, outer OR)");
  return (raw as unknown[]).map((group, g) => {
    if (!Array.isArray(group)) fail(`metadata_filter_group[${g}] must be an array of conditions`);
    return (group as unknown[]).map((condition, c) => {
      const where = `metadata_filter_group[${g}][${c}]`;
      if (!condition || typeof condition !== "object")
        fail(`${where} must be an object with field, operator and value`);
      const { field, operator, value } = condition as {
        field?: unknown;
        operator?: unknown;
        value?: unknown;
      };
      if (typeof field !== "string" || field.trim() === "") fail(`${where}.field must be a metadata key`);
      if (!metadataOperators.includes(operator as MetadataOperator)) {
        fail(
          `Unsupported metadata filter operator '${String(operator)}'; supported: ${metadataOperators.join(", ")}`,
        );
      }
      if (operator === "in") {
        if (!Array.isArray(value) || value.length === 0)
          fail(`${where}.value must be a non-empty array for operator in`);
      } else if (operator === "greater_than" || operator === "less_than") {
        if (
          typeof value !== "number" &&
          !(typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
        ) {
          fail(`${where}.value must be a number for operator ${String(operator)}`);
        }
      } else if (value === undefined || value === null || typeof value === "object") {
        fail(`${where}.value must be a string, number or boolean`);
      }
      return { field: field as string, operator: operator as MetadataOperator, value };
    });
  });
}
