/** One CSV record: its cells and the physical line it starts on; `error` when it is malformed. */
export interface CsvRecord {
  line: number;
  cells: string[];
  /** Why the record is unusable; `cells` then holds the values read before the problem. */
  error: string | null;
}

const quote = 0x22;
const lf = 0x0a;
const cr = 0x0d;

// States of the tokenizer (plain numbers: no enums under type stripping).
const fieldStart = 0;
const unquoted = 1;
const quoted = 2;
/** Just read a quote inside a quoted value: either an escaped quote ("") or the closing quote. */
const quoteInQuoted = 3;
/** Skipping the rest of a malformed record, still honouring quotes so embedded newlines stay inside it. */
const skipping = 4;

/** A record longer than this is an error (most likely a quote never closed); it bounds memory. */
export const maxRecordChars = 16 * 1024 * 1024;

/**
 * A streaming RFC 4180 tokenizer that knows, for every record, the physical line it starts on.
 *
 * Written here rather than taken from csv-parse because csv-parse 7 counts a CRLF inside a quoted
 * value as two lines (line numbers drift on Windows files) and, after a bad closing quote with
 * `skip_records_with_error`, stays inside the quote and silently swallows the following records.
 * Here a malformed record is reported on its own and reading resumes at the next record.
 *
 * Rules: records end at LF, CRLF or CR outside quotes; lines holding nothing are skipped; a quoted
 * value may contain delimiters, newlines and doubled quotes (""); a quote inside an unquoted value is
 * kept as a literal character (lenient, the value is exactly what the file holds); text after a
 * closing quote other than a delimiter or newline makes the record malformed.
 */
export class CsvTokenizer {
  private readonly delimiter: number;
  private state = fieldStart;
  private cells: string[] = [];
  /** Pieces of the value being read, when it spans chunks or holds escaped quotes. */
  private parts: string[] = [];
  /** Line of the character being read. */
  private line = 1;
  private previousWasCr = false;
  /** Line the current record starts on; 0 between records. */
  private recordLine = 0;
  private quoteLine = 0;
  private recordChars = 0;
  private error: string | null = null;
  private skipInQuotes = false;

  constructor(delimiter: string) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** Reads the next piece of text; appends the records it completes to `out`. */
  push(text: string, out: CsvRecord[]): void {
    const delimiter = this.delimiter;
    const length = text.length;
    let segmentStart = 0;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case fieldStart:
          if (c === cr || c === lf) {
            // A newline right after a delimiter ends the record with an empty last value;
            // with no record under way it is an empty line (or the LF of a CRLF).
            if (this.recordLine !== 0) {
              this.cells.push("");
              this.endRecord(out);
            }
            break;
          }
          if (this.recordLine === 0) this.recordLine = this.line;
          if (c === quote) {
            this.state = quoted;
            this.quoteLine = this.line;
            segmentStart = i + 1;
          } else if (c === delimiter) {
            this.cells.push("");
          } else {
            this.state = unquoted;
            segmentStart = i;
          }
          break;
        case unquoted:
          if (c === delimiter) {
            this.cells.push(this.takeValue(text, segmentStart, i));
            this.state = fieldStart;
          } else if (c === cr || c === lf) {
            this.cells.push(this.takeValue(text, segmentStart, i));
            this.endRecord(out);
          }
          break;
        case quoted:
          if (c === quote) {
            this.parts.push(text.slice(segmentStart, i));
            this.state = quoteInQuoted;
          }
          break;
        case quoteInQuoted:
          if (c === quote) {
            this.state = quoted;
            segmentStart = i; // the second quote of "" is part of the value
          } else if (c === delimiter) {
            this.cells.push(this.takeValue(text, i, i));
            this.state = fieldStart;
          } else if (c === cr || c === lf) {
            this.cells.push(this.takeValue(text, i, i));
            this.endRecord(out);
          } else {
            this.fail(
              `Invalid closing quote: value ${this.cells.length + 1} has ${JSON.stringify(text[i])} after its ` +
                `closing quote on line ${this.line}; write a quote inside a quoted value as two quotes ("")`,
            );
          }
          break;
        case skipping:
          if (c === quote) this.skipInQuotes = !this.skipInQuotes;
          else if ((c === cr || c === lf) && !this.skipInQuotes) this.endRecord(out);
          break;
      }
      if (c === cr) this.line++;
      else if (c === lf && !this.previousWasCr) this.line++;
      this.previousWasCr = c === cr;
    }
    if (this.state === unquoted || this.state === quoted) {
      const rest = text.slice(segmentStart);
      this.parts.push(rest);
      this.recordChars += rest.length;
      if (this.recordChars > maxRecordChars) {
        const unclosed = this.state === quoted;
        this.fail(
          `The record is longer than ${maxRecordChars} characters` +
            (unclosed ? `; the quote opened on line ${this.quoteLine} is probably never closed` : ""),
        );
        this.skipInQuotes = unclosed;
      }
    }
  }

  /** Finishes the input; appends the last record (or the error of an unfinished one) to `out`. */
  end(out: CsvRecord[]): void {
    if (this.recordLine === 0) return;
    if (this.state === quoted) {
      this.fail(
        `Unclosed quote: the value opened on line ${this.quoteLine} has no closing quote, so the rest of ` +
          "the file was read as part of it",
      );
    } else if (this.state === unquoted || this.state === quoteInQuoted) {
      this.cells.push(this.takeValue("", 0, 0));
    } else if (this.state === fieldStart) {
      this.cells.push("");
    }
    this.endRecord(out);
  }

  private takeValue(text: string, from: number, to: number): string {
    this.recordChars += to - from;
    if (this.parts.length === 0) return text.slice(from, to);
    this.parts.push(text.slice(from, to));
    const value = this.parts.join("");
    this.parts = [];
    return value;
  }

  private fail(reason: string): void {
    this.error ??= reason;
    this.parts = [];
    this.state = skipping;
    this.skipInQuotes = false;
  }

  private endRecord(out: CsvRecord[]): void {
    out.push({ line: this.recordLine, cells: this.cells, error: this.error });
    this.cells = [];
    this.parts = [];
    this.recordLine = 0;
    this.recordChars = 0;
    this.error = null;
    this.state = fieldStart;
  }
}

/**
 * The delimiter of a CSV file, from its header line: a comma when the header has one; otherwise a
 * tab or a semicolon when the header has those (the more frequent wins), as spreadsheet exports in
 * many locales use them; a comma otherwise (a one-column file).
 */
export function detectDelimiter(headerLine: string): string {
  if (headerLine.includes(",")) return ",";
  const tabs = headerLine.split("\t").length - 1;
  const semicolons = headerLine.split(";").length - 1;
  if (tabs === 0 && semicolons === 0) return ",";
  return tabs >= semicolons ? "\t" : ";";
}
