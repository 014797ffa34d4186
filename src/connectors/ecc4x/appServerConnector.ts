import { z } from "zod";
import { AppError, describeError } from "../../core/errors.ts";
import type { ConnectionCheck, ConnectorDefinition, SourceItem, UnreadableRecord } from "../connector.ts";
import { getJson, VoiceLogClient } from "./client.ts";
import { type AppServerConfig, appServerConfigSchema, authSecretFields } from "./config.ts";
import { formatTime, parseTime } from "./dateTimes.ts";
import { mapCallRow, type RowMapping, readPath } from "./mapping.ts";

/**
 * Where the poller is. `cursor` is the newest row stored (its time or id as the API wrote it) and
 * `at_cursor` the call SIDs stored at exactly that time, so an API that answers "at or after" the
 * cursor does not hand them in twice. `walk` is a paging pass under way: the cursor it started from
 * (and the SIDs at it) and the next page, so a crash continues at the page after the last stored one.
 */
export interface AppServerCheckpoint {
  cursor: string | null;
  at_cursor: string[];
  walk: { since: string | null; since_ids: string[]; position: number | string | null } | null;
}

const checkpointSchema = z.object({
  cursor: z.string().nullable(),
  at_cursor: z.array(z.string()),
  walk: z
    .object({
      since: z.string().nullable(),
      since_ids: z.array(z.string()),
      position: z.union([z.number(), z.string()]).nullable(),
    })
    .nullable(),
}) satisfies z.ZodType<AppServerCheckpoint>;

/** The App Server API's answer to one page request. */
interface Page {
  rows: Record<string, unknown>[];
  /** The next page's position, or null on the last page. */
  next: number | string | null;
}

/** SIDs kept per cursor value (calls ending in the same second); a bound on the checkpoint's size. */
const maxIdsAtCursor = 10_000;

function jsonMapping(
  config: AppServerConfig,
  timeZone: string,
  recordingUrl: (sid: string) => string,
): RowMapping {
  return {
    names: config.fields,
    dateFormat: config.date_format,
    timeZone: config.time_zone ?? timeZone,
    source: config.source,
    recordingUrl,
    read: readPath,
    covers: (name) => name.split(".")[0] ?? name,
  };
}

/** Compares two cursor values: instants for time cursors, numbers (or text) for id cursors. */
function cursorOrder(config: AppServerConfig, timeZone: string) {
  const zone = config.time_zone ?? timeZone;
  const key = (value: string): number | string | null => {
    if (config.cursor.type === "time") {
      const at = parseTime(value, config.date_format, zone);
      return typeof at === "string" ? null : at.getTime();
    }
    return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  };
  return {
    key,
    compare(a: string, b: string): number {
      const ka = key(a);
      const kb = key(b);
      if (ka === null || kb === null) return 0;
      if (typeof ka === "number" && typeof kb === "number") return ka - kb;
      return String(ka) < String(kb) ? -1 : String(ka) > String(kb) ? 1 : 0;
    },
  };
}

function cursorText(value: unknown): string | null {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * `ecc4x_app_server`: polls the ECC4x App Server API for call rows newer than its cursor, page by
 * page; each row becomes a conversation whose recording cqa fetches from the Voice Log API.
 */
export const ecc4xAppServerConnector: ConnectorDefinition<AppServerConfig, AppServerCheckpoint> = {
  kind: "ecc4x_app_server",
  version: 1,
  title: "ECC4x — App Server API poller + Voice Log API",
  summary:
    "Polls the ECC4x App Server API for new call rows since its cursor (time or id; offset, page or cursor paging) and fetches each call's recording from the Voice Log API by call SID.",
  mode: "poll",
  configSchema: appServerConfigSchema as unknown as z.ZodType<AppServerConfig>,
  secretFields: [...authSecretFields("app_server"), ...authSecretFields("voice_log")],
  checkpointSchema,
  defaultSchedule: { type: "interval", every_seconds: 300 },
  supportsRange: true,
  create(context) {
    const config = context.config;
    const zone = config.time_zone ?? context.integration.timezone;
    const voiceLog = new VoiceLogClient(config.voice_log, context.allow);
    const mapping = jsonMapping(config, context.integration.timezone, (sid) => voiceLog.recordingUrl(sid));
    const order = cursorOrder(config, context.integration.timezone);
    const paging = config.paging;
    const firstPosition = (): number | string | null =>
      paging.style === "offset" ? 0 : paging.style === "page" ? paging.first_page : null;

    const pageUrl = (
      since: string | null,
      position: number | string | null,
      size = paging.page_size,
    ): string => {
      const url = new URL(config.app_server.base_url.replace(/\/+$/, "") + config.app_server.path);
      for (const [name, value] of Object.entries(config.app_server.query)) url.searchParams.set(name, value);
      if (since !== null) url.searchParams.set(config.cursor.param, since);
      if (paging.style !== "none") url.searchParams.set(paging.size_param, String(size));
      if (paging.style === "offset") url.searchParams.set(paging.offset_param, String(position ?? 0));
      if (paging.style === "page")
        url.searchParams.set(paging.page_param, String(position ?? paging.first_page));
      if (paging.style === "cursor" && position !== null)
        url.searchParams.set(paging.cursor_param, String(position));
      return url.href;
    };

    const fetchPage = async (
      since: string | null,
      position: number | string | null,
      signal?: AbortSignal,
      size = paging.page_size,
    ): Promise<Page> => {
      const body = await getJson(pageUrl(since, position, size), {
        allow: context.allow,
        auth: config.app_server.auth,
        timeoutMs: config.app_server.timeout_seconds * 1000,
        what: "The App Server API",
        ...(signal ? { signal } : {}),
      });
      const field = config.app_server.rows_field;
      const rows = field === "" ? body : readPath(body, field);
      if (!Array.isArray(rows)) {
        throw new AppError(
          "FETCH_FAILED",
          `The App Server API's answer has no list of rows at '${field || "(the answer itself)"}'; check app_server.rows_field`,
          { retryable: false },
        );
      }
      const objects = rows.filter(
        (r): r is Record<string, unknown> => r !== null && typeof r === "object" && !Array.isArray(r),
      );
      let next: number | string | null = null;
      if (paging.style === "offset") next = rows.length >= size ? Number(position ?? 0) + rows.length : null;
      else if (paging.style === "page")
        next = rows.length >= size ? Number(position ?? paging.first_page) + 1 : null;
      else if (paging.style === "cursor") next = cursorText(readPath(body, paging.next_cursor_field));
      return { rows: objects, next };
    };

    const readState = async (): Promise<AppServerCheckpoint> => {
      const parsed = checkpointSchema.safeParse(await context.readCheckpoint());
      return parsed.success
        ? parsed.data
        : { cursor: config.cursor.start ?? null, at_cursor: [], walk: null };
    };

    /** Whether a row is one the cursor says was stored already. */
    const storedBefore = (
      row: Record<string, unknown>,
      since: string | null,
      sinceIds: ReadonlySet<string>,
    ) => {
      const value = cursorText(readPath(row, config.cursor.field));
      if (since === null || value === null) return false;
      const position = order.compare(value, since);
      if (position < 0) return true;
      if (position > 0) return false;
      // At the cursor itself: ids are "after", so the same id is stored; times may repeat.
      if (config.cursor.type === "id") return true;
      const sid = cursorText(readPath(row, config.fields.call_sid));
      return sid !== null && sinceIds.has(sid);
    };

    const toRecords = (rows: readonly Record<string, unknown>[], page: string) => {
      const records: SourceItem[] = [];
      const unreadable: UnreadableRecord[] = [];
      rows.forEach((row, index) => {
        const raw = JSON.stringify(row);
        const mapped = mapCallRow(row, mapping);
        const sourceRef = `${page} row ${index + 1}${mapped.callSid ? ` (call ${mapped.callSid})` : ""}`;
        if (mapped.ok) records.push({ sourceRef, item: mapped.item, raw });
        else unreadable.push({ sourceRef, raw, code: "VALIDATION_ERROR", reason: mapped.reason });
      });
      return { records, unreadable };
    };

    /** The newest cursor after these rows, and the SIDs stored at exactly it. */
    const advance = (state: AppServerCheckpoint, rows: readonly Record<string, unknown>[]) => {
      let cursor = state.cursor;
      let ids = new Set(state.at_cursor);
      for (const row of rows) {
        const value = cursorText(readPath(row, config.cursor.field));
        if (value === null || order.key(value) === null) continue;
        const sid = cursorText(readPath(row, config.fields.call_sid));
        const position = cursor === null ? 1 : order.compare(value, cursor);
        if (position > 0) {
          cursor = value;
          ids = new Set(sid ? [sid] : []);
        } else if (position === 0 && sid && ids.size < maxIdsAtCursor) {
          ids.add(sid);
        }
      }
      return { cursor, at_cursor: [...ids] };
    };

    // With a look-back, a pass starts before the cursor and skips the calls that are stored already.
    const lookback = config.cursor.type === "time" ? config.cursor.lookback_seconds : 0;
    const lookedBack = (cursor: string | null): string | null => {
      if (cursor === null || lookback === 0) return cursor;
      const at = order.key(cursor);
      return typeof at === "number"
        ? formatTime(new Date(at - lookback * 1000), config.date_format, zone)
        : cursor;
    };
    const notStored = async (rows: readonly Record<string, unknown>[], cursor: string | null) => {
      const sidOf = (row: Record<string, unknown>) => cursorText(readPath(row, config.fields.call_sid));
      const older = rows.filter((row) => {
        const value = cursorText(readPath(row, config.cursor.field));
        return cursor !== null && value !== null && order.compare(value, cursor) <= 0;
      });
      const sids = older.map(sidOf).filter((sid): sid is string => sid !== null);
      const stored = sids.length > 0 ? await context.storedExternalIds(sids) : new Set<string>();
      return rows.filter((row) => {
        const sid = sidOf(row);
        return !(sid !== null && stored.has(sid) && older.includes(row));
      });
    };

    const backfill = async (runId: string, from: Date | null, to: Date | null, signal: AbortSignal) => {
      if (config.cursor.type !== "time") {
        throw new AppError(
          "VALIDATION_ERROR",
          "A date range needs a time cursor (cursor.type time); an id cursor cannot be started at a date",
        );
      }
      let position = firstPosition();
      const since = from ? from.toISOString() : null;
      for (;;) {
        if (signal.aborted) return;
        const page = await fetchPage(since, position, signal);
        const inRange = page.rows.filter((row) => {
          const value = cursorText(readPath(row, config.cursor.field));
          const at = value === null ? null : order.key(value);
          return typeof at === "number" && (!from || at >= from.getTime()) && (!to || at < to.getTime());
        });
        const { records, unreadable } = toRecords(inRange, `backfill page ${position ?? 1}`);
        const stored = await context.storedExternalIds(
          records.map((r) => (r.item as { external_interaction_id: string }).external_interaction_id),
        );
        await context.ingest(
          records.filter(
            (r) => !stored.has((r.item as { external_interaction_id: string }).external_interaction_id),
          ),
          { runId, unreadable, seen: inRange.length },
        );
        const pastRange =
          to &&
          page.rows.some((row) => {
            const value = cursorText(readPath(row, config.cursor.field));
            const at = value === null ? null : order.key(value);
            return typeof at === "number" && at >= to.getTime();
          });
        if (page.next === null || page.rows.length === 0 || pastRange) return;
        position = page.next;
      }
    };

    return {
      async test() {
        const checks: ConnectionCheck[] = [];
        try {
          const page = await fetchPage(config.cursor.start ?? null, firstPosition(), undefined, 1);
          checks.push({
            name: "app server reach",
            ok: true,
            message: `${config.app_server.base_url} answers and accepts cqa's credentials`,
          });
          const row = page.rows[0];
          if (!row) {
            checks.push({
              name: "format",
              ok: true,
              message: "The call list answered (no rows yet to check the field mapping against)",
            });
          } else {
            const mapped = mapCallRow(row, mapping);
            const cursor = cursorText(readPath(row, config.cursor.field));
            const problems = [
              ...(mapped.ok ? [] : [mapped.reason]),
              ...(cursor === null || order.key(cursor) === null
                ? [
                    `the cursor field '${config.cursor.field}' is missing or not a ${config.cursor.type} (check cursor.field and date_format)`,
                  ]
                : []),
            ];
            checks.push({
              name: "format",
              ok: problems.length === 0,
              message:
                problems.length === 0
                  ? "A row of the call list maps to a conversation"
                  : `A row of the call list does not map: ${problems.join("; ")}`,
            });
          }
        } catch (error) {
          checks.push({
            name: "app server reach",
            ok: false,
            message: `${config.app_server.base_url} cannot be used: ${describeError(error)}. Check app_server.base_url and auth, and that the App Server lets cqa's address in`,
          });
        }
        return [...checks, ...(await voiceLog.check())];
      },

      async run(run) {
        if (run.from || run.to) return backfill(run.runId, run.from, run.to, run.signal);
        let state = await readState();
        for (let pages = 0; ; pages++) {
          if (run.signal.aborted) return;
          const walk = state.walk ?? {
            since: lookedBack(state.cursor),
            since_ids: state.at_cursor,
            position: firstPosition(),
          };
          const page = await fetchPage(walk.since, walk.position, run.signal);
          const fresh =
            lookback > 0
              ? await notStored(page.rows, state.cursor)
              : page.rows.filter((row) => !storedBefore(row, walk.since, new Set(walk.since_ids)));
          const { records, unreadable } = toRecords(
            fresh,
            `page ${walk.position ?? 1} since ${walk.since ?? "start"}`,
          );
          const next: AppServerCheckpoint = {
            ...advance(state, page.rows),
            walk: page.next === null || page.rows.length === 0 ? null : { ...walk, position: page.next },
          };
          // The cursor moves in the same transaction as the rows it covers.
          await context.ingest(records, {
            runId: run.runId,
            checkpoint: next,
            unreadable,
            seen: fresh.length,
          });
          state = next;
          // A pass that ends with nothing new is caught up; otherwise pass again from the new cursor.
          if (next.walk === null && (fresh.length === 0 || pages > 100_000)) return;
        }
      },

      async lag() {
        const state = await readState();
        if (config.cursor.type !== "time" || state.cursor === null) return { cursor: state.cursor };
        const at = order.key(state.cursor);
        return {
          cursor: state.cursor,
          seconds_behind:
            typeof at === "number"
              ? Math.max(0, Math.round((context.clock.now().getTime() - at) / 1000))
              : null,
        };
      },

      async itemFromDeadLetter(payload) {
        const mapped = mapCallRow(JSON.parse(payload) as Record<string, unknown>, mapping);
        if (!mapped.ok) throw new Error(mapped.reason);
        return mapped.item;
      },

      async openMedia(url, _owner, limits) {
        return voiceLog.owns(url) ? voiceLog.open(url, limits) : null;
      },
    };
  },
};
