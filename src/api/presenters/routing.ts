import type { RoutingDecision, RuleTrace } from "../../core/assignment.ts";

/** One rule's step of a routing decision, snake_case like the rest of the REST API. */
export function presentRuleTrace(step: RuleTrace): Record<string, unknown> {
  return {
    rule_id: step.ruleId,
    rule_name: step.ruleName,
    outcome: step.outcome,
    reason: step.reason,
    ...(step.samplingBucket === undefined ? {} : { sampling_bucket: step.samplingBucket }),
  };
}

/** Why an interaction got the profiles it got (or none), rule by rule. */
export function presentRoutingDecision(decision: RoutingDecision): Record<string, unknown> {
  return {
    summary: decision.summary,
    profile_ids: decision.profileIds,
    matched_rule_ids: decision.matchedRuleIds,
    not_analysed_reason: decision.notAnalysedReason,
    trace: decision.trace.map(presentRuleTrace),
  };
}
