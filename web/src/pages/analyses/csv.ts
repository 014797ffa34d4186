import type { AnalysisSummary } from "../../api/types.ts";
import type { ColumnDef } from "./columns.tsx";

/** RFC 4180 CSV of the rows with the given columns; cells that a spreadsheet would run as a formula are defused. */
export function toCsv(columns: ColumnDef[], rows: AnalysisSummary[]): string {
  const cell = (text: string) => {
    const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text) ? `'${text}` : text;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [columns.map((c) => cell(c.label)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => cell(c.value(row))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
