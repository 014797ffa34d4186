import type { Condition, ConditionGroup, ConditionNode, RoutableInteraction } from "../core/assignment.ts";
import { formatValue, isIsoDate, parseInstant, toBoolean, toNumber } from "./conditionValues.ts";
import { metadataKeyOf } from "./ruleFields.ts";

/** Whether conditions matched, and why in words. */
export interface ConditionVerdict {
  matched: boolean;
  reason: string;
}

/** A verdict plus how near a miss came, for "closest rule" explanations. */
export interface ConditionExplanation extends ConditionVerdict {
  /** Share of the conditions met, 0–1 (an OR group counts its best alternative). */
  closeness: number;
  /** True when `reason` names the single condition that failed (rather than a whole OR group). */
  failedOnCondition: boolean;
}

/**
 * Evaluates a condition group against an interaction. On a miss, `reason` names the first failing
 * condition with the interaction's actual value (AND) or says that no alternative matched (OR).
 *
 * Comparison semantics:
 * - strings compare trimmed and case-insensitively for eq, neq, in, not_in and contains;
 * - numbers compare numerically; a numeric string ("300") counts as its number, for eq/in as well
 *   as for gt/gte/lt/lte/between;
 * - booleans compare by value, and the strings "true"/"false" count as booleans;
 * - with an ISO-8601 date as the rule's value, gt/gte/lt/lte/between compare instants (a date-time
 *   without an offset is UTC); a value that is not a date or number fails these operators;
 * - between includes both ends;
 * - a missing field (absent, null or blank text) fails every operator except neq, not_in and
 *   not_exists, which it passes;
 * - metadata keys are looked up exactly, then case-insensitively.
 */
export function evaluateConditions(
  group: ConditionGroup,
  interaction: RoutableInteraction,
): ConditionVerdict {
  const { matched, reason } = explainConditions(group, interaction);
  return { matched, reason };
}

/** {@link evaluateConditions} plus how close a miss came. */
export function explainConditions(
  group: ConditionGroup,
  interaction: RoutableInteraction,
): ConditionExplanation {
  return explainNode(group, interaction);
}

function explainNode(node: ConditionNode, interaction: RoutableInteraction): ConditionExplanation {
  if ("all" in node) return explainAll(node.all, interaction);
  if ("any" in node) return explainAny(node.any, interaction);
  return explainCondition(node, interaction);
}

function explainAll(items: ConditionNode[], interaction: RoutableInteraction): ConditionExplanation {
  if (items.length === 0) {
    return {
      matched: true,
      reason: "no conditions, so every interaction matches",
      closeness: 1,
      failedOnCondition: false,
    };
  }
  // Every item is evaluated (not just up to the first miss) so closeness reflects the whole group.
  const results = items.map((item) => explainNode(item, interaction));
  const closeness = results.reduce((sum, r) => sum + r.closeness, 0) / results.length;
  const failed = results.find((r) => !r.matched);
  if (failed) return { ...failed, closeness };
  const reason = results.length === 1 ? results[0]!.reason : `all ${results.length} conditions matched`;
  return { matched: true, reason, closeness: 1, failedOnCondition: false };
}

function explainAny(items: ConditionNode[], interaction: RoutableInteraction): ConditionExplanation {
  if (items.length === 0) {
    return {
      matched: false,
      reason: "the any group is empty, so it never matches",
      closeness: 0,
      failedOnCondition: false,
    };
  }
  const results = items.map((item) => explainNode(item, interaction));
  const matched = results.find((r) => r.matched);
  if (matched) return matched;
  const closeness = Math.max(...results.map((r) => r.closeness));
  if (results.length === 1) return { ...results[0]!, closeness };
  return {
    matched: false,
    reason: `none of the ${results.length} alternatives matched (the first: ${results[0]!.reason})`,
    closeness,
    failedOnCondition: false,
  };
}

function explainCondition(condition: Condition, interaction: RoutableInteraction): ConditionExplanation {
  const actual = fieldValue(condition.field, interaction);
  const matched = testCondition(condition, actual);
  const is = `${condition.field} is ${isMissing(actual) ? "missing" : formatValue(actual)}`;
  return matched
    ? { matched, reason: is, closeness: 1, failedOnCondition: false }
    : { matched, reason: `${is}, wants ${wanted(condition)}`, closeness: 0, failedOnCondition: true };
}

function wanted(condition: Condition): string {
  const value = condition.value;
  const list = () => (Array.isArray(value) ? value.map(formatValue).join(", ") : formatValue(value));
  switch (condition.operator) {
    case "eq":
      return formatValue(value);
    case "neq":
      return `anything but ${formatValue(value)}`;
    case "in":
      return `one of ${list()}`;
    case "not_in":
      return `none of ${list()}`;
    case "contains":
      return `text containing ${formatValue(value)}`;
    case "gt":
      return `more than ${formatValue(value)}`;
    case "gte":
      return `at least ${formatValue(value)}`;
    case "lt":
      return `less than ${formatValue(value)}`;
    case "lte":
      return `at most ${formatValue(value)}`;
    case "between": {
      const [min, max] = Array.isArray(value) ? value : [value, value];
      return `between ${formatValue(min)} and ${formatValue(max)}`;
    }
    case "exists":
      return "any value";
    case "not_exists":
      return "no value";
  }
}

function fieldValue(field: string, interaction: RoutableInteraction): unknown {
  const key = metadataKeyOf(field);
  if (key !== null) return metadataValue(interaction.metadata, key);
  switch (field) {
    case "channel_type":
      return interaction.channelType;
    case "source":
      return interaction.source;
    case "language":
      return interaction.language;
    case "duration_seconds":
      return interaction.durationSeconds;
    case "integration_id":
      return interaction.integrationId;
    default:
      return undefined;
  }
}

function metadataValue(metadata: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(metadata, key)) return metadata[key];
  // CSV headers arrive lower-cased while rule authors may write "Region": match across case.
  const wantedKey = key.trim().toLowerCase();
  for (const [k, v] of Object.entries(metadata)) {
    if (k.trim().toLowerCase() === wantedKey) return v;
  }
  return undefined;
}

function isMissing(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === "string") return value.trim() === "";
  return Array.isArray(value) && value.length === 0;
}

function testCondition(condition: Condition, actual: unknown): boolean {
  const missing = isMissing(actual);
  const { operator, value } = condition;
  if (operator === "exists") return !missing;
  if (operator === "not_exists") return missing;
  if (missing) return operator === "neq" || operator === "not_in";
  switch (operator) {
    case "eq":
      return equals(actual, value);
    case "neq":
      return !equals(actual, value);
    case "in":
      return asList(value).some((v) => equals(actual, v));
    case "not_in":
      return !asList(value).some((v) => equals(actual, v));
    case "contains":
      return contains(actual, value);
    case "gt":
      return compare(actual, value) > 0;
    case "gte":
      return compare(actual, value) >= 0;
    case "lt":
      return compare(actual, value) < 0;
    case "lte":
      return compare(actual, value) <= 0;
    case "between": {
      const [min, max] = asList(value);
      return compare(actual, min) >= 0 && compare(actual, max) <= 0;
    }
  }
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

const normalText = (text: string) => text.trim().toLowerCase();

/** eq semantics: the rule value's type decides how the actual value is read. */
function equals(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((a) => equals(a, expected));
  if (typeof expected === "number") return toNumber(actual) === expected;
  if (typeof expected === "boolean") return toBoolean(actual) === expected;
  if (typeof expected !== "string") return false;
  if (typeof actual === "string") return normalText(actual) === normalText(expected);
  if (typeof actual === "number") return toNumber(expected) === actual;
  if (typeof actual === "boolean") return toBoolean(expected) === actual;
  return false;
}

function contains(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((a) => contains(a, expected));
  if (typeof expected !== "string") return false;
  if (typeof actual !== "string" && typeof actual !== "number" && typeof actual !== "boolean") return false;
  return normalText(String(actual)).includes(normalText(expected));
}

/** Sign of actual − expected as numbers or instants; NaN when they cannot be compared (the test fails). */
function compare(actual: unknown, expected: unknown): number {
  if (isIsoDate(expected)) {
    return typeof actual === "string" ? parseInstant(actual) - parseInstant(expected) : Number.NaN;
  }
  return toNumber(actual) - toNumber(expected);
}
