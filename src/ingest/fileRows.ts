import { AppError } from "../core/errors.ts";
import { checkColumnMapping } from "./columnMapping.ts";
import { csvRows } from "./fileRowsCsv.ts";
import { buildItem } from "./fileRowsItem.ts";
import { ndjsonRows } from "./fileRowsNdjson.ts";
import { externalIdOf, type RawRow } from "./fileRowsSource.ts";

export { canonicalColumns, checkColumnMapping } from "./columnMapping.ts";

/** Request-level values of a file job applied to every row (row values win). */
export interface FileDefaults {
  source?: string;
  pii_redacted?: boolean;
  callback_url?: string;
  metadata?: Record<string, string | number | boolean>;
}

/** How to read a file job's file. */
export interface FileReadOptions {
  format: "csv" | "ndjson";
  /** CSV only: {your header: canonical column}; keys compared trimmed and lower-cased. */
  columnMapping?: Record<string, string>;
  defaults?: FileDefaults;
  /** More data rows than this fails the file (VALIDATION_ERROR) when row maxRows + 1 is reached. */
  maxRows: number;
  /** Rows up to this number were ingested by an earlier attempt: read but not yielded again. */
  startAfterRow?: number;
}

/**
 * One data row of the file: the raw item (not yet validated) or why the row is unusable.
 * `row` counts data rows from 1 (header excluded); `line` is the physical line the row starts on.
 */
export type FileRowOutcome =
  | { kind: "row"; row: number; line: number; item: Record<string, unknown> }
  | { kind: "error"; row: number; line: number; reason: string; externalInteractionId: string | null };

/**
 * Streams a CSV or NDJSON file (the Standard API's file ingestion) as raw canonical items with their
 * row and line numbers. Items are not checked against the item schema: the caller validates them
 * with the account's limits. Throws VALIDATION_ERROR for problems with the whole file: an invalid
 * column_mapping, a header without external_interaction_id or with duplicate columns, more than
 * `maxRows` rows, or text that is not UTF-8.
 */
export async function* readFileRows(
  source: AsyncIterable<Buffer | string>,
  options: FileReadOptions,
): AsyncGenerator<FileRowOutcome> {
  const csv = options.format === "csv";
  if (csv && options.columnMapping !== undefined) {
    const problems = checkColumnMapping(options.columnMapping);
    if (problems.length > 0)
      throw new AppError("VALIDATION_ERROR", problems.join("; "), { details: { problems } });
  }
  const skipThrough = options.startAfterRow ?? 0;
  const batches = csv ? csvRows(source, options.columnMapping) : ndjsonRows(source);
  let row = 0;
  for await (const batch of batches) {
    for (const raw of batch) {
      row++;
      if (row > options.maxRows) {
        throw new AppError(
          "VALIDATION_ERROR",
          `The file has more than ${options.maxRows} rows; split it into files of at most ${options.maxRows} rows`,
        );
      }
      if (row > skipThrough) yield outcomeOf(raw, row, options.defaults);
    }
  }
}

function outcomeOf(raw: RawRow, row: number, defaults: FileDefaults | undefined): FileRowOutcome {
  const { line } = raw;
  if ("error" in raw) {
    return { kind: "error", row, line, reason: raw.error, externalInteractionId: raw.externalInteractionId };
  }
  const built = buildItem(raw.fields, raw.metadata, defaults);
  if ("error" in built) {
    const externalInteractionId = externalIdOf(raw.fields["external_interaction_id"]);
    return { kind: "error", row, line, reason: built.error, externalInteractionId };
  }
  return { kind: "row", row, line, item: built.item };
}
