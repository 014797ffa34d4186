import { AppError, isAppError } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { joinInboxPath, nameOf } from "../../core/inboxPaths.ts";
import { readFileRows } from "../../ingest/fileRows.ts";
import type { IngestItemResult } from "../../ingest/ingestInteractions.ts";
import type { Queryable } from "../../storage/db.ts";
import { saveCheckpoint } from "../../storage/repositories/integrations.ts";
import {
  deleteInboxEntry,
  getInboxEntry,
  type InboxEntry,
  insertInboxEntry,
  moveInboxEntry,
  replaceInboxFile,
} from "../../storage/repositories/sftpFiles.ts";
import type { ConnectorContext, SourceItem, UnreadableRecord } from "../connector.ts";
import type { SftpConfig } from "./config.ts";
import { mapCallRow, type RowMapping } from "./mapping.ts";

/** A rejected row, as the result file beside a processed report lists it. */
export interface RejectedRow {
  line: number;
  call_sid: string | null;
  code: string;
  reason: string;
}

/** Where the SFTP connector is: the report it is reading and how far it got. */
export interface SftpCheckpoint {
  /** The report being read (its inbox entry id: a re-upload is a new entry), null between reports. */
  report: {
    entry_id: string;
    path: string;
    row: number;
    rejected: RejectedRow[];
    rejected_more: number;
  } | null;
  reports_processed: number;
  last_report: { path: string; rows: number; rejected: number; finished_at: string } | null;
}

/** Rows per ingest transaction (and checkpoint). */
const batchSize = 100;
/** Rejected rows kept for the result file; beyond this the file says how many more there were. */
const maxListedRejections = 5_000;

/** How a data row of a VLA report is turned into fields: CSV headers are compared lower-cased. */
export function csvRowMapping(
  config: SftpConfig,
  timeZone: string,
  recordingUrl: (sid: string) => string,
): RowMapping {
  const normal = (name: string) => name.trim().toLowerCase();
  return {
    names: config.columns,
    dateFormat: config.date_format,
    timeZone: config.time_zone ?? timeZone,
    source: config.source,
    recordingUrl,
    read: (row, name) => row[normal(name)],
    covers: normal,
  };
}

/**
 * The report's row as `header → value`: the Standard API's file reader gives the call SID column as
 * the item's external id and every other column as metadata (headers lower-cased).
 */
function rowFields(item: Record<string, unknown>, callSidHeader: string): Record<string, unknown> {
  const metadata = (item["metadata"] ?? {}) as Record<string, unknown>;
  const fields: Record<string, unknown> = { ...metadata };
  for (const [key, value] of Object.entries(item)) {
    if (key === "metadata") continue;
    fields[key === "external_interaction_id" ? callSidHeader.trim().toLowerCase() : key] = value;
  }
  return fields;
}

/** The CSV of a result file: one line per rejected row. */
function resultCsv(report: string, rejected: readonly RejectedRow[], more: number): string {
  const cell = (value: string | number | null) => {
    const text = value === null ? "" : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = ["line,call_sid,code,reason"];
  for (const r of rejected) lines.push([r.line, r.call_sid, r.code, r.reason].map(cell).join(","));
  if (more > 0) {
    lines.push(
      [
        "",
        "",
        "TRUNCATED",
        `${more} more rejected rows of ${report} are listed as dead letters of the integration`,
      ]
        .map(cell)
        .join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Name of the result file of a report: `vla_2026-04-01.csv` → `vla_2026-04-01.result.csv`. */
export function resultFileName(report: string): string {
  const dot = report.lastIndexOf(".");
  return `${dot > 0 ? report.slice(0, dot) : report}.result.csv`;
}

/**
 * Reads one VLA report into the canonical ingest path, a batch of rows per transaction with the
 * checkpoint (report and row) in it, so a crash continues at the next row. The last transaction also
 * moves the report to the processed folder and writes its result file: a report is either still in
 * the inbox (and will be read on) or processed, never half of both.
 */
export async function processReport(
  context: ConnectorContext<SftpConfig, SftpCheckpoint>,
  options: {
    entry: InboxEntry;
    checkpoint: SftpCheckpoint;
    mapping: RowMapping;
    runId: string;
    signal: AbortSignal;
  },
): Promise<"done" | "stopped"> {
  const { entry, mapping, runId, signal } = options;
  const config = context.config;
  const resumed = options.checkpoint.report?.entry_id === entry.id ? options.checkpoint.report : null;
  const state = {
    entry_id: entry.id,
    path: entry.path,
    row: resumed?.row ?? 0,
    rejected: [...(resumed?.rejected ?? [])],
    rejected_more: resumed?.rejected_more ?? 0,
  };
  const counters = { reports: options.checkpoint.reports_processed };
  const reject = (row: RejectedRow) => {
    if (state.rejected.length < maxListedRejections) state.rejected.push(row);
    else state.rejected_more++;
  };

  let records: (SourceItem & { line: number; callSid: string })[] = [];
  let unreadable: UnreadableRecord[] = [];
  const flush = async (final: boolean, fileProblem: string | null) => {
    const batch = records;
    const unread = unreadable;
    records = [];
    unreadable = [];
    const checkpointFor = (): SftpCheckpoint =>
      final
        ? {
            report: null,
            reports_processed: counters.reports + 1,
            last_report: {
              path: entry.path,
              rows: state.row,
              rejected: state.rejected.length + state.rejected_more,
              finished_at: context.clock.now().toISOString(),
            },
          }
        : {
            report: { ...state },
            reports_processed: counters.reports,
            last_report: options.checkpoint.last_report,
          };
    let cleanup: string[] = [];
    await context.ingest(batch, {
      runId,
      unreadable: unread,
      // The checkpoint is computed after this batch's rejections are known (inside the transaction).
      inTransaction: async (tx, results) => {
        noteRejections(batch, results, reject);
        const checkpoint = checkpointFor();
        await saveCheckpoint(tx, context.integration.id, checkpoint);
        if (final)
          cleanup = await finishReport(context, tx, entry, state.rejected, state.rejected_more, fileProblem);
      },
    });
    for (const key of cleanup) await context.blobs.delete(key).catch(() => {});
  };

  let fileProblem: string | null = null;
  try {
    const source = await context.blobs.getStream(entry.blobKey!);
    const callSidHeader = config.columns.call_sid;
    const columnMapping =
      callSidHeader.trim().toLowerCase() === "external_interaction_id"
        ? {}
        : { [callSidHeader]: "external_interaction_id" };
    for await (const outcome of readFileRows(source, {
      format: "csv",
      columnMapping,
      maxRows: config.max_rows,
      startAfterRow: state.row,
    })) {
      const sourceRef = `${entry.path} line ${outcome.line}`;
      if (outcome.kind === "error") {
        const reason = `The row cannot be read: ${outcome.reason}`;
        unreadable.push({
          sourceRef,
          raw: JSON.stringify({ report: entry.path, line: outcome.line }),
          code: "MALFORMED_ROW",
          reason,
        });
        reject({
          line: outcome.line,
          call_sid: outcome.externalInteractionId,
          code: "MALFORMED_ROW",
          reason,
        });
      } else {
        const fields = rowFields(outcome.item, callSidHeader);
        const raw = JSON.stringify({ report: entry.path, line: outcome.line, row: fields });
        const mapped = mapCallRow(fields, mapping);
        if (mapped.ok) {
          records.push({ sourceRef, item: mapped.item, raw, line: outcome.line, callSid: mapped.callSid });
        } else {
          unreadable.push({ sourceRef, raw, code: "VALIDATION_ERROR", reason: mapped.reason });
          reject({
            line: outcome.line,
            call_sid: mapped.callSid,
            code: "VALIDATION_ERROR",
            reason: mapped.reason,
          });
        }
      }
      state.row = outcome.row;
      if (records.length + unreadable.length >= batchSize) {
        await flush(false, null);
        if (signal.aborted) return "stopped";
      }
    }
  } catch (error) {
    if (!isAppError(error) || error.code !== "VALIDATION_ERROR") throw error;
    // The whole file is unusable (no call SID column, not UTF-8, too many rows): say so beside it.
    fileProblem = error.message.replace(
      /map yours with column_mapping, e\.g\. .*$/,
      `set columns.call_sid to your column's name`,
    );
    unreadable.push({
      sourceRef: entry.path,
      raw: JSON.stringify({ report: entry.path }),
      code: "REPORT_UNREADABLE",
      reason: `The report ${entry.path} cannot be read: ${fileProblem}`,
    });
  }
  await flush(true, fileProblem);
  return "done";
}

/** Adds the rows the ingest path rejected (invalid, over the cap) to the report's rejected rows. */
function noteRejections(
  batch: readonly (SourceItem & { line: number; callSid: string })[],
  results: readonly IngestItemResult[],
  reject: (row: RejectedRow) => void,
): void {
  for (const result of results) {
    if (result.status !== "rejected") continue;
    const record = batch[result.index];
    if (record)
      reject({ line: record.line, call_sid: record.callSid, code: result.code, reason: result.reason });
  }
}

/**
 * Moves a read report to the processed folder and, when rows were rejected (or the file was
 * unusable), writes `<report>.result.csv` beside it. Runs in the transaction of the last batch.
 * Answers blob keys to delete after the commit (a replaced older copy of the same name).
 */
async function finishReport(
  context: ConnectorContext<SftpConfig, SftpCheckpoint>,
  tx: Queryable,
  entry: InboxEntry,
  rejected: readonly RejectedRow[],
  more: number,
  fileProblem: string | null,
): Promise<string[]> {
  const accountId = context.integration.accountId;
  const now = context.clock.now();
  const cleanup: string[] = [];
  const current = await getInboxEntry(tx, accountId, entry.path);
  // Removed or replaced by a new upload while it was read: the new one is read on the next run.
  if (!current || current.id !== entry.id) return cleanup;
  const folder = joinInboxPath(entry.parent, context.config.processed_folder);
  const existing = await getInboxEntry(tx, accountId, folder);
  if (existing && !existing.isDir) {
    throw new AppError(
      "CONFIG_INVALID",
      `${folder} is a file, so processed reports cannot be moved there; remove it or change processed_folder`,
    );
  }
  if (!existing) {
    await insertInboxEntry(tx, {
      id: newId(),
      accountId,
      path: folder,
      parent: entry.parent,
      name: nameOf(folder),
      isDir: true,
      blobKey: null,
      size: 0,
      sha256: null,
      uploadedBy: null,
      createdAt: now,
      modifiedAt: now,
    });
  }
  const target = joinInboxPath(folder, entry.name);
  const older = await deleteInboxEntry(tx, accountId, target);
  if (older?.blobKey) cleanup.push(older.blobKey);
  await moveInboxEntry(tx, accountId, entry.path, { path: target, parent: folder, name: entry.name }, now);
  const resultPath = joinInboxPath(folder, resultFileName(entry.name));
  const listed: RejectedRow[] = fileProblem
    ? [{ line: 0, call_sid: null, code: "REPORT_UNREADABLE", reason: fileProblem }, ...rejected]
    : [...rejected];
  if (listed.length === 0) {
    const stale = await deleteInboxEntry(tx, accountId, resultPath);
    if (stale?.blobKey) cleanup.push(stale.blobKey);
    return cleanup;
  }
  const stored = await context.blobs.put(
    `sftp/${accountId}/${newId()}`,
    Buffer.from(resultCsv(entry.name, listed, more)),
  );
  const replaced = await replaceInboxFile(tx, {
    id: newId(),
    accountId,
    path: resultPath,
    parent: folder,
    name: nameOf(resultPath),
    isDir: false,
    blobKey: stored.key,
    size: stored.size,
    sha256: stored.sha256,
    uploadedBy: null,
    createdAt: now,
    modifiedAt: now,
  });
  if ("replacedBlobKey" in replaced && replaced.replacedBlobKey) cleanup.push(replaced.replacedBlobKey);
  return cleanup;
}

/** A dead letter's row mapped again (after the mapping was fixed), for a retry. */
export function itemFromReportDeadLetter(payload: string, mapping: RowMapping): unknown {
  const parsed = JSON.parse(payload) as { report?: string; line?: number; row?: Record<string, unknown> };
  if (!parsed.row) {
    throw new Error(
      `Line ${parsed.line ?? "?"} of ${parsed.report ?? "the report"} could not be read as CSV; correct the report and upload it again`,
    );
  }
  const mapped = mapCallRow(parsed.row, mapping);
  if (!mapped.ok) throw new Error(mapped.reason);
  return mapped.item;
}

/**
 * A backfill (`POST …/run {from, to}`): reads a report again — processed or not — and ingests the rows
 * whose start time is in [from, to) and whose call is not stored yet. Nothing is moved, no checkpoint
 * changes: a backfill can run any time without disturbing the regular reading.
 */
export async function backfillReport(
  context: ConnectorContext<SftpConfig, SftpCheckpoint>,
  options: { entry: InboxEntry; mapping: RowMapping; runId: string; from: Date | null; to: Date | null },
): Promise<void> {
  const { entry, mapping, runId, from, to } = options;
  const config = context.config;
  const callSidHeader = config.columns.call_sid;
  const columnMapping =
    callSidHeader.trim().toLowerCase() === "external_interaction_id"
      ? {}
      : { [callSidHeader]: "external_interaction_id" };
  let batch: SourceItem[] = [];
  let seen = 0;
  const flush = async () => {
    const stored = await context.storedExternalIds(
      batch.map((r) => (r.item as { external_interaction_id: string }).external_interaction_id),
    );
    const fresh = batch.filter(
      (r) => !stored.has((r.item as { external_interaction_id: string }).external_interaction_id),
    );
    await context.ingest(fresh, { runId, seen });
    batch = [];
    seen = 0;
  };
  try {
    const source = await context.blobs.getStream(entry.blobKey!);
    for await (const outcome of readFileRows(source, {
      format: "csv",
      columnMapping,
      maxRows: config.max_rows,
    })) {
      if (outcome.kind !== "row") continue;
      const fields = rowFields(outcome.item, callSidHeader);
      const mapped = mapCallRow(fields, mapping);
      const start = mapped.ok ? (mapped.item["interaction_start_time"] as string | undefined) : undefined;
      if (!mapped.ok || start === undefined) continue;
      const at = new Date(start);
      if ((from && at < from) || (to && at >= to)) continue;
      seen++;
      batch.push({
        sourceRef: `${entry.path} line ${outcome.line}`,
        item: mapped.item,
        raw: JSON.stringify({ report: entry.path, line: outcome.line, row: fields }),
      });
      if (batch.length >= batchSize) await flush();
    }
  } catch (error) {
    // A report that cannot be read at all was reported when it was processed; a backfill skips it.
    if (!isAppError(error) || error.code !== "VALIDATION_ERROR") throw error;
  }
  if (batch.length > 0) await flush();
}
