import { z } from "zod";
import { resolveInboxPath } from "../../core/inboxPaths.ts";
import { isValidTimeZone } from "../../core/time.ts";
import { dateFormatProblem } from "./dateTimes.ts";

const httpUrl = (what: string) =>
  z
    .url({ error: `${what} must be an http(s) URL such as https://ecc.example.com` })
    .refine((v) => /^https?:\/\//i.test(v), { error: `${what} must start with http:// or https://` });

/** How cqa proves itself to an ECC4x HTTP API. Secrets (password, token, header value) are sealed. */
export const httpAuthSchema = z
  .object({
    type: z
      .enum(["none", "basic", "bearer", "header"], { error: "{path} must be none, basic, bearer or header" })
      .default("none")
      .describe(
        "none, basic (HTTP Basic: username + password), bearer (Authorization: Bearer token) or header (a header of your choice).",
      ),
    username: z.string().min(1).max(256).optional().describe("basic: the user name."),
    password: z.string().min(1).max(1024).optional().describe("basic: the password."),
    token: z.string().min(1).max(4096).optional().describe("bearer: the token."),
    header_name: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,100}$/, { error: "{path} must be a header name such as X-Api-Key" })
      .optional()
      .describe("header: the header's name, e.g. X-Api-Key."),
    header_value: z.string().min(1).max(4096).optional().describe("header: the header's value."),
  })
  .superRefine((auth, ctx) => {
    const need = (field: keyof typeof auth, why: string) => {
      if (auth[field] === undefined)
        ctx.addIssue({ code: "custom", path: [field], message: `{path} is required ${why}` });
    };
    if (auth.type === "basic") {
      need("username", "for basic auth");
      need("password", "for basic auth");
    } else if (auth.type === "bearer") {
      need("token", "for bearer auth");
    } else if (auth.type === "header") {
      need("header_name", "for header auth");
      need("header_value", "for header auth");
    }
  })
  .default({ type: "none" });
export type HttpAuth = z.output<typeof httpAuthSchema>;

/** The Voice Log API: where each call's recording is fetched by its call SID. */
export const voiceLogSchema = z
  .object({
    base_url: httpUrl("voice_log.base_url").describe(
      "Base URL of the Voice Log API, e.g. https://voicelog.ecc.example.com (cqa only sends credentials to this origin).",
    ),
    path_template: z
      .string()
      .max(1000)
      .refine((v) => v.includes("{call_sid}"), {
        error: "voice_log.path_template must contain {call_sid}, e.g. /api/v1/recordings/{call_sid}",
      })
      .default("/recordings/{call_sid}")
      .describe(
        "Path of one recording under base_url; {call_sid} is replaced by the call SID (URL-encoded).",
      ),
    auth: httpAuthSchema.describe("How cqa authenticates to the Voice Log API."),
    timeout_seconds: z
      .number()
      .int()
      .min(1, { error: "voice_log.timeout_seconds must be from 1 to 600" })
      .max(600, { error: "voice_log.timeout_seconds must be from 1 to 600" })
      .default(60)
      .describe("Time for one recording download, from request to last byte."),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe(
        "Immediate retries of a download that failed with 5xx, 429, a time-out or a dropped connection; after them the call is tried again later with back-off.",
      ),
    retry_backoff_seconds: z
      .number()
      .min(0)
      .max(60)
      .default(2)
      .describe("Wait before the first immediate retry; doubled for each next one."),
    not_ready_statuses: z
      .array(z.number().int().min(202).max(599))
      .default([404, 410])
      .describe(
        "HTTP statuses meaning 'recording not published yet': the call waits and is tried again (30 s, 1 min, 2 min… up to hourly), it does not fail.",
      ),
  })
  .describe("The Voice Log API, which serves each call's recording by call SID.");
export type VoiceLogConfig = z.output<typeof voiceLogSchema>;

/** Logical columns of a VLA report row (and fields of an App Server API row). */
export const callFields = [
  "call_sid",
  "agent_id",
  "agent_name",
  "campaign",
  "queue",
  "direction",
  "customer_number",
  "start_time",
  "duration",
  "disposition",
] as const;
export type CallField = (typeof callFields)[number];

const fieldName = (field: CallField, what: string) =>
  z
    .string()
    .trim()
    .min(1, { error: `columns.${field} must not be empty` })
    .max(200)
    .default(field)
    .describe(what);

/** Where each logical field is found: a CSV header (VLA) or a JSON field path (App Server API). */
export const callFieldsSchema = z
  .object({
    call_sid: fieldName(
      "call_sid",
      "The call SID: the conversation's id in cqa and the key of its recording.",
    ),
    agent_id: fieldName("agent_id", "Agent id (metadata agent_id: agents see their own calls by it)."),
    agent_name: fieldName("agent_name", "Agent name (metadata agent_name)."),
    campaign: fieldName("campaign", "Campaign (metadata campaign)."),
    queue: fieldName("queue", "Queue or skill (metadata queue)."),
    direction: fieldName("direction", "inbound / outbound (metadata direction)."),
    customer_number: fieldName("customer_number", "Customer's phone number (metadata customer_number)."),
    start_time: fieldName(
      "start_time",
      "When the call started (interaction_start_time), read with date_format.",
    ),
    duration: fieldName("duration", "Call length: seconds, or h:mm:ss / m:ss (duration_seconds)."),
    disposition: fieldName("disposition", "Disposition / wrap-up code (metadata disposition)."),
  })
  .default(Object.fromEntries(callFields.map((f) => [f, f])) as Record<CallField, string>)
  .describe("Where each field is in your rows; every other column becomes metadata under its own name.");
export type CallFieldNames = z.output<typeof callFieldsSchema>;

const dateFormat = (fallback: string) =>
  z
    .string()
    .max(60)
    .superRefine((v, ctx) => {
      const problem = dateFormatProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: `date_format ${problem}` });
    })
    .default(fallback)
    .describe(
      "How times are written: iso (ISO-8601), epoch_seconds, epoch_millis, or a pattern of yyyy MM dd HH mm ss SSS (and hh + a for 12-hour times), e.g. dd/MM/yyyy HH:mm:ss.",
    );

const timeZone = z
  .string()
  .refine(isValidTimeZone, { error: "time_zone must be an IANA time zone such as Asia/Kolkata" })
  .optional()
  .describe("Time zone of start times without an offset. Default: the cqa account's time zone.");

const source = z
  .string()
  .min(1)
  .max(255)
  .describe("The source recorded on each conversation (routing rules can match it).");

/** A folder of the SFTP inbox written from its root (`/`, `/reports`): compared as it is written. */
const inboxFolder = z
  .string()
  .max(500)
  .refine(
    (v) => {
      try {
        return resolveInboxPath(v) === v;
      } catch {
        return false;
      }
    },
    { error: "{path} must be a folder of the SFTP inbox written from its root, such as / or /reports" },
  );

/** `ecc4x_sftp`: VLA reports uploaded to cqa's SFTP endpoint, recordings from the Voice Log API. */
export const sftpConfigSchema = z.object({
  folder: inboxFolder
    .default("/")
    .describe("Folder of the account's SFTP inbox the VLA module uploads reports to."),
  file_pattern: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9._*?() +,=@~#-]+$/, {
      error: "file_pattern must be a file name pattern such as *.csv or vla_*.csv",
    })
    .default("*.csv")
    .describe("Which files in the folder are reports (* and ? wildcards, case-insensitive)."),
  processed_folder: z
    .string()
    .regex(/^[A-Za-z0-9._()+,=@~#-]{1,100}$/, {
      error: "processed_folder must be a folder name such as processed",
    })
    .refine((v) => v !== "." && v !== "..", {
      error: "processed_folder must be a folder name such as processed",
    })
    .default("processed")
    .describe(
      "Sub-folder (of folder) processed reports are moved to, with a <report>.result.csv beside any that had rejected rows.",
    ),
  columns: callFieldsSchema,
  date_format: dateFormat("yyyy-MM-dd HH:mm:ss"),
  time_zone: timeZone,
  source: source.default("ecc4x-vla"),
  max_rows: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(100_000)
    .describe(
      "Largest report accepted, in rows; a larger one is moved to processed/ with a result file saying so.",
    ),
  voice_log: voiceLogSchema,
});
export type SftpConfig = z.output<typeof sftpConfigSchema>;

/** `ecc4x_app_server`: call rows polled from the App Server API, recordings from the Voice Log API. */
export const appServerConfigSchema = z.object({
  app_server: z
    .object({
      base_url: httpUrl("app_server.base_url").describe(
        "Base URL of the App Server API, e.g. https://ecc.example.com.",
      ),
      path: z
        .string()
        .regex(/^\/[^\s?#]*$/, { error: "app_server.path must be a path such as /api/calls" })
        .default("/api/calls")
        .describe("Path of the call list endpoint (GET)."),
      query: z
        .record(z.string().min(1).max(100), z.string().max(1000))
        .default({})
        .describe('Fixed query parameters sent with every request, e.g. {"status": "completed"}.'),
      auth: httpAuthSchema.describe("How cqa authenticates to the App Server API."),
      timeout_seconds: z.number().int().min(1).max(300).default(30).describe("Time for one page request."),
      rows_field: z
        .string()
        .max(200)
        .default("calls")
        .describe(
          "Where the rows are in the JSON answer (dotted path); empty when the answer is the array itself.",
        ),
    })
    .describe("The App Server API's call list."),
  cursor: z
    .object({
      type: z
        .enum(["time", "id"], { error: "cursor.type must be time or id" })
        .default("time")
        .describe(
          "time: rows newer than the last stored row's time; id: rows after the last stored row's id.",
        ),
      field: z
        .string()
        .min(1)
        .max(200)
        .default("end_time")
        .describe(
          "Row field (dotted path) holding the cursor value: a time (read with date_format) or an increasing id.",
        ),
      param: z
        .string()
        .regex(/^[A-Za-z0-9_.[\]-]{1,100}$/, { error: "cursor.param must be a query parameter name" })
        .default("since")
        .describe("Query parameter that sends the cursor: rows at or after it (time) / after it (id)."),
      start: z
        .string()
        .max(100)
        .optional()
        .describe("Where the first run starts (a time or id); unset: from the oldest row the API has."),
      lookback_seconds: z
        .number()
        .int()
        .min(0)
        .max(86_400)
        .default(120)
        .describe(
          "time cursors: each poll asks again from this long before the cursor, for rows the API lists late (calls stored already are skipped, not counted twice).",
        ),
    })
    .default({ type: "time", field: "end_time", param: "since", lookback_seconds: 120 })
    .describe("How cqa asks for new rows only."),
  paging: z
    .object({
      style: z
        .enum(["offset", "page", "cursor", "none"], {
          error: "paging.style must be offset, page, cursor or none",
        })
        .default("offset")
        .describe(
          "offset (offset + limit), page (page number + size), cursor (a next-page token in each answer) or none.",
        ),
      page_size: z.number().int().min(1).max(10_000).default(100).describe("Rows asked for per page."),
      size_param: z.string().min(1).max(100).default("limit").describe("Query parameter of the page size."),
      offset_param: z
        .string()
        .min(1)
        .max(100)
        .default("offset")
        .describe("offset paging: the offset parameter."),
      page_param: z
        .string()
        .min(1)
        .max(100)
        .default("page")
        .describe("page paging: the page number parameter."),
      first_page: z
        .number()
        .int()
        .min(0)
        .max(1)
        .default(1)
        .describe("page paging: number of the first page (0 or 1)."),
      cursor_param: z
        .string()
        .min(1)
        .max(100)
        .default("cursor")
        .describe("cursor paging: the parameter sending the token."),
      next_cursor_field: z
        .string()
        .min(1)
        .max(200)
        .default("next_cursor")
        .describe(
          "cursor paging: where the answer holds the next page's token (null or absent on the last page).",
        ),
    })
    .default({
      style: "offset",
      page_size: 100,
      size_param: "limit",
      offset_param: "offset",
      page_param: "page",
      first_page: 1,
      cursor_param: "cursor",
      next_cursor_field: "next_cursor",
    })
    .describe("How the call list is paged."),
  fields: callFieldsSchema.describe(
    "Where each field is in a row (dotted paths); every other top-level field with a plain value becomes metadata.",
  ),
  date_format: dateFormat("iso"),
  time_zone: timeZone,
  source: source.default("ecc4x-app-server"),
  voice_log: voiceLogSchema,
});
export type AppServerConfig = z.output<typeof appServerConfigSchema>;

/** Secret fields of an auth block at `prefix` (sealed at rest, write-only in the API). */
export function authSecretFields(prefix: string): string[] {
  return [`${prefix}.auth.password`, `${prefix}.auth.token`, `${prefix}.auth.header_value`];
}

/** The headers an auth block adds to a request. */
export function authHeaders(auth: HttpAuth): Record<string, string> {
  switch (auth.type) {
    case "basic":
      return {
        authorization: `Basic ${Buffer.from(`${auth.username ?? ""}:${auth.password ?? ""}`).toString("base64")}`,
      };
    case "bearer":
      return { authorization: `Bearer ${auth.token ?? ""}` };
    case "header":
      return { [auth.header_name!.toLowerCase()]: auth.header_value ?? "" };
    case "none":
      return {};
  }
}

/** Turns `vla_*.csv` into a case-insensitive matcher of whole names. */
export function filePatternMatcher(pattern: string): (name: string) => boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+()^$|{}[\]\\]/g, "\\$&")))
    .join("");
  const regex = new RegExp(`^${source}$`, "i");
  return (name) => regex.test(name);
}
