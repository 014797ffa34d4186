// Shapes of the API answers the dashboard reads (snake_case, as the REST API sends them).

export type Role = "admin" | "supervisor" | "analyst" | "agent";
export type Permission =
  | "ingest"
  | "read"
  | "review"
  | "dispute:raise"
  | "dispute:resolve"
  | "configure"
  | "manage:users"
  | "manage:keys"
  | "manage:account"
  | "manage:webhooks"
  | "read:integrations"
  | "manage:integrations";

export interface SessionInfo {
  signed_in: true;
  csrf_token: string;
  account_id: string;
  user_id: string;
  email: string;
  display_name: string | null;
  role: Role;
  agent_id: string | null;
  metadata_scope: Record<string, string[]>;
  permissions: Permission[];
  account: Account | null;
}

export interface Account {
  account_id: string;
  name: string;
  timezone: string;
}

export type KpiAnswer = "Yes" | "No" | "Partially" | "N/A";

export interface AnalysisSummary {
  analysis_id: string;
  interaction_id: string;
  external_interaction_id: string;
  profile_id: string;
  status: "queued" | "processing" | "completed" | "failed";
  ai_score: number | null;
  qa_score?: number;
  final_score: number | null;
  criticality_adjusted_score: number | null;
  metadata: Record<string, string | number | boolean>;
  created_at: string;
}

export interface AnalysisPage {
  analyses: AnalysisSummary[];
  pagination: { limit: number; offset: number; total: number };
}

export interface Evidence {
  turn_index: number;
  speaker: string;
  quote: string;
  char_start: number;
  char_end: number;
  start_seconds: number | null;
  end_seconds: number | null;
  phrase: string | null;
  similarity: number | null;
}

export interface KpiDetail {
  kpi_id: string;
  kpi_name: string;
  ai_response: KpiAnswer;
  ai_justification: string;
  ai_suggestion?: string;
  ai_score: number;
  qa_score?: number;
  qa_justification?: string;
  qa_selected_kpi_option_uid?: string;
  qa_selected_kpi_option_value?: string;
  user_comment?: string;
  final_score: number;
  criticality_adjusted_score: number;
  max_score: number;
  final_response: KpiAnswer;
  criticality: "normal" | "critical" | "fatal";
  applicable: boolean;
  evidence: Evidence[];
}

export interface SubCategoryDetail {
  sub_category_id: string;
  name: string;
  qa_score?: number;
  kpis: KpiDetail[];
}

export interface CategoryDetail {
  category_id: string;
  name: string;
  ai_score: number;
  qa_score?: number;
  final_score: number;
  criticality_adjusted_score: number;
  max_score: number;
  sub_categories: SubCategoryDetail[];
}

export interface AnalysisDetail extends AnalysisSummary {
  profile_name: string;
  profile_version: number;
  max_score: number | null;
  analysis_completed_at: string | null;
  failure_reason?: string;
  categories: CategoryDetail[];
}

export interface RuleTrace {
  rule_id: string;
  rule_name: string;
  outcome: string;
  reason: string;
  sampling_bucket?: number;
}

export interface RoutingDecision {
  summary: string;
  profile_ids: string[];
  matched_rule_ids: string[];
  not_analysed_reason: string | null;
  trace: RuleTrace[];
}

export interface Interaction {
  interaction_id: string;
  external_interaction_id: string;
  channel_type: string;
  source: string | null;
  status: string;
  status_modified_at: string;
  failure_reason?: string;
  audio_url: string | null;
  transcript_url: string | null;
  pii_redacted: boolean;
  created_at: string;
  metadata: Record<string, string | number | boolean>;
  analyses: { analysis_id: string; profile_id: string; status: string }[];
  language: string | null;
  interaction_start_time: string | null;
  duration_seconds: number | null;
  waiting_reason: string | null;
  not_analysed_reason: string | null;
  routing: RoutingDecision | null;
}

export interface TranscriptTurn {
  index: number;
  speaker: string;
  speaker_label: string;
  text: string;
  start: number | null;
  end: number | null;
}

export interface Transcript {
  interaction_id: string;
  format: string;
  timed: boolean;
  notes: string[];
  turns: TranscriptTurn[];
  /** Where personal data was replaced by a placeholder, when cqa reports it. */
  redactions?: { turn_index: number; char_start: number; char_end: number; kind: string }[];
  redaction?: "cqa" | "source" | "off";
}

export interface Dispute {
  dispute_id: string;
  analysis_id: string;
  kpi_id: string | null;
  reason: string;
  raised_by: string;
  status: "open" | "resolved";
  resolution: "ACCEPTED" | "REJECTED" | null;
  resolution_comment: string | null;
  resolved_by: string | null;
  created_at: string;
  resolved_at: string | null;
}

export interface Review {
  review_id: string;
  kpi_id: string;
  option_uid: string | null;
  option_value: string | null;
  score: number;
  justification: string | null;
  user_comment: string | null;
  reviewer: string;
  created_at: string;
}

export interface History {
  analysis_id: string;
  reviews: Review[];
  disputes: Dispute[];
}

export interface KpiOption {
  uid?: string;
  value: KpiAnswer;
  label?: string;
  score: number;
}

export interface KpiDefinition {
  id?: string;
  name: string;
  question: string;
  criticality?: "normal" | "critical" | "fatal";
  allow_na?: boolean;
  max_score?: number;
  options?: KpiOption[];
  suggestion?: string | null;
  evaluator: Record<string, unknown> & { type: string };
}

export interface SubCategoryDefinition {
  id?: string;
  name: string;
  kpis: KpiDefinition[];
}

export interface CategoryDefinition {
  id?: string;
  name: string;
  sub_categories: SubCategoryDefinition[];
}

export interface ProfileDefinition {
  name: string;
  description?: string | null;
  categories: CategoryDefinition[];
}

export interface QualityProfile {
  profile_id: string;
  name: string;
  version: number;
  current_version: number;
  archived: boolean;
  definition: ProfileDefinition;
  created_at: string;
  version_created_at: string;
  version_created_by: string | null;
  versions?: { version: number; name: string; created_at: string; created_by: string | null }[];
}

export interface Condition {
  field: string;
  operator: string;
  value?: unknown;
}

export type ConditionNode = Condition | { all: ConditionNode[] } | { any: ConditionNode[] };

export interface AssignmentRule {
  id: string;
  name: string;
  priority: number;
  enabled: boolean;
  conditions: { all: ConditionNode[] } | { any: ConditionNode[] };
  profile_ids: string[];
  sampling_percent: number;
  stop_on_match: boolean;
  reviewer: { user_id?: string; team?: string } | null;
}

export interface DryRunResult {
  evaluated: number;
  would_be_analysed: number;
  would_not_be_analysed: number;
  results: {
    interaction_id: string;
    external_interaction_id: string;
    profiles: { profile_id: string; name: string | null; archived: boolean }[];
    matched_rule_ids: string[];
    not_analysed_reason: string | null;
    summary: string;
    trace: RuleTrace[];
  }[];
}

export interface MetadataField {
  key: string;
  label: string;
  type: "string" | "number" | "boolean";
  enabled: boolean;
  filterable: boolean;
  access_controlled: boolean;
}

export interface MetadataFields {
  metadata_fields: MetadataField[];
  discovered: { key: string; seen: number }[];
}

export interface User {
  user_id: string;
  email: string;
  display_name: string | null;
  role: Role;
  agent_id: string | null;
  metadata_scope: Record<string, string[]>;
  created_at: string;
  disabled_at: string | null;
}

export interface ApiKey {
  api_key_id: string;
  name: string;
  prefix: string;
  role: Role;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface TrendPoint {
  period: string;
  analyses: number;
  average_score_percent: number | null;
}

export interface Insights {
  start_date: string;
  end_date: string;
  interval: "day" | "week" | "month";
  group_by: string;
  profile_id: string | null;
  summary: {
    analyses: number;
    average_score_percent: number | null;
    average_adjusted_score_percent: number | null;
    reviewed: number;
  };
  trend: TrendPoint[];
  groups: {
    value: string | null;
    analyses: number;
    average_score_percent: number | null;
    trend: TrendPoint[];
  }[];
  kpis: {
    profile_id: string;
    profile_name: string;
    kpi_id: string;
    kpi_name: string;
    category_name: string;
    criticality: string;
    evaluated: number;
    passed: number;
    partially: number;
    failed: number;
    not_applicable: number;
    pass_rate: number | null;
    trend: { period: string; applicable: number; passed: number; pass_rate: number | null }[];
  }[];
  lowest: {
    analysis_id: string;
    interaction_id: string;
    external_interaction_id: string;
    profile_id: string;
    final_score: number;
    max_score: number;
    score_percent: number;
    group_value: unknown;
    created_at: string;
  }[];
}

export interface ConnectorKind {
  kind: string;
  version: number | string;
  title: string;
  summary: string;
  mode: "poll" | "stream" | string;
  supports_range: boolean;
  default_schedule: Schedule | null;
  secret_fields: string[];
  config_schema: Record<string, unknown>;
}

export type Schedule = { type: "daily"; at: string } | { type: "interval"; every_seconds: number };

export interface Integration {
  integration_id: string;
  kind: string;
  mode: string | null;
  name: string;
  config: Record<string, unknown>;
  secret_fields_set: string[];
  schedule: Schedule | null;
  enabled: boolean;
  paused: boolean;
  config_version: number;
  next_run_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface IntegrationRun {
  run_id: string;
  trigger: string;
  status: string;
  from: string | null;
  to: string | null;
  started_at: string;
  finished_at: string | null;
  seen: number;
  ingested: number;
  duplicate: number;
  rejected: number;
  failed: number;
  error: string | null;
  details: unknown;
}

export interface IntegrationStatus {
  integration_id: string;
  state: "running" | "idle" | "paused" | "failing" | string;
  enabled: boolean;
  paused: boolean;
  last_run_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  lag: unknown;
  next_run_at: string | null;
  checkpoint: unknown;
  latest_run: IntegrationRun | null;
}

export interface ConnectionCheck {
  name: string;
  ok: boolean;
  message: string;
}

export interface DeadLetter {
  dead_letter_id: string;
  run_id: string | null;
  source_ref: string | null;
  code: string | null;
  reason: string;
  status: "open" | "retried" | "discarded" | string;
  attempts: number;
  interaction_id: string | null;
  payload: unknown;
  created_at: string;
  updated_at: string;
}
