import { isCanonicalColumn } from "./columnMapping.ts";
import { decodeText, externalIdOf, type RawRow } from "./fileRowsSource.ts";

/**
 * Reads an NDJSON file (one JSON object per line; blank lines skipped) into raw rows, a batch per
 * chunk read. Keys that are not canonical columns become metadata, under an explicit `metadata`
 * object, which wins on conflicts.
 */
export async function* ndjsonRows(source: AsyncIterable<Buffer | string>): AsyncGenerator<RawRow[]> {
  let lineNumber = 0;
  let partial: string[] = [];
  for await (const text of decodeText(source)) {
    const rows: RawRow[] = [];
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      lineNumber++;
      let line = text.slice(start, end);
      if (partial.length > 0) {
        partial.push(line);
        line = partial.join("");
        partial = [];
      }
      const row = ndjsonRow(line, lineNumber);
      if (row) rows.push(row);
      start = end + 1;
    }
    if (start < text.length) partial.push(text.slice(start));
    if (rows.length > 0) yield rows;
  }
  if (partial.length > 0) {
    const row = ndjsonRow(partial.join(""), lineNumber + 1);
    if (row) yield [row];
  }
}

function ndjsonRow(text: string, line: number): RawRow | null {
  if (text.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      line,
      error: `The line is not valid JSON: ${message}`,
      externalInteractionId: idInBrokenLine(text),
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return { line, error: `The line must be a JSON object, not ${got}`, externalInteractionId: null };
  }
  const fields: Record<string, unknown> = {};
  const extra: [string, unknown][] = [];
  let explicit: unknown;
  for (const [key, v] of Object.entries(value)) {
    if (isCanonicalColumn(key)) fields[key] = v;
    else if (key === "metadata") explicit = v;
    else extra.push([key, v]);
  }
  return { line, fields, metadata: mergeExtraKeys(extra, explicit) };
}

/** The external id of a line that is not valid JSON, when it can still be seen, to help find the row. */
function idInBrokenLine(text: string): string | null {
  const match = /"external_interaction_id"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text);
  return match ? externalIdOf(match[1]) : null;
}

function mergeExtraKeys(extra: [string, unknown][], explicit: unknown): unknown {
  if (extra.length === 0) return explicit;
  const fromKeys = Object.fromEntries(extra);
  if (explicit === undefined || explicit === null) return fromKeys;
  // A malformed metadata value is passed on untouched so that validation names it.
  if (typeof explicit !== "object" || Array.isArray(explicit)) return explicit;
  return { ...fromKeys, ...explicit };
}
