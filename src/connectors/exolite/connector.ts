import { AppError, describeError } from "../../core/errors.ts";
import type {
  ConnectionCheck,
  ConnectorDefinition,
  RunContext,
  SourceItem,
  UnreadableRecord,
} from "../connector.ts";
import { ExoliteClient } from "./client.ts";
import {
  type ExoliteCheckpoint,
  type ExoliteConfig,
  exoliteBaseUrl,
  exoliteCheckpointSchema,
  exoliteConfigSchema,
} from "./config.ts";
import { decideCall, recordingUrlOf } from "./mapping.ts";
import { formatExoliteTime, historyStart, monthWindows, startOfPreviousLocalDay } from "./windows.ts";

/** Statuses that say a pre-signed recording URL has expired (S3 answers 403, some gateways 400/401). */
const expiredStatuses = new Set([400, 401, 403]);

/**
 * Exolite (Exotel-style) bulk call details API: a daily pull of the previous day's calls, each call
 * with a recording ingested once (dedupe by Sid); the recording is fetched with the account's
 * credentials when the pipeline processes the call.
 */
export const exoliteConnector: ConnectorDefinition<ExoliteConfig, ExoliteCheckpoint> = {
  kind: "exolite",
  version: 1,
  title: "Exolite — bulk call API (daily pull)",
  summary:
    "Pulls calls with recordings from the Exolite bulk call details API every day (and on demand, or for a date range), and signs Exolite users in to cqa from the dashboard button.",
  mode: "poll",
  configSchema: exoliteConfigSchema,
  secretFields: ["api_token", "redirect.secret"],
  checkpointSchema: exoliteCheckpointSchema,
  defaultSchedule: { type: "daily", at: "02:00" },
  supportsRange: true,
  create(context) {
    const { config } = context;
    const client = new ExoliteClient(config, context.allow);
    const timeZone = config.timezone ?? context.integration.timezone;
    const lookbackMs = config.lookback_minutes * 60_000;

    const readCheckpoint = async (): Promise<ExoliteCheckpoint> => {
      const stored = exoliteCheckpointSchema.safeParse(await context.readCheckpoint());
      return stored.success ? stored.data : { through: null, position: null };
    };

    /** The range this run covers, [from, to), and where to start in it (a resumed run). */
    const planRun = (run: RunContext, checkpoint: ExoliteCheckpoint, now: Date) => {
      const oldest = historyStart(now, timeZone);
      const position = checkpoint.position?.run_id === run.runId ? checkpoint.position : null;
      if (position) {
        return { from: new Date(position.from), to: new Date(position.to), start: new Date(position.after) };
      }
      if (run.from) {
        const to = run.to && run.to < now ? run.to : now;
        if (to <= oldest) {
          throw new AppError(
            "VALIDATION_ERROR",
            `The bulk call API keeps call details for 6 months: ask for a range ending after ${oldest.toISOString()}`,
          );
        }
        const from = new Date(Math.max(run.from.getTime(), oldest.getTime()));
        return { from, to, start: from };
      }
      const base = checkpoint.through ? new Date(checkpoint.through) : startOfPreviousLocalDay(now, timeZone);
      const wanted = new Date(base.getTime() - lookbackMs);
      const from = new Date(Math.max(wanted.getTime(), oldest.getTime()));
      return { from, to: now, start: from };
    };

    const test = async (): Promise<ConnectionCheck[]> => {
      const base = exoliteBaseUrl(config);
      const now = context.clock.now();
      const window = {
        gte: formatExoliteTime(new Date(now.getTime() - 3600_000), timeZone),
        lte: formatExoliteTime(now, timeZone),
      };
      const checks: ConnectionCheck[] = [];
      try {
        await client.page(client.firstPageUrl(window, 1));
        checks.push({ name: "reach", ok: true, message: `${base} answers` });
        checks.push({
          name: "auth",
          ok: true,
          message: `The API key and token are accepted for account ${config.account_sid}'s call details`,
        });
      } catch (error) {
        const message = describeError(error);
        const status =
          (error instanceof AppError
            ? (error.details as { status?: number } | undefined)?.status
            : undefined) ?? null;
        if (status === null) {
          checks.push({ name: "reach", ok: false, message: `${base} cannot be reached: ${message}` });
        } else {
          checks.push({ name: "reach", ok: true, message: `${base} answers` });
          checks.push({ name: status === 403 ? "permissions" : "auth", ok: false, message });
        }
      }
      if (config.redirect) {
        checks.push({
          name: "redirect",
          ok: true,
          message: "Dashboard links signed with redirect.secret are accepted at /api/v1/exolite/launch",
        });
      }
      return checks;
    };

    const run = async (runContext: RunContext): Promise<void> => {
      const checkpoint = await readCheckpoint();
      const now = context.clock.now();
      const plan = planRun(runContext, checkpoint, now);
      const settledBefore = new Date(now.getTime() - lookbackMs);
      const through = checkpoint.through;
      const positionFor = (after: Date) => ({
        run_id: runContext.runId,
        from: plan.from.toISOString(),
        to: plan.to.toISOString(),
        after: after.toISOString(),
      });
      for (const window of monthWindows(plan.start, plan.to, timeZone)) {
        for await (const page of client.pages(window, runContext.signal)) {
          const decisions = page.calls.map((call) => decideCall(call, config, timeZone, settledBefore));
          const sids = decisions.flatMap((d) => (d.kind === "ingest" ? [d.sid] : []));
          const known = await context.storedExternalIds(sids);
          const items: SourceItem[] = [];
          const unreadable: UnreadableRecord[] = [];
          let seen = 0;
          let last = window.from;
          for (const decision of decisions) {
            if (decision.createdAt && decision.createdAt > last) last = decision.createdAt;
            if (decision.kind === "unreadable") {
              unreadable.push(decision.record);
              seen++;
              continue;
            }
            // Read again (look-back, or a run that continues after a crash): stored already, not counted.
            if (decision.kind === "ingest" && known.has(decision.sid)) continue;
            seen++;
            if (decision.kind === "ingest") {
              items.push({ sourceRef: `call ${decision.sid}`, item: decision.item, raw: decision.raw });
            }
          }
          await context.ingest(items, {
            runId: runContext.runId,
            unreadable,
            seen,
            checkpoint: { through, position: positionFor(last) },
          });
          if (runContext.signal.aborted) return;
        }
      }
      const next = runContext.from ? through : laterOf(through, plan.to.toISOString());
      await context.ingest([], { checkpoint: { through: next, position: null } });
      await context.reportHealth({ lag: lagOf(next, context.clock.now()) });
    };

    return {
      test,
      run,
      async lag() {
        return lagOf((await readCheckpoint()).through, context.clock.now());
      },
      async itemFromDeadLetter(payload) {
        const decision = decideCall(JSON.parse(payload), config, timeZone, new Date(8.64e15));
        if (decision.kind === "ingest") return decision.item;
        if (decision.kind === "unreadable") throw new Error(decision.record.reason);
        throw new Error("The call has no recording to analyse");
      },
      async openMedia(url, owner, limits) {
        if (!/^https?:\/\//i.test(url)) return null;
        if (config.recording.source === "recording_url") {
          return client.isCredentialedHost(url) ? client.openRecording(url, limits) : null;
        }
        // Pre-signed URLs expire (5–60 minutes): when one has, ask the call details API for a fresh one.
        const first = await client.openRecording(url, limits);
        if (!expiredStatuses.has(first.status) || !owner.externalInteractionId) return first;
        first.body.resume();
        const call = await client.call(owner.externalInteractionId, limits.signal);
        const fresh = call ? recordingUrlOf(call, config) : null;
        if (!fresh) return first;
        return client.openRecording(fresh, limits);
      },
    };
  },
};

function laterOf(a: string | null, b: string): string {
  return a !== null && a > b ? a : b;
}

/** Seconds between the checkpoint and now: how far behind the pull is. */
function lagOf(through: string | null, now: Date): { seconds_behind: number | null } {
  return {
    seconds_behind: through ? Math.max(0, Math.round((now.getTime() - Date.parse(through)) / 1000)) : null,
  };
}
