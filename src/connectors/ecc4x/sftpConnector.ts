import { z } from "zod";
import { isTemporaryName, joinInboxPath } from "../../core/inboxPaths.ts";
import type { InboxEntry } from "../../storage/repositories/sftpFiles.ts";
import type { ConnectionCheck, ConnectorContext, ConnectorDefinition } from "../connector.ts";
import { VoiceLogClient } from "./client.ts";
import { authSecretFields, filePatternMatcher, type SftpConfig, sftpConfigSchema } from "./config.ts";
import {
  backfillReport,
  csvRowMapping,
  itemFromReportDeadLetter,
  processReport,
  type SftpCheckpoint,
} from "./vlaReport.ts";

const checkpointSchema = z.object({
  report: z
    .object({
      entry_id: z.string(),
      path: z.string(),
      row: z.number().int().min(0),
      rejected: z.array(
        z.object({ line: z.number(), call_sid: z.string().nullable(), code: z.string(), reason: z.string() }),
      ),
      rejected_more: z.number().int().min(0),
    })
    .nullable(),
  reports_processed: z.number().int().min(0),
  last_report: z
    .object({ path: z.string(), rows: z.number(), rejected: z.number(), finished_at: z.string() })
    .nullable(),
}) satisfies z.ZodType<SftpCheckpoint>;

const emptyCheckpoint: SftpCheckpoint = { report: null, reports_processed: 0, last_report: null };

/** Reports waiting in the folder, the one being read first, then oldest first. */
export function waitingReports(
  entries: readonly InboxEntry[],
  config: SftpConfig,
  current: SftpCheckpoint["report"],
): InboxEntry[] {
  const matches = filePatternMatcher(config.file_pattern);
  return entries
    .filter((e) => !e.isDir && e.blobKey !== null && !isTemporaryName(e.name) && matches(e.name))
    .sort((a, b) => {
      if (a.id === current?.entry_id) return -1;
      if (b.id === current?.entry_id) return 1;
      return a.modifiedAt.getTime() - b.modifiedAt.getTime() || a.name.localeCompare(b.name);
    });
}

async function readCheckpoint(
  context: ConnectorContext<SftpConfig, SftpCheckpoint>,
): Promise<SftpCheckpoint> {
  const parsed = checkpointSchema.safeParse(await context.readCheckpoint());
  return parsed.success ? parsed.data : emptyCheckpoint;
}

/**
 * `ecc4x_sftp`: the ECC4x VLA module uploads its daily report to cqa's SFTP endpoint; each row becomes a
 * conversation whose recording cqa fetches from the Voice Log API by call SID.
 */
export const ecc4xSftpConnector: ConnectorDefinition<SftpConfig, SftpCheckpoint> = {
  kind: "ecc4x_sftp",
  version: 1,
  title: "ECC4x — VLA report over SFTP + Voice Log API",
  summary:
    "Reads the VLA module's call reports uploaded to cqa's SFTP endpoint (as soon as an upload completes, daily, or for a date range) and fetches each call's recording from the Voice Log API by call SID.",
  mode: "poll",
  configSchema: sftpConfigSchema as unknown as z.ZodType<SftpConfig>,
  secretFields: authSecretFields("voice_log"),
  checkpointSchema,
  defaultSchedule: { type: "daily", at: "03:00" },
  supportsRange: true,
  create(context) {
    const config = context.config;
    const voiceLog = new VoiceLogClient(config.voice_log, context.allow);
    const mapping = csvRowMapping(config, context.integration.timezone, (sid) => voiceLog.recordingUrl(sid));
    const processedFolder = joinInboxPath(config.folder, config.processed_folder);

    return {
      async test() {
        const checks: ConnectionCheck[] = [];
        const folder = config.folder === "/" ? null : await context.inbox.get(config.folder);
        if (config.folder !== "/" && !folder?.isDir) {
          checks.push({
            name: "inbox folder",
            ok: false,
            message: `The SFTP inbox has no folder ${config.folder} yet: create it (sftp> mkdir ${config.folder}) or change folder`,
          });
        } else {
          const waiting = waitingReports(await context.inbox.list(config.folder), config, null).length;
          checks.push({
            name: "inbox folder",
            ok: true,
            message: `${config.folder} of the SFTP inbox is read for ${config.file_pattern} (${waiting} report(s) waiting)`,
          });
        }
        return [...checks, ...(await voiceLog.check())];
      },

      async run(run) {
        if (run.from || run.to) {
          for (const folder of [config.folder, processedFolder]) {
            for (const entry of waitingReports(await context.inbox.list(folder), config, null)) {
              if (run.signal.aborted) return;
              await backfillReport(context, { entry, mapping, runId: run.runId, from: run.from, to: run.to });
            }
          }
          return;
        }
        const done = new Set<string>();
        // Reports that arrive while others are read are read in the same run.
        for (;;) {
          const checkpoint = await readCheckpoint(context);
          const next = waitingReports(
            await context.inbox.list(config.folder),
            config,
            checkpoint.report,
          ).find((e) => !done.has(e.id));
          if (!next || run.signal.aborted) return;
          done.add(next.id);
          const outcome = await processReport(context, {
            entry: next,
            checkpoint,
            mapping,
            runId: run.runId,
            signal: run.signal,
          });
          if (outcome === "stopped") return;
        }
      },

      async lag() {
        const waiting = waitingReports(await context.inbox.list(config.folder), config, null);
        const oldest = waiting.reduce<Date | null>(
          (o, e) => (o === null || e.modifiedAt < o ? e.modifiedAt : o),
          null,
        );
        return {
          reports_waiting: waiting.length,
          oldest_waiting_seconds: oldest
            ? Math.max(0, Math.round((context.clock.now().getTime() - oldest.getTime()) / 1000))
            : 0,
        };
      },

      async itemFromDeadLetter(payload) {
        return itemFromReportDeadLetter(payload, mapping);
      },

      async openMedia(url, _owner, limits) {
        return voiceLog.owns(url) ? voiceLog.open(url, limits) : null;
      },
    };
  },
};
