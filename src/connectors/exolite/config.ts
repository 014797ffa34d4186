import { z } from "zod";
import { isValidTimeZone } from "../../core/time.ts";

/** The published API hosts: Singapore (api.exotel.com) and Mumbai (api.in.exotel.com) clusters. */
export const exoliteRegionHosts = {
  singapore: "https://api.exotel.com",
  mumbai: "https://api.in.exotel.com",
} as const;

const roles = ["admin", "supervisor", "analyst", "agent"] as const;

/** The config of an Exolite integration: connection, what to pull, and the dashboard redirect. */
export const exoliteConfigSchema = z
  .object({
    region: z
      .enum(["singapore", "mumbai", "custom"], {
        error: "region must be singapore, mumbai or custom (then give base_url)",
      })
      .default("singapore")
      .describe(
        "Cluster of the Exolite account: singapore (api.exotel.com), mumbai (api.in.exotel.com), or custom with base_url.",
      ),
    base_url: z
      .url({ error: "base_url must be an http(s) URL such as https://api.exotel.com" })
      .optional()
      .describe("The API's base URL when region is custom (a proxy, a private cluster); without a path."),
    account_sid: z
      .string({ error: "account_sid is required (API settings page of the Exolite dashboard)" })
      .regex(/^[A-Za-z0-9_-]{1,128}$/, {
        error: "account_sid must be the account SID: letters, digits, - and _",
      })
      .describe("The Exolite account SID (API settings page of the Exolite dashboard)."),
    api_key: z
      .string({ error: "api_key is required (API settings page of the Exolite dashboard)" })
      .min(1, { error: "api_key must not be empty" })
      .describe("API key: the user name of HTTP Basic auth."),
    api_token: z
      .string({ error: "api_token is required (API settings page of the Exolite dashboard)" })
      .min(1, { error: "api_token must not be empty" })
      .describe("API token: the password of HTTP Basic auth."),
    timezone: z
      .string()
      .refine(isValidTimeZone, { error: "timezone must be an IANA time zone such as Asia/Kolkata" })
      .optional()
      .describe(
        "Time zone of the API's DateCreated / StartTime values (the Exolite account's zone). Default: the cqa account's time zone.",
      ),
    filters: z
      .object({
        status: z
          .enum(["completed", "any"], { error: "filters.status must be completed or any" })
          .default("completed")
          .describe("completed: only calls that were answered and ended normally (Status=completed)."),
        direction: z
          .enum(["inbound", "outbound-dial", "outbound-api"], {
            error: "filters.direction must be inbound, outbound-dial or outbound-api",
          })
          .optional()
          .describe("Only calls of this direction (Direction=…); all directions when unset."),
        min_duration_seconds: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe("Only calls at least this long (Duration=gte:Ns)."),
        max_duration_seconds: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe("Only calls at most this long (Duration=lte:Ns)."),
      })
      .default({ status: "completed" })
      .describe("Filters sent to the bulk call API."),
    recording: z
      .object({
        source: z
          .enum(["recording_url", "presigned"], {
            error: "recording.source must be recording_url or presigned",
          })
          .default("recording_url")
          .describe(
            "recording_url: RecordingUrl, fetched with the API key and token when its host is the API's or listed in credential_hosts; presigned: PreSignedRecordingUrl, refreshed through the call details API when it has expired.",
          ),
        url_validity_minutes: z
          .number()
          .int()
          .min(5, { error: "recording.url_validity_minutes must be from 5 to 60" })
          .max(60, { error: "recording.url_validity_minutes must be from 5 to 60" })
          .default(60)
          .describe("RecordingUrlValidity asked for pre-signed URLs (5–60 minutes)."),
        credential_hosts: z
          .array(z.string().min(1))
          .default([])
          .describe(
            "Hosts besides the API host whose RecordingUrl needs the API key and token (sent as HTTP Basic auth). Other hosts get no credentials.",
          ),
      })
      .default({ source: "recording_url", url_validity_minutes: 60, credential_hosts: [] })
      .describe("Where recordings are fetched from."),
    lookback_minutes: z
      .number()
      .int()
      .min(0)
      .max(1440)
      .default(300)
      .describe(
        "Each run reads again this far back before its checkpoint, for fields filled late (duration, end time, recording) and calls that were still in progress. 5 h covers the 4-hour call limit.",
      ),
    requests_per_minute: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(150)
      .describe(
        "Rate budget for this Exolite account's API (shared by every integration of the account in one cqa process); the published limit is 200/min.",
      ),
    page_size: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(100)
      .describe("PageSize of each request (at most 100)."),
    redirect: z
      .object({
        secret: z
          .string()
          .min(32, { error: "redirect.secret must be at least 32 characters (e.g. openssl rand -hex 32)" })
          .describe("Shared with Exolite: signs the dashboard redirect links (HMAC-SHA256)."),
        max_link_age_seconds: z
          .number()
          .int()
          .min(10)
          .max(3600)
          .default(300)
          .describe("Links expiring later than this after they were issued are refused."),
        create_users: z
          .boolean()
          .default(false)
          .describe("Create a cqa user on the first sign-in of an e-mail the account does not have yet."),
        default_role: z
          .enum(roles, { error: `redirect.default_role must be one of ${roles.join(", ")}` })
          .default("analyst")
          .describe("Role of users created on first sign-in (the link may name a role to use instead)."),
      })
      .optional()
      .describe("The cqa button of the Exolite dashboard: signed links that sign users in."),
  })
  .superRefine((config, ctx) => {
    if (config.region === "custom" && !config.base_url) {
      ctx.addIssue({
        code: "custom",
        path: ["base_url"],
        message: "base_url is required when region is custom",
      });
    }
    const { min_duration_seconds: min, max_duration_seconds: max } = config.filters;
    if (min !== undefined && max !== undefined && min > max) {
      ctx.addIssue({
        code: "custom",
        path: ["filters", "max_duration_seconds"],
        message: "filters.max_duration_seconds must not be below filters.min_duration_seconds",
      });
    }
  });

export type ExoliteConfig = z.output<typeof exoliteConfigSchema>;

/** The API's base URL (no trailing slash). */
export function exoliteBaseUrl(config: ExoliteConfig): string {
  const base = config.region === "custom" ? (config.base_url ?? "") : exoliteRegionHosts[config.region];
  return base.replace(/\/+$/, "");
}

/**
 * Where the pull is up to. `through`: every call created before it was handled (ingested, or final
 * without a recording); runs start `lookback_minutes` before it. `position`: the run in progress,
 * so a run that died continues after the last call it stored.
 */
export const exoliteCheckpointSchema = z.object({
  through: z.string().nullable(),
  position: z
    .object({
      run_id: z.string(),
      /** The run's range, [from, to). */
      from: z.string(),
      to: z.string(),
      /** DateCreated (instant) of the last call stored; the run continues from there. */
      after: z.string(),
    })
    .nullable()
    .optional(),
});

export type ExoliteCheckpoint = z.output<typeof exoliteCheckpointSchema>;
