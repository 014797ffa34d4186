/** Operators of an assignment-rule condition. */
export type ConditionOperator =
  | "eq"
  | "neq"
  | "in"
  | "not_in"
  | "contains"
  | "gt"
  | "gte"
  | "lt"
  | "lte"
  | "between"
  | "exists"
  | "not_exists";

/**
 * One test on an interaction. `field` is `channel_type`, `source`, `language`,
 * `duration_seconds`, `integration_id` or `metadata.<key>`.
 */
export interface Condition {
  field: string;
  operator: ConditionOperator;
  value?: unknown;
}

/** AND (`all`) / OR (`any`) groups, nested freely. An empty `all` matches everything. */
export type ConditionGroup = { all: ConditionNode[] } | { any: ConditionNode[] };
export type ConditionNode = Condition | ConditionGroup;

/** Routes matching conversations to quality profiles. Lower priority number = evaluated first. */
export interface AssignmentRule {
  id: string;
  name: string;
  priority: number;
  enabled: boolean;
  conditions: ConditionGroup;
  profileIds: string[];
  /** 0–100: share of matching conversations analysed, chosen deterministically by conversation id. */
  samplingPercent: number;
  /** When true (default), later rules are not evaluated once this one matches. */
  stopOnMatch: boolean;
  reviewer?: { userId?: string; team?: string } | null;
}

/** The facts about an interaction that rules look at. */
export interface RoutableInteraction {
  externalInteractionId: string;
  channelType: string;
  source: string | null;
  language: string | null;
  durationSeconds: number | null;
  integrationId: string | null;
  metadata: Record<string, unknown>;
}

/** Why not analysed, when no profile applies (or the recording gives nothing to analyse). */
export type NotAnalysedReason = "no_rules" | "no_rule_matched" | "sampled_out" | "too_short" | "no_speech";

/** What one rule concluded about one interaction. */
export interface RuleTrace {
  ruleId: string;
  ruleName: string;
  outcome: "disabled" | "not_matched" | "sampled_out" | "matched" | "skipped_after_stop";
  /** Human-readable reason, e.g. "metadata.region is 'south', rule wants 'north'". */
  reason: string;
  /** For sampling: the conversation's bucket 0–99.99 and the rule's percentage. */
  samplingBucket?: number;
}

/** The result of routing: the profiles to apply and, rule by rule, why. */
export interface RoutingDecision {
  profileIds: string[];
  matchedRuleIds: string[];
  trace: RuleTrace[];
  notAnalysedReason: NotAnalysedReason | null;
  /** One sentence for people: "Matched rule 'All calls' → profile(s) …" or why nothing applied. */
  summary: string;
}
