import { z } from "zod";
import type {
  AssignmentRule,
  Condition,
  ConditionGroup,
  ConditionNode,
  ConditionOperator,
} from "../core/assignment.ts";
import { isUuid } from "../core/ids.ts";
import { parseOrThrow } from "../validation/validate.ts";
import { isIsoDate, isScalar } from "./conditionValues.ts";
import { allowedFieldsText, metadataKeyOf, type RuleFieldKind, ruleFieldKind } from "./ruleFields.ts";

/** Every condition operator, in the order the docs list them. */
export const conditionOperators = [
  "eq",
  "neq",
  "in",
  "not_in",
  "contains",
  "gt",
  "gte",
  "lt",
  "lte",
  "between",
  "exists",
  "not_exists",
] as const satisfies readonly ConditionOperator[];

/** Groups may nest this deep (the top-level group counts as 1); deeper trees are unreadable in the UI. */
export const maxConditionDepth = 5;
const maxGroupItems = 50;
const maxListValues = 500;

/** A condition or a group as the API takes it, before its shape is checked. */
interface ConditionNodeInput {
  field?: string | undefined;
  operator?: ConditionOperator | undefined;
  value?: unknown;
  all?: ConditionNodeInput[] | undefined;
  any?: ConditionNodeInput[] | undefined;
}

type Issue = { path: PropertyKey[]; message: string };

// Own messages for wrong types and unknown keys: zod drops the input from finished issues, so the
// generic wording cannot tell "missing" from "wrong type".
const expects = (what: string) => ({
  error: (issue: z.core.$ZodRawIssue) => {
    if (issue.code === "unrecognized_keys") return `{path} has unknown field(s): ${issue.keys.join(", ")}`;
    if (issue.code !== "invalid_type") return undefined;
    return issue.input === undefined ? "{path} is required" : `{path} must be ${what}`;
  },
});

const nodeShapeText = "a condition {field, operator, value} or a group {all: [...]} / {any: [...]}";

// One object schema for both shapes (condition or group) rather than a union: a union would answer
// every mistake with "unsupported value", while this names the exact key that is wrong.
const conditionNodeSchema: z.ZodType<ConditionNode, ConditionNodeInput> = z
  .strictObject(
    {
      field: z
        .string(expects("a string"))
        .optional()
        .describe(`The field a condition tests: ${allowedFieldsText}.`),
      operator: z
        .enum(conditionOperators, { error: `{path} must be one of ${conditionOperators.join(", ")}` })
        .optional(),
      value: z
        .unknown()
        .optional()
        .describe(
          "What the field is compared with: a string, number or boolean; an array for in/not_in; " +
            "[min, max] for between; a number or ISO-8601 date for gt/gte/lt/lte; nothing for exists/not_exists.",
        ),
      get all() {
        return z
          .array(conditionNodeSchema, expects("an array of conditions"))
          .max(maxGroupItems)
          .optional()
          .describe("A group that matches when every item matches (AND).");
      },
      get any() {
        return z
          .array(conditionNodeSchema, expects("an array of conditions"))
          .max(maxGroupItems)
          .optional()
          .describe("A group that matches when at least one item matches (OR).");
      },
    },
    expects(nodeShapeText),
  )
  .describe(`Either ${nodeShapeText}.`)
  .superRefine((node, ctx) => {
    for (const issue of nodeShapeIssues(node)) ctx.addIssue({ code: "custom", input: node, ...issue });
  })
  .transform(toConditionNode);

function nodeShapeIssues(node: {
  field?: string | undefined;
  operator?: ConditionOperator | undefined;
  value?: unknown;
  all?: unknown[] | undefined;
  any?: unknown[] | undefined;
}): Issue[] {
  const isGroup = node.all !== undefined || node.any !== undefined;
  const isCondition = node.field !== undefined || node.operator !== undefined || node.value !== undefined;
  if (node.all !== undefined && node.any !== undefined) {
    return [
      { path: [], message: "{path} must have either all or any, not both (nest one group inside the other)" },
    ];
  }
  if (isGroup && isCondition) {
    return [
      {
        path: [],
        message:
          "{path} mixes a group (all/any) with a condition (field/operator): put the condition inside the group",
      },
    ];
  }
  if (node.any !== undefined && node.any.length === 0) {
    return [
      {
        path: ["any"],
        message: "{path} must contain at least one condition (an empty any group never matches)",
      },
    ];
  }
  if (isGroup) return [];
  if (!isCondition) {
    return [
      {
        path: [],
        message: `{path} must be ${nodeShapeText}`,
      },
    ];
  }
  return conditionIssues(node);
}

function conditionIssues(node: {
  field?: string | undefined;
  operator?: ConditionOperator | undefined;
  value?: unknown;
}): Issue[] {
  const issues: Issue[] = [];
  if (node.field === undefined)
    issues.push({ path: ["field"], message: `{path} is required: ${allowedFieldsText}` });
  if (node.operator === undefined) {
    issues.push({
      path: ["operator"],
      message: `{path} is required: one of ${conditionOperators.join(", ")}`,
    });
  }
  if (node.field === undefined || node.operator === undefined) return issues;
  const field = node.field.trim();
  const kind = ruleFieldKind(field);
  if (kind === null) return [{ path: ["field"], message: unknownFieldMessage(field) }];
  const problem = operatorValueProblem(kind, node.operator, node.value);
  return problem ? [problem] : [];
}

function unknownFieldMessage(field: string): string {
  if (metadataKeyOf(field) !== null) {
    return `{path} must name a metadata key of at most 128 characters after "metadata.", e.g. metadata.region`;
  }
  const hint = field.includes(".") || field === "" ? "" : ` (for a metadata key write "metadata.${field}")`;
  return `{path} ${JSON.stringify(field)} is not a field rules can test. Use ${allowedFieldsText}${hint}`;
}

const isFiniteNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

/** Whether the value fits the operator on this kind of field; the problem when it does not. */
function operatorValueProblem(
  kind: RuleFieldKind,
  operator: ConditionOperator,
  value: unknown,
): Issue | null {
  const onValue = (message: string): Issue => ({ path: ["value"], message });
  const hasValue = value !== undefined && value !== null;
  if (operator === "exists" || operator === "not_exists") {
    return hasValue ? onValue(`{path} must be left out: ${operator} takes no value`) : null;
  }
  if (!hasValue) return onValue(`{path} is required for ${operator}`);
  switch (operator) {
    case "eq":
    case "neq":
      if (kind === "number")
        return isFiniteNumber(value) ? null : onValue(`{path} must be a number for duration_seconds`);
      if (!isScalar(value)) return onValue(`{path} must be a string, a number or true/false for ${operator}`);
      if (typeof value === "string" && value.trim() === "") {
        const instead = operator === "eq" ? "not_exists" : "exists";
        return onValue(`{path} must not be empty (use ${instead} to test whether the field has a value)`);
      }
      return null;
    case "in":
    case "not_in": {
      if (!Array.isArray(value) || value.length === 0) {
        return onValue(`{path} must be a non-empty array for ${operator}, e.g. ["VOICE", "CHAT"]`);
      }
      if (value.length > maxListValues) return onValue(`{path} must list at most ${maxListValues} values`);
      if (kind === "number")
        return value.every(isFiniteNumber) ? null : onValue("{path} must list only numbers");
      return value.every(isScalar) ? null : onValue("{path} must list only strings, numbers or true/false");
    }
    case "contains":
      if (kind === "number") {
        return {
          path: ["operator"],
          message: "{path} contains works on text only (for duration_seconds use gt, lt or between)",
        };
      }
      return typeof value === "string" && value.trim() !== ""
        ? null
        : onValue("{path} must be a non-empty string for contains");
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      if (kind === "text") return orderingOnTextProblem(operator);
      if (kind === "number")
        return isFiniteNumber(value) ? null : onValue(`{path} must be a number for ${operator}`);
      return isFiniteNumber(value) || isIsoDate(value)
        ? null
        : onValue(`{path} must be a number or an ISO-8601 date such as 2026-04-01 for ${operator}`);
    case "between":
      if (kind === "text") return orderingOnTextProblem(operator);
      return betweenProblem(kind, value);
  }
}

function orderingOnTextProblem(operator: ConditionOperator): Issue {
  return {
    path: ["operator"],
    message: `{path} ${operator} compares numbers or dates, so it works only on duration_seconds and metadata.<key>`,
  };
}

function betweenProblem(kind: RuleFieldKind, value: unknown): Issue | null {
  const wanted = kind === "metadata" ? "two numbers (or two ISO-8601 dates)" : "two numbers";
  const problem = (message: string): Issue => ({ path: ["value"], message });
  if (!Array.isArray(value) || value.length !== 2) {
    return problem(`{path} must be [min, max] with ${wanted} for between, e.g. [60, 300]`);
  }
  const [min, max] = value as [unknown, unknown];
  if (isFiniteNumber(min) && isFiniteNumber(max)) {
    return min <= max
      ? null
      : problem(`{path} has min ${min} greater than max ${max} (write [${max}, ${min}])`);
  }
  if (kind === "metadata" && isIsoDate(min) && isIsoDate(max)) {
    return Date.parse(min) <= Date.parse(max) ? null : problem(`{path} has min ${min} after max ${max}`);
  }
  return problem(`{path} must be [min, max] with ${wanted} for between`);
}

function toConditionNode(node: {
  field?: string | undefined;
  operator?: ConditionOperator | undefined;
  value?: unknown;
  all?: ConditionNode[] | undefined;
  any?: ConditionNode[] | undefined;
}): ConditionNode {
  if (node.all !== undefined) return { all: node.all };
  if (node.any !== undefined) return { any: node.any };
  // The shape check above guarantees a condition has both.
  const condition: Condition = { field: (node.field ?? "").trim(), operator: node.operator ?? "exists" };
  const takesValue = condition.operator !== "exists" && condition.operator !== "not_exists";
  if (takesValue && node.value !== undefined && node.value !== null) condition.value = node.value;
  return condition;
}

function groupDepth(node: ConditionNode): number {
  const items = "all" in node ? node.all : "any" in node ? node.any : null;
  if (items === null) return 0;
  return 1 + Math.max(0, ...items.map(groupDepth));
}

// A plain array is shorthand for {all: [...]}; preprocessing (rather than a union) keeps error
// messages pointing at the wrong key, and JSON Schema still documents the group shape.
const conditionsSchema = z
  .preprocess((value) => (Array.isArray(value) ? { all: value } : value), conditionNodeSchema)
  .describe(
    "Required. A group {all: [...]} (AND) or {any: [...]} (OR), nested up to 5 levels; a plain array " +
      "is accepted and means all. An empty all group (or empty array) matches every interaction.",
  )
  .superRefine((conditions, ctx) => {
    if ("field" in conditions) {
      ctx.addIssue({
        code: "custom",
        input: conditions,
        message: "{path} must be a group {all: [...]} / {any: [...]} or an array of conditions",
      });
      return;
    }
    const depth = groupDepth(conditions);
    if (depth > maxConditionDepth) {
      ctx.addIssue({
        code: "custom",
        input: conditions,
        message: `{path} nests groups ${depth} levels deep, more than the ${maxConditionDepth} allowed`,
      });
    }
  })
  .transform((conditions) => conditions as ConditionGroup);

const profileIdSchema = z
  .string(expects("a quality profile id (a UUID)"))
  .refine(isUuid, { error: "{path} must be a quality profile id (a UUID)" })
  .meta({ format: "uuid" });

const reviewerSchema = z
  .strictObject(
    {
      user_id: z
        .string(expects("a user id (a UUID)"))
        .refine(isUuid, { error: "{path} must be a user id (a UUID)" })
        .meta({ format: "uuid" })
        .optional(),
      team: z.string(expects("a team name")).trim().min(1).max(100).optional(),
    },
    expects("an object {user_id?, team?} or null"),
  )
  .refine((r) => r.user_id !== undefined || r.team !== undefined, {
    error: "{path} must name a user_id or a team (send null for no reviewer)",
  })
  .describe("Who reviews the analyses this rule starts: a user, a team, or null for nobody.");

const twoDecimals = (n: number) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6;

function ruleFields() {
  return {
    name: z
      .string(expects("a string"))
      .trim()
      .min(1)
      .max(200)
      .describe("A name people recognise in traces and the dashboard."),
    priority: z
      .int(expects("a whole number (lower numbers run first)"))
      .describe("Rules are evaluated in ascending priority; ties are broken by rule id."),
    enabled: z.boolean(expects("true or false")),
    conditions: conditionsSchema,
    profile_ids: z
      .array(profileIdSchema, expects("an array of quality profile ids"))
      .min(1)
      .max(20)
      .describe("The quality profiles applied to a matching interaction."),
    sampling_percent: z
      .number(expects("a number from 0 to 100"))
      .min(0)
      .max(100)
      .refine(twoDecimals, { error: "{path} must have at most 2 decimals, e.g. 12.5" })
      .describe(
        "Share of matching interactions analysed (0–100), chosen deterministically by interaction id.",
      ),
    stop_on_match: z
      .boolean(expects("true or false"))
      .describe("When true, later rules are not evaluated once this one applies."),
    reviewer: reviewerSchema.nullable(),
  };
}

const fields = ruleFields();

type ReviewerInput = z.output<typeof reviewerSchema> | null;

/** An assignment rule as the REST API takes it (snake_case); defaults fill the optional fields. */
export const assignmentRuleInputSchema = z
  .strictObject(
    {
      ...fields,
      enabled: fields.enabled.default(true),
      sampling_percent: fields.sampling_percent.default(100),
      stop_on_match: fields.stop_on_match.default(true),
      reviewer: fields.reviewer.optional(),
    },
    expects("an object"),
  )
  .transform((input): Omit<AssignmentRule, "id"> => {
    const rule: Omit<AssignmentRule, "id"> = {
      name: input.name,
      priority: input.priority,
      enabled: input.enabled,
      conditions: input.conditions,
      profileIds: [...new Set(input.profile_ids)],
      samplingPercent: input.sampling_percent,
      stopOnMatch: input.stop_on_match,
    };
    if (input.reviewer !== undefined) rule.reviewer = reviewerFromApi(input.reviewer);
    return rule;
  });

/** The fields a PATCH may change; every one optional, no defaults. */
export const assignmentRulePatchSchema = z
  .strictObject(
    {
      name: fields.name.optional(),
      priority: fields.priority.optional(),
      enabled: fields.enabled.optional(),
      conditions: fields.conditions.optional(),
      profile_ids: fields.profile_ids.optional(),
      sampling_percent: fields.sampling_percent.optional(),
      stop_on_match: fields.stop_on_match.optional(),
      reviewer: fields.reviewer.optional(),
    },
    expects("an object"),
  )
  .refine((patch) => Object.values(patch).some((v) => v !== undefined), {
    error: "{path} must change at least one field",
  })
  .transform((input): AssignmentRulePatch => {
    const patch: AssignmentRulePatch = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.priority !== undefined) patch.priority = input.priority;
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    if (input.conditions !== undefined) patch.conditions = input.conditions;
    if (input.profile_ids !== undefined) patch.profileIds = [...new Set(input.profile_ids)];
    if (input.sampling_percent !== undefined) patch.samplingPercent = input.sampling_percent;
    if (input.stop_on_match !== undefined) patch.stopOnMatch = input.stop_on_match;
    if (input.reviewer !== undefined) patch.reviewer = reviewerFromApi(input.reviewer);
    return patch;
  });

/** The changes a PATCH asks for, in domain shape. */
export type AssignmentRulePatch = Partial<Omit<AssignmentRule, "id">>;

/** An assignment rule as the REST API answers it (snake_case). */
export interface AssignmentRuleApi {
  id: string;
  name: string;
  priority: number;
  enabled: boolean;
  conditions: ConditionGroup;
  profile_ids: string[];
  sampling_percent: number;
  stop_on_match: boolean;
  reviewer: { user_id?: string; team?: string } | null;
}

function reviewerFromApi(reviewer: ReviewerInput): { userId?: string; team?: string } | null {
  if (reviewer === null) return null;
  const out: { userId?: string; team?: string } = {};
  if (reviewer.user_id !== undefined) out.userId = reviewer.user_id;
  if (reviewer.team !== undefined) out.team = reviewer.team;
  return out;
}

/** Validates a rule from the API; throws VALIDATION_ERROR listing every problem. */
export function parseAssignmentRule(input: unknown): Omit<AssignmentRule, "id"> {
  return parseOrThrow(assignmentRuleInputSchema, input, "Invalid assignment rule");
}

/** Validates a PATCH body; only the fields sent are returned. */
export function parseAssignmentRulePatch(input: unknown): AssignmentRulePatch {
  return parseOrThrow(assignmentRulePatchSchema, input, "Invalid assignment rule change");
}

/** A stored rule in the API's snake_case shape. */
export function assignmentRuleToApi(rule: AssignmentRule): AssignmentRuleApi {
  let reviewer: AssignmentRuleApi["reviewer"] = null;
  if (rule.reviewer) {
    reviewer = {};
    if (rule.reviewer.userId !== undefined) reviewer.user_id = rule.reviewer.userId;
    if (rule.reviewer.team !== undefined) reviewer.team = rule.reviewer.team;
  }
  return {
    id: rule.id,
    name: rule.name,
    priority: rule.priority,
    enabled: rule.enabled,
    conditions: rule.conditions,
    profile_ids: rule.profileIds,
    sampling_percent: rule.samplingPercent,
    stop_on_match: rule.stopOnMatch,
    reviewer,
  };
}
