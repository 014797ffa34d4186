import { createHash } from "node:crypto";
import type {
  AssignmentRule,
  NotAnalysedReason,
  RoutableInteraction,
  RoutingDecision,
  RuleTrace,
} from "../core/assignment.ts";
import { type ConditionExplanation, explainConditions } from "./evaluateConditions.ts";

/**
 * The conversation's sampling bucket for a rule: a number in [0, 100) with 2 decimals, from the
 * SHA-256 of `${ruleId}:${externalInteractionId}`. The same conversation always lands in the same
 * bucket (re-ingesting or re-routing it gives the same answer), and different rules sample
 * independently of each other.
 */
export function samplingBucket(ruleId: string, externalInteractionId: string): number {
  const digest = createHash("sha256").update(`${ruleId}:${externalInteractionId}`).digest();
  // 48 bits modulo 10,000: the bias is below one in 10^10.
  return (digest.readUIntBE(0, 6) % 10_000) / 100;
}

/**
 * Decides which quality profiles apply to an interaction, and explains why rule by rule.
 *
 * Rules run in ascending priority (ties by id). A disabled rule is skipped. A rule whose conditions
 * match is then sampled: the conversation is analysed when its {@link samplingBucket} is below the
 * rule's `samplingPercent`. An analysed match adds the rule's profiles (deduplicated, in order) and,
 * with `stopOnMatch`, ends evaluation. A match that is sampled out does NOT stop evaluation: the
 * conversation was not selected by that rule, so a later rule may still apply to it (e.g. "10 % of
 * all calls" followed by "every escalated call").
 */
export function routeInteraction(rules: AssignmentRule[], interaction: RoutableInteraction): RoutingDecision {
  const ordered = [...rules].sort(byPriorityThenId);
  const trace: RuleTrace[] = [];
  const profileIds: string[] = [];
  const applied: AssignmentRule[] = [];
  const sampledOut: { rule: AssignmentRule; bucket: number }[] = [];
  let closest: { rule: AssignmentRule; explanation: ConditionExplanation } | null = null;
  let stoppedBy: AssignmentRule | null = null;

  for (const rule of ordered) {
    const base = { ruleId: rule.id, ruleName: rule.name };
    if (stoppedBy) {
      const reason = `not evaluated: rule ${quote(stoppedBy.name)} applied first and stops evaluation`;
      trace.push({ ...base, outcome: "skipped_after_stop", reason });
      continue;
    }
    if (!rule.enabled) {
      trace.push({ ...base, outcome: "disabled", reason: "the rule is disabled" });
      continue;
    }
    const explanation = explainConditions(rule.conditions, interaction);
    if (!explanation.matched) {
      trace.push({ ...base, outcome: "not_matched", reason: explanation.reason });
      if (!closest || explanation.closeness > closest.explanation.closeness) closest = { rule, explanation };
      continue;
    }
    if (rule.samplingPercent >= 100) {
      trace.push({ ...base, outcome: "matched", reason: explanation.reason });
    } else {
      const bucket = samplingBucket(rule.id, interaction.externalInteractionId);
      const sample = `${percent(rule.samplingPercent)} sample (bucket ${bucket})`;
      if (bucket >= rule.samplingPercent) {
        trace.push({
          ...base,
          outcome: "sampled_out",
          reason: `${explanation.reason}; but outside the ${sample}`,
          samplingBucket: bucket,
        });
        sampledOut.push({ rule, bucket });
        continue;
      }
      trace.push({
        ...base,
        outcome: "matched",
        reason: `${explanation.reason}; in the ${sample}`,
        samplingBucket: bucket,
      });
    }
    applied.push(rule);
    for (const id of rule.profileIds) if (!profileIds.includes(id)) profileIds.push(id);
    if (rule.stopOnMatch) stoppedBy = rule;
  }

  const hasEnabledRules = rules.some((rule) => rule.enabled);
  const notAnalysedReason: NotAnalysedReason | null =
    profileIds.length > 0
      ? null
      : !hasEnabledRules
        ? "no_rules"
        : sampledOut.length > 0
          ? "sampled_out"
          : "no_rule_matched";

  return {
    profileIds,
    matchedRuleIds: applied.map((rule) => rule.id),
    trace,
    notAnalysedReason,
    summary: summarise(applied, profileIds, notAnalysedReason, sampledOut[0] ?? null, closest),
  };
}

function summarise(
  applied: AssignmentRule[],
  profileIds: string[],
  notAnalysedReason: NotAnalysedReason | null,
  firstSampledOut: { rule: AssignmentRule; bucket: number } | null,
  closest: { rule: AssignmentRule; explanation: ConditionExplanation } | null,
): string {
  if (notAnalysedReason === null) {
    const rules = applied.map((rule) => `${quote(rule.name)} (priority ${rule.priority})`);
    const noun = rules.length === 1 ? "rule" : "rules";
    return `Matched ${noun} ${joinWords(rules)} → ${profileIds.length} profile(s).`;
  }
  if (notAnalysedReason === "no_rules") return "Not analysed: there are no enabled assignment rules.";
  if (notAnalysedReason === "sampled_out" && firstSampledOut) {
    const { rule, bucket } = firstSampledOut;
    return (
      `Not analysed: sampled out — rule ${quote(rule.name)} matched, but this conversation's bucket ` +
      `${bucket} is not below its ${percent(rule.samplingPercent)} sample.`
    );
  }
  if (!closest) return "Not analysed: no rule matched.";
  const { rule, explanation } = closest;
  const how = explanation.failedOnCondition
    ? `failed on ${explanation.reason}`
    : `failed: ${explanation.reason}`;
  return `Not analysed: no rule matched. Closest: rule ${quote(rule.name)} ${how}.`;
}

function byPriorityThenId(a: AssignmentRule, b: AssignmentRule): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const quote = (text: string) => JSON.stringify(text);

const percent = (value: number) => `${value}%`;

function joinWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
