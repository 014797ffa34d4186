import { AppError } from "../core/errors.ts";
import { type ColumnRole, planColumns } from "./columnMapping.ts";
import { type CsvRecord, CsvTokenizer, detectDelimiter } from "./fileRowsCsvTokenizer.ts";
import { decodeText, externalIdOf, type RawRow } from "./fileRowsSource.ts";

/** How much text to hold while looking for the end of the header line. */
const headerLookahead = 64 * 1024;

/**
 * Reads a CSV file into raw rows, a batch per chunk read. The first record is the header; every
 * later record becomes a row (rows whose cells are all blank, such as the ",,,," lines spreadsheets
 * leave at the end, are skipped like empty lines).
 */
export async function* csvRows(
  source: AsyncIterable<Buffer | string>,
  columnMapping: Record<string, string> | undefined,
): AsyncGenerator<RawRow[]> {
  const mapper = new CsvRowMapper(columnMapping);
  let tokenizer: CsvTokenizer | null = null;
  let head = "";
  const records: CsvRecord[] = [];
  for await (const text of decodeText(source)) {
    if (tokenizer === null) {
      // The delimiter is chosen from the header line, so hold text until that line is complete.
      head += text;
      if (!/[\r\n]/.test(head) && head.length < headerLookahead) continue;
      tokenizer = new CsvTokenizer(detectDelimiter(firstLine(head)));
      tokenizer.push(head, records);
      head = "";
    } else {
      tokenizer.push(text, records);
    }
    if (records.length > 0) {
      const rows = mapper.toRows(records);
      records.length = 0;
      if (rows.length > 0) yield rows;
    }
  }
  tokenizer ??= new CsvTokenizer(detectDelimiter(firstLine(head)));
  tokenizer.push(head, records);
  tokenizer.end(records);
  const rows = mapper.toRows(records);
  if (!mapper.sawHeader) {
    throw new AppError("VALIDATION_ERROR", "The CSV file is empty: it needs a header row naming its columns");
  }
  if (rows.length > 0) yield rows;
}

function firstLine(text: string): string {
  const end = text.search(/[\r\n]/);
  return end === -1 ? text : text.slice(0, end);
}

/** Turns records into rows, using the first record as the header. */
class CsvRowMapper {
  private readonly columnMapping: Record<string, string> | undefined;
  private roles: ColumnRole[] | null = null;
  private idColumn = -1;

  constructor(columnMapping: Record<string, string> | undefined) {
    this.columnMapping = columnMapping;
  }

  get sawHeader(): boolean {
    return this.roles !== null;
  }

  toRows(records: CsvRecord[]): RawRow[] {
    const rows: RawRow[] = [];
    for (const record of records) {
      if (this.roles === null) {
        this.readHeader(record);
        continue;
      }
      const row = this.toRow(record, this.roles);
      if (row) rows.push(row);
    }
    return rows;
  }

  private readHeader(record: CsvRecord): void {
    if (record.error !== null) {
      throw new AppError(
        "VALIDATION_ERROR",
        `The CSV header row (line ${record.line}) is malformed: ${record.error}`,
      );
    }
    this.roles = planColumns(record.cells, this.columnMapping);
    this.idColumn = this.roles.findIndex((r) => r.kind === "field" && r.name === "external_interaction_id");
  }

  private toRow(record: CsvRecord, roles: ColumnRole[]): RawRow | null {
    const { line, cells } = record;
    const externalInteractionId = externalIdOf(cells[this.idColumn]);
    if (record.error !== null) return { line, error: record.error, externalInteractionId };
    if (cells.every(isBlank)) return null;
    // Trailing empty cells beyond the header (a trailing comma) are harmless; values there are not.
    if (cells.length > roles.length && !cells.slice(roles.length).every(isBlank)) {
      return {
        line,
        error:
          `The row has ${cells.length} values but the header has ${roles.length} columns; ` +
          "quote values that contain the delimiter",
        externalInteractionId,
      };
    }
    const fields: Record<string, unknown> = {};
    const metadata: [string, string][] = [];
    for (let i = 0; i < roles.length; i++) {
      const cell = cells[i];
      if (cell === undefined || isBlank(cell)) continue; // fewer cells than columns: the rest are empty
      const role = roles[i]!;
      if (role.kind === "field") {
        fields[role.name] = cellValue(role.name, cell);
      } else if (role.kind === "metadata") {
        metadata.push([role.key, cell]);
      } else {
        return {
          line,
          error: `The row has a value in column ${i + 1}, which has no header; name the column or remove the value`,
          externalInteractionId,
        };
      }
    }
    return { line, fields, metadata: metadata.length > 0 ? Object.fromEntries(metadata) : undefined };
  }
}

function isBlank(cell: string): boolean {
  return cell.trim() === "";
}

/**
 * A canonical cell as the item schema expects it. Only unambiguous values are converted; anything
 * else is passed on as text so that validation reports it with the column's name.
 */
function cellValue(column: string, cell: string): unknown {
  if (column === "transcript_text") return cell;
  const text = cell.trim();
  if (column === "duration_seconds") return /^[+-]?\d+$/.test(text) ? Number(text) : text;
  if (column === "pii_redacted") {
    const flag = text.toLowerCase();
    if (flag === "true" || flag === "1" || flag === "yes") return true;
    if (flag === "false" || flag === "0" || flag === "no") return false;
  }
  return text;
}
