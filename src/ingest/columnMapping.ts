import { AppError } from "../core/errors.ts";

/**
 * Column names a file row may use for item fields (metadata is not a column: every other column
 * becomes a metadata key), plus `file_url` / `file_type`, the fallback resolved by extension.
 */
export const canonicalColumns: readonly string[] = [
  "external_interaction_id",
  "channel_type",
  "source",
  "language",
  "interaction_start_time",
  "duration_seconds",
  "audio_format",
  "callback_url",
  "pii_redacted",
  "audio_url",
  "transcript_url",
  "transcript_text",
  "file_url",
  "file_type",
];

const canonicalSet: ReadonlySet<string> = new Set(canonicalColumns);

export function isCanonicalColumn(name: string): boolean {
  return canonicalSet.has(name);
}

/** How headers and column_mapping keys are compared. */
export function normalizeHeader(header: string): string {
  return header.trim().toLowerCase();
}

/** Problems with a `column_mapping` ({your header: canonical column}); empty when it is fine. */
export function checkColumnMapping(mapping: unknown): string[] {
  if (mapping === null || typeof mapping !== "object" || Array.isArray(mapping)) {
    return ['column_mapping must be an object of {"your header": "canonical column"}'];
  }
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [header, target] of Object.entries(mapping)) {
    const key = normalizeHeader(header);
    if (key === "") problems.push("column_mapping has an empty header name");
    const earlier = seen.get(key);
    if (earlier !== undefined && key !== "") {
      problems.push(
        `column_mapping lists ${JSON.stringify(earlier)} and ${JSON.stringify(header)}, ` +
          "which are the same header once trimmed and lower-cased",
      );
    }
    seen.set(key, header);
    if (typeof target !== "string") {
      problems.push(`column_mapping[${JSON.stringify(header)}] must be a string naming a canonical column`);
    } else if (!isCanonicalColumn(normalizeHeader(target))) {
      problems.push(
        `column_mapping[${JSON.stringify(header)}] maps to ${JSON.stringify(target)}, which is not a canonical ` +
          `column; use one of ${canonicalColumns.join(", ")} (other columns become metadata without mapping)`,
      );
    }
  }
  return problems;
}

/** What one CSV column holds. */
export type ColumnRole =
  | { kind: "field"; name: string }
  | { kind: "metadata"; key: string }
  /** A column whose header is blank (e.g. a trailing comma in the header). */
  | { kind: "unnamed" };

/**
 * The role of each column of a CSV header after `column_mapping`. Throws VALIDATION_ERROR when two
 * columns end up with the same name or when no column holds external_interaction_id.
 * `mapping` must have passed {@link checkColumnMapping}.
 */
export function planColumns(headers: readonly string[], mapping: Record<string, string> = {}): ColumnRole[] {
  const targets = new Map<string, string>();
  for (const [header, target] of Object.entries(mapping))
    targets.set(normalizeHeader(header), normalizeHeader(target));

  const roles: ColumnRole[] = [];
  const origins = new Map<string, string[]>();
  for (const raw of headers) {
    const header = normalizeHeader(raw);
    if (header === "") {
      roles.push({ kind: "unnamed" });
      continue;
    }
    const name = targets.get(header) ?? header;
    roles.push(isCanonicalColumn(name) ? { kind: "field", name } : { kind: "metadata", key: header });
    origins.set(name, [...(origins.get(name) ?? []), raw.trim()]);
  }

  const duplicates = [...origins].filter(([, from]) => from.length > 1);
  if (duplicates.length > 0) {
    const listed = duplicates.map(
      ([name, from]) => `${name} (from ${from.map((h) => JSON.stringify(h)).join(" and ")})`,
    );
    throw new AppError(
      "VALIDATION_ERROR",
      `The CSV header has duplicate columns after column_mapping: ${listed.join("; ")}. ` +
        "Rename or remove one of each, or change column_mapping",
      { details: { duplicates: duplicates.map(([name]) => name) } },
    );
  }

  if (!origins.has("external_interaction_id")) {
    const found = headers.map((h) => h.trim()).filter((h) => h !== "");
    const candidate = found.find((h) => /id$/i.test(h)) ?? found[0] ?? "your_id_column";
    throw new AppError(
      "VALIDATION_ERROR",
      `The CSV header has no external_interaction_id column (found: ${found.join(", ") || "no headers"}). ` +
        "Name the column external_interaction_id, or map yours with column_mapping, e.g. " +
        `{${JSON.stringify(candidate)}: "external_interaction_id"}`,
      { details: { headers: found } },
    );
  }
  return roles;
}
