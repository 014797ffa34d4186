import type { AssignmentRule, ConditionGroup } from "../../core/assignment.ts";
import type { Queryable } from "../db.ts";

export interface RuleRecord extends AssignmentRule {
  accountId: string;
  createdAt: Date;
  updatedAt: Date;
}

interface RuleRow {
  id: string;
  account_id: string;
  name: string;
  priority: number;
  enabled: boolean;
  conditions: ConditionGroup;
  profile_ids: string[];
  sampling_percent: number;
  stop_on_match: boolean;
  reviewer: AssignmentRule["reviewer"];
  created_at: Date;
  updated_at: Date;
}

const columns =
  "id, account_id, name, priority, enabled, conditions, profile_ids, sampling_percent, stop_on_match, reviewer, created_at, updated_at";

function toRecord(row: RuleRow): RuleRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    priority: row.priority,
    enabled: row.enabled,
    conditions: row.conditions,
    profileIds: row.profile_ids,
    samplingPercent: row.sampling_percent,
    stopOnMatch: row.stop_on_match,
    reviewer: row.reviewer ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function values(rule: RuleRecord): unknown[] {
  return [
    rule.id,
    rule.accountId,
    rule.name,
    rule.priority,
    rule.enabled,
    JSON.stringify(rule.conditions),
    JSON.stringify(rule.profileIds),
    rule.samplingPercent,
    rule.stopOnMatch,
    rule.reviewer ? JSON.stringify(rule.reviewer) : null,
    rule.createdAt,
    rule.updatedAt,
  ];
}

export async function insertRule(q: Queryable, rule: RuleRecord): Promise<void> {
  await q.query(
    `INSERT INTO assignment_rules (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    values(rule),
  );
}

/** Replaces a rule's settings (keeps its id and creation time). */
export async function updateRule(q: Queryable, rule: RuleRecord): Promise<boolean> {
  const result = await q.query(
    `UPDATE assignment_rules SET name = $3, priority = $4, enabled = $5, conditions = $6, profile_ids = $7,
       sampling_percent = $8, stop_on_match = $9, reviewer = $10, updated_at = $11
     WHERE id = $1 AND account_id = $2`,
    [...values(rule).slice(0, 10), rule.updatedAt],
  );
  return result.rowCount > 0;
}

export async function getRule(q: Queryable, accountId: string, id: string): Promise<RuleRecord | null> {
  const result = await q.query<RuleRow>(
    `SELECT ${columns} FROM assignment_rules WHERE account_id = $1 AND id = $2`,
    [accountId, id],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

/** The account's rules in evaluation order. */
export async function listRules(q: Queryable, accountId: string): Promise<RuleRecord[]> {
  const result = await q.query<RuleRow>(
    `SELECT ${columns} FROM assignment_rules WHERE account_id = $1 ORDER BY priority, id`,
    [accountId],
  );
  return result.rows.map(toRecord);
}

export async function deleteRule(q: Queryable, accountId: string, id: string): Promise<boolean> {
  const result = await q.query("DELETE FROM assignment_rules WHERE account_id = $1 AND id = $2", [
    accountId,
    id,
  ]);
  return result.rowCount > 0;
}
