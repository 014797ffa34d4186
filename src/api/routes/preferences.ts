// The signed-in user's own preferences (e.g. the columns of the dashboard's conversation list), kept
// on the server so a choice follows the user to any browser. Only known keys, each with its own
// schema; API keys belong to no user, so these routes take a user's session only.
import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import {
  deleteUserPreference,
  listUserPreferences,
  putUserPreference,
} from "../../storage/repositories/userPreferences.ts";
import { describeIssues } from "../../validation/validate.ts";
import { type AccountCaller, defineRoute } from "../route.ts";
import type { Logger } from "../services.ts";

const base = "/api/v1/accounts/{account_id}/me/preferences";

/** The fixed columns of the conversation list (the dashboard's `/analyses`); metadata ones are `meta:<key>`. */
const analysisListColumns = [
  "conversation",
  "created",
  "profile",
  "status",
  "final",
  "ai",
  "qa",
  "adjusted",
  "analysis_id",
  "interaction_id",
] as const;
const maxColumns = 100;

/** A fixed column, or `meta:` and a metadata key (1–128 characters as metadata keys, no control characters). */
function isAnalysisListColumn(id: string): boolean {
  if ((analysisListColumns as readonly string[]).includes(id)) return true;
  const key = id.startsWith("meta:") ? id.slice(5) : "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  return key.trim() !== "" && key.length <= 128 && !/[\u0000-\u001f\u007f]/.test(key);
}

const analysisListColumn = z
  .string({ error: "{path} must be a column id (a string)" })
  .refine(isAnalysisListColumn, {
    error: (issue) =>
      `{path} ('${String(issue.input).slice(0, 140)}') is not a column of the conversation list: use one of ` +
      `${analysisListColumns.join(", ")}, or meta:<metadata key> (a key of at most 128 characters)`,
  });

/** Every preference a user may save, with the schema its value must meet. */
const preferenceSchemas = {
  analysis_list_columns: z
    .array(analysisListColumn, { error: "analysis_list_columns must be a list of column ids" })
    .max(maxColumns, { error: `analysis_list_columns may list at most ${maxColumns} columns` })
    .refine((ids) => new Set(ids).size === ids.length, {
      error: "analysis_list_columns lists a column twice; list each column once",
    })
    .describe(
      'The columns the conversation list shows, e.g. ["created", "status", "final", "meta:agent_id"]. ' +
        `Column ids: ${analysisListColumns.join(", ")}, or meta:<metadata key>.`,
    ),
} satisfies Record<string, z.ZodType>;

type PreferenceKey = keyof typeof preferenceSchemas;
const preferenceKeys = Object.keys(preferenceSchemas) as PreferenceKey[];

function isPreferenceKey(key: string): key is PreferenceKey {
  return Object.hasOwn(preferenceSchemas, key);
}

/** The key in the path, or NOT_FOUND naming the keys there are. */
function preferenceKeyOf(raw: string | undefined): PreferenceKey {
  const key = raw ?? "";
  if (isPreferenceKey(key)) return key;
  throw new AppError(
    "NOT_FOUND",
    `There is no preference '${key.slice(0, 100)}'; the preferences a user can save are: ${preferenceKeys.join(", ")}`,
  );
}

/** The signed-in user's id; the session-only auth of these routes makes an API key impossible here. */
function userIdOf(caller: AccountCaller): string {
  if (caller.principal.kind !== "user") {
    throw new AppError(
      "UNAUTHORIZED",
      "Preferences belong to a user and an API key belongs to no user: sign in with POST /api/v1/auth/login",
    );
  }
  return caller.principal.id;
}

/** A stored value that no longer meets its schema (e.g. a retired column) is left out: the default applies. */
function readableValue(key: string, value: unknown, log: Logger): unknown {
  if (!isPreferenceKey(key)) return undefined;
  const parsed = preferenceSchemas[key].safeParse(value);
  if (parsed.success) return parsed.data;
  log.warn("a stored user preference no longer validates; answering the default instead", {
    key,
    problems: describeIssues(parsed.error.issues),
  });
  return undefined;
}

const listPreferencesRoute = defineRoute({
  method: "get",
  path: base,
  operationId: "listMyPreferences",
  summary: "The signed-in user's saved preferences (a key that is absent has its default)",
  description:
    "For the dashboard and other per-user clients: answers `{preferences: {key: value}}` with the keys the " +
    `user has saved. Known keys: ${preferenceKeys.join(", ")}. Needs a user's session: an API key belongs to ` +
    "no user.",
  tag: "Access",
  auth: "session",
  rate: "other",
  responses: { 200: { description: "The saved preferences by key" }, 401: { description: "UNAUTHORIZED" } },
  async handle({ caller, services }) {
    const saved = await listUserPreferences(services.db, caller.account.id, userIdOf(caller));
    const preferences: Record<string, unknown> = {};
    for (const preference of saved) {
      const value = readableValue(preference.key, preference.value, services.log);
      if (value !== undefined) preferences[preference.key] = value;
    }
    return { status: 200, data: { preferences }, headers: { "cache-control": "no-store" } };
  },
});

const putPreferenceRoute = defineRoute({
  method: "put",
  path: `${base}/{preference_key}`,
  operationId: "saveMyPreference",
  summary: "Save one of the signed-in user's preferences (replaces the previous value)",
  description:
    `Known keys: ${preferenceKeys.join(", ")}. The body is \`{value}\`; each key has its own rules ` +
    "(e.g. analysis_list_columns: a list of at most 100 distinct column ids). Needs a user's session: " +
    "an API key belongs to no user.",
  tag: "Access",
  auth: "session",
  rate: "other",
  maxBodyBytes: 16 * 1024,
  body: z
    .object(
      { value: z.unknown() },
      {
        error: (issue) =>
          issue.code === "invalid_type"
            ? 'The request body must be an object {"value": …} with the preference\'s new value'
            : undefined,
      },
    )
    .strict(),
  documentedBody: z.object({ value: z.union(Object.values(preferenceSchemas)) }),
  responses: {
    200: { description: "The saved preference" },
    400: { description: "VALIDATION_ERROR: the value does not meet the key's rules" },
    401: { description: "UNAUTHORIZED" },
    404: { description: "NOT_FOUND: no such preference key" },
  },
  async handle({ context, body, caller, services }) {
    const key = preferenceKeyOf(context.req.param("preference_key"));
    const userId = userIdOf(caller);
    if (body.value === undefined) {
      throw new AppError("VALIDATION_ERROR", `value is required: send {"value": …} with the new ${key}`);
    }
    const parsed = preferenceSchemas[key].safeParse(body.value, { reportInput: true });
    if (!parsed.success) {
      const problems = describeIssues(
        parsed.error.issues.map((issue) => ({ ...issue, path: ["value", ...issue.path] })),
      );
      throw new AppError("VALIDATION_ERROR", problems.join("; "), { details: { problems } });
    }
    const saved = await putUserPreference(
      services.db,
      { accountId: caller.account.id, userId, key, value: parsed.data },
      services.clock.now(),
    );
    return {
      status: 200,
      data: { key, value: saved.value, updated_at: saved.updatedAt.toISOString() },
    };
  },
});

const deletePreferenceRoute = defineRoute({
  method: "delete",
  path: `${base}/{preference_key}`,
  operationId: "resetMyPreference",
  summary: "Forget one of the signed-in user's preferences: the default applies again",
  tag: "Access",
  auth: "session",
  rate: "other",
  responses: {
    200: { description: "Reset (deleted says whether a value had been saved)" },
    401: { description: "UNAUTHORIZED" },
    404: { description: "NOT_FOUND: no such preference key" },
  },
  async handle({ context, caller, services }) {
    const key = preferenceKeyOf(context.req.param("preference_key"));
    const deleted = await deleteUserPreference(services.db, caller.account.id, userIdOf(caller), key);
    return { status: 200, data: { key, deleted } };
  },
});

export const preferenceRoutes = [listPreferencesRoute, putPreferenceRoute, deletePreferenceRoute];
