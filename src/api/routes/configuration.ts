import { z } from "zod";
import {
  parseProfileDefinition,
  profileDefinitionInputSchema,
  profileDefinitionToApi,
} from "../../analysis/profileSchema.ts";
import type { AssignmentRule } from "../../core/assignment.ts";
import { AppError } from "../../core/errors.ts";
import { isUuid, newId } from "../../core/ids.ts";
import { routeInteraction } from "../../routing/routeInteraction.ts";
import {
  assignmentRuleInputSchema,
  assignmentRulePatchSchema,
  assignmentRuleToApi,
  parseAssignmentRule,
  parseAssignmentRulePatch,
} from "../../routing/ruleSchema.ts";
import type { Queryable } from "../../storage/db.ts";
import {
  findInteractionsByIdentifiers,
  listRecentInteractions,
  routableFacts,
} from "../../storage/repositories/interactions.ts";
import {
  addProfileVersion,
  existingProfileIds,
  getProfile,
  insertProfile,
  listProfiles,
  listProfileVersions,
  type ProfileRecord,
  setProfileArchived,
} from "../../storage/repositories/profiles.ts";
import {
  deleteRule,
  getRule,
  insertRule,
  listRules,
  type RuleRecord,
  updateRule,
} from "../../storage/repositories/rules.ts";
import { actorName } from "../../tenancy/authenticate.ts";
import { canSee, rowScopeOf } from "../access.ts";
import { auditAction } from "../auditTrail.ts";
import { presentRuleTrace } from "../presenters/routing.ts";
import { defineRoute } from "../route.ts";

const base = "/api/v1/accounts/{account_id}";

function presentProfile(profile: ProfileRecord): Record<string, unknown> {
  return {
    profile_id: profile.id,
    name: profile.name,
    version: profile.version,
    current_version: profile.currentVersion,
    archived: profile.archivedAt !== null,
    definition: profileDefinitionToApi(profile.definition),
    created_at: profile.createdAt.toISOString(),
    version_created_at: profile.versionCreatedAt.toISOString(),
    version_created_by: profile.versionCreatedBy,
  };
}

async function requireProfile(
  q: Queryable,
  accountId: string,
  id: string,
  version?: number,
): Promise<ProfileRecord> {
  const profile = isUuid(id) ? await getProfile(q, accountId, id, version) : null;
  if (!profile) {
    throw new AppError(
      "NOT_FOUND",
      `No quality profile '${id}'${version ? ` at version ${version}` : ""} in this account`,
    );
  }
  return profile;
}

const listProfilesRoute = defineRoute({
  method: "get",
  path: `${base}/quality-profiles`,
  operationId: "listQualityProfiles",
  summary: "Quality profiles at their current versions",
  tag: "Configuration",
  auth: "account",
  permission: "read",
  rate: "other",
  query: z.object({ include_archived: z.enum(["true", "false"]).optional() }),
  responses: { 200: { description: "The profiles" } },
  async handle({ query, caller, services }) {
    const profiles = await listProfiles(services.db, caller.account.id, {
      includeArchived: query.include_archived === "true",
    });
    return { status: 200, data: { quality_profiles: profiles.map(presentProfile) } };
  },
});

const createProfileRoute = defineRoute({
  method: "post",
  path: `${base}/quality-profiles`,
  operationId: "createQualityProfile",
  summary: "Create a quality profile (version 1)",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  body: z.unknown(),
  documentedBody: profileDefinitionInputSchema,
  responses: {
    201: { description: "The profile" },
    400: { description: "VALIDATION_ERROR with every problem" },
  },
  async handle({ body, caller, services }) {
    const definition = parseProfileDefinition(body);
    const id = newId();
    const now = services.clock.now();
    const actor = actorName(caller.principal);
    await services.db.transaction(async (tx) => {
      await insertProfile(tx, { id, accountId: caller.account.id, definition, createdBy: actor, at: now });
      await auditAction(tx, caller, now, "quality_profile.created", id);
    });
    return { status: 201, data: presentProfile(await requireProfile(services.db, caller.account.id, id)) };
  },
});

const getProfileRoute = defineRoute({
  method: "get",
  path: `${base}/quality-profiles/{profile_id}`,
  operationId: "getQualityProfile",
  summary: "A quality profile at its current version (or ?version=N)",
  tag: "Configuration",
  auth: "account",
  permission: "read",
  rate: "other",
  query: z.object({
    version: z
      .string()
      .regex(/^\d+$/, { error: "version must be a whole number" })
      .transform(Number)
      .optional(),
  }),
  responses: { 200: { description: "The profile" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, query, caller, services }) {
    const profile = await requireProfile(
      services.db,
      caller.account.id,
      context.req.param("profile_id") ?? "",
      query.version,
    );
    const versions = await listProfileVersions(services.db, caller.account.id, profile.id);
    return {
      status: 200,
      data: {
        ...presentProfile(profile),
        versions: versions.map((v) => ({
          version: v.version,
          name: v.name,
          created_at: v.createdAt.toISOString(),
          created_by: v.createdBy,
        })),
      },
    };
  },
});

const updateProfileRoute = defineRoute({
  method: "put",
  path: `${base}/quality-profiles/{profile_id}`,
  operationId: "updateQualityProfile",
  summary: "Save a new version of a quality profile (analyses already made keep theirs)",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  body: z.unknown(),
  documentedBody: profileDefinitionInputSchema,
  responses: { 200: { description: "The new version" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, body, caller, services }) {
    const id = context.req.param("profile_id") ?? "";
    await requireProfile(services.db, caller.account.id, id);
    const definition = parseProfileDefinition(body);
    const now = services.clock.now();
    const actor = actorName(caller.principal);
    const version = await services.db.transaction(async (tx) => {
      const saved = await addProfileVersion(tx, caller.account.id, id, definition, actor, now);
      await auditAction(tx, caller, now, "quality_profile.versioned", id, { version: saved });
      return saved;
    });
    return {
      status: 200,
      data: presentProfile(await requireProfile(services.db, caller.account.id, id, version ?? undefined)),
    };
  },
});

const archiveProfileRoute = defineRoute({
  method: "delete",
  path: `${base}/quality-profiles/{profile_id}`,
  operationId: "archiveQualityProfile",
  summary: "Archive a quality profile (rules stop applying it; its analyses stay)",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  responses: { 200: { description: "Archived" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const profile = await requireProfile(
      services.db,
      caller.account.id,
      context.req.param("profile_id") ?? "",
    );
    const now = services.clock.now();
    await setProfileArchived(services.db, caller.account.id, profile.id, now, now);
    await auditAction(services.db, caller, now, "quality_profile.archived", profile.id);
    return { status: 200, data: { profile_id: profile.id, archived: true } };
  },
});

/** Rules may only point at live profiles of the same account. */
async function assertProfilesExist(q: Queryable, accountId: string, ids: string[]): Promise<void> {
  const live = await existingProfileIds(q, accountId, ids);
  const missing = ids.filter((id) => !live.has(id));
  if (missing.length > 0) {
    throw new AppError(
      "VALIDATION_ERROR",
      `profile_ids refer to no live quality profile of this account: ${missing.join(", ")}`,
    );
  }
}

async function requireRule(q: Queryable, accountId: string, id: string): Promise<RuleRecord> {
  const rule = isUuid(id) ? await getRule(q, accountId, id) : null;
  if (!rule) throw new AppError("NOT_FOUND", `No assignment rule '${id}' in this account`);
  return rule;
}

const listRulesRoute = defineRoute({
  method: "get",
  path: `${base}/assignment-rules`,
  operationId: "listAssignmentRules",
  summary: "Assignment rules in evaluation order",
  tag: "Configuration",
  auth: "account",
  permission: "read",
  rate: "other",
  responses: { 200: { description: "The rules" } },
  async handle({ caller, services }) {
    return {
      status: 200,
      data: { assignment_rules: (await listRules(services.db, caller.account.id)).map(assignmentRuleToApi) },
    };
  },
});

const createRuleRoute = defineRoute({
  method: "post",
  path: `${base}/assignment-rules`,
  operationId: "createAssignmentRule",
  summary: "Create an assignment rule",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  body: z.unknown(),
  documentedBody: assignmentRuleInputSchema,
  responses: { 201: { description: "The rule" }, 400: { description: "VALIDATION_ERROR" } },
  async handle({ body, caller, services }) {
    const parsed = parseAssignmentRule(body);
    await assertProfilesExist(services.db, caller.account.id, parsed.profileIds);
    const now = services.clock.now();
    const rule: RuleRecord = {
      ...parsed,
      id: newId(),
      accountId: caller.account.id,
      createdAt: now,
      updatedAt: now,
    };
    await services.db.transaction(async (tx) => {
      await insertRule(tx, rule);
      await auditAction(tx, caller, now, "assignment_rule.created", rule.id, assignmentRuleToApi(rule));
    });
    return { status: 201, data: assignmentRuleToApi(rule) };
  },
});

const getRuleRoute = defineRoute({
  method: "get",
  path: `${base}/assignment-rules/{rule_id}`,
  operationId: "getAssignmentRule",
  summary: "One assignment rule",
  tag: "Configuration",
  auth: "account",
  permission: "read",
  rate: "other",
  responses: { 200: { description: "The rule" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    return {
      status: 200,
      data: assignmentRuleToApi(
        await requireRule(services.db, caller.account.id, context.req.param("rule_id") ?? ""),
      ),
    };
  },
});

const updateRuleRoute = defineRoute({
  method: "patch",
  path: `${base}/assignment-rules/{rule_id}`,
  operationId: "updateAssignmentRule",
  summary: "Change an assignment rule (only the fields sent)",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  body: z.unknown(),
  documentedBody: assignmentRulePatchSchema,
  responses: { 200: { description: "The rule" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, body, caller, services }) {
    const current = await requireRule(services.db, caller.account.id, context.req.param("rule_id") ?? "");
    const patch = parseAssignmentRulePatch(body);
    if (patch.profileIds) await assertProfilesExist(services.db, caller.account.id, patch.profileIds);
    const now = services.clock.now();
    const rule: RuleRecord = { ...current, ...patch, updatedAt: now };
    await services.db.transaction(async (tx) => {
      await updateRule(tx, rule);
      await auditAction(tx, caller, now, "assignment_rule.updated", rule.id, body);
    });
    return { status: 200, data: assignmentRuleToApi(rule) };
  },
});

const deleteRuleRoute = defineRoute({
  method: "delete",
  path: `${base}/assignment-rules/{rule_id}`,
  operationId: "deleteAssignmentRule",
  summary: "Delete an assignment rule",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  responses: { 200: { description: "Deleted" }, 404: { description: "NOT_FOUND" } },
  async handle({ context, caller, services }) {
    const rule = await requireRule(services.db, caller.account.id, context.req.param("rule_id") ?? "");
    const now = services.clock.now();
    await services.db.transaction(async (tx) => {
      await deleteRule(tx, caller.account.id, rule.id);
      await auditAction(tx, caller, now, "assignment_rule.deleted", rule.id);
    });
    return { status: 200, data: { rule_id: rule.id, deleted: true } };
  },
});

const dryRunRoute = defineRoute({
  method: "post",
  path: `${base}/assignment-rules/dry-run`,
  operationId: "dryRunAssignmentRules",
  summary: "Which quality profiles would stored conversations get, and why",
  description:
    "Evaluates the account's rules — with `rule` added, or replacing `replace_rule_id` — against the given " +
    "interactions (ids or external ids) or the most recent ones. Nothing is changed.",
  tag: "Configuration",
  auth: "account",
  permission: "read",
  rate: "other",
  body: z.object({
    rule: z.unknown().optional(),
    replace_rule_id: z.string().uuid({ error: "replace_rule_id must be an assignment rule id" }).optional(),
    interaction_ids: z.array(z.string().min(1)).max(500).optional(),
    limit: z
      .number()
      .int()
      .min(1, { error: "limit must be between 1 and 500" })
      .max(500, { error: "limit must be between 1 and 500" })
      .optional(),
  }),
  responses: { 200: { description: "The decision per interaction" } },
  async handle({ body, caller, services }) {
    const accountId = caller.account.id;
    let rules: AssignmentRule[] = await listRules(services.db, accountId);
    if (body.replace_rule_id) {
      await requireRule(services.db, accountId, body.replace_rule_id);
      rules = rules.filter((r) => r.id !== body.replace_rule_id);
    }
    if (body.rule !== undefined) {
      const candidate = parseAssignmentRule(body.rule);
      await assertProfilesExist(services.db, accountId, candidate.profileIds);
      rules = [
        ...rules,
        { ...candidate, id: body.replace_rule_id ?? "00000000-0000-7000-8000-000000000000" },
      ];
    }
    const interactions = (
      body.interaction_ids
        ? await findInteractionsByIdentifiers(services.db, accountId, body.interaction_ids)
        : await listRecentInteractions(services.db, accountId, body.limit ?? 50, rowScopeOf(caller))
    ).filter((i) => canSee(caller, i.metadata));
    const profiles = new Map(
      (await listProfiles(services.db, accountId, { includeArchived: true })).map((p) => [p.id, p]),
    );
    const results = interactions.map((interaction) => {
      const decision = routeInteraction(rules, routableFacts(interaction));
      return {
        interaction_id: interaction.id,
        external_interaction_id: interaction.externalInteractionId,
        profiles: decision.profileIds.map((id) => ({
          profile_id: id,
          name: profiles.get(id)?.name ?? null,
          archived: Boolean(profiles.get(id)?.archivedAt),
        })),
        matched_rule_ids: decision.matchedRuleIds,
        not_analysed_reason: decision.notAnalysedReason,
        summary: decision.summary,
        trace: decision.trace.map(presentRuleTrace),
      };
    });
    const analysed = results.filter((r) => r.profiles.length > 0).length;
    return {
      status: 200,
      data: {
        evaluated: results.length,
        would_be_analysed: analysed,
        would_not_be_analysed: results.length - analysed,
        results,
      },
    };
  },
});

export const configurationRoutes = [
  listProfilesRoute,
  createProfileRoute,
  getProfileRoute,
  updateProfileRoute,
  archiveProfileRoute,
  listRulesRoute,
  createRuleRoute,
  dryRunRoute,
  getRuleRoute,
  updateRuleRoute,
  deleteRuleRoute,
];
