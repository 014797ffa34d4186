import { z } from "zod";
import { rollUp } from "../../analysis/scoring/scoreProfile.ts";
import { AppError } from "../../core/errors.ts";
import { isUuid } from "../../core/ids.ts";
import type { KpiAnswer, KpiResult, KpiReview, ProfileDefinition } from "../../core/qualityProfile.ts";
import {
  addLocalDays,
  formatInTimeZone,
  formatLocalDate,
  startOfLocalDay,
  zonedParts,
} from "../../core/time.ts";
import {
  type GroupBucket,
  type InsightFilter,
  insightTotals,
  type KpiAnswerCount,
  kpiAnswerCounts,
  lowestScoring,
  type ScoreBucket,
  scoreByGroup,
  scoreTrend,
} from "../../storage/repositories/insights.ts";
import { getProfile, listProfiles } from "../../storage/repositories/profiles.ts";
import { rowScopeOf } from "../access.ts";
import { defineRoute } from "../route.ts";
import type { ApiServices } from "../services.ts";

const maxRangeDays = 366;
const maxGroups = 12;
const dateText = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "{path} must be a date YYYY-MM-DD" })
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), { error: "{path} must be a real date" });

const insightsQuery = z.object({
  start_date: dateText.optional().describe("First day (account time zone); default 29 days before end_date."),
  end_date: dateText.optional().describe("Last day, inclusive; default today."),
  interval: z
    .enum(["day", "week", "month"], { error: "interval must be day, week or month" })
    .optional()
    .describe("Bucket of the trends; default day up to 62 days, else week."),
  profile_id: z
    .string()
    .refine(isUuid, { error: "profile_id must be a quality profile id" })
    .optional()
    .describe("Only analyses of this quality profile."),
  group_by: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .optional()
    .describe("Metadata key to compare by (agent_id, team, campaign…); default agent_id."),
  lowest: z
    .string()
    .regex(/^\d+$/, { error: "lowest must be a whole number between 1 and 50" })
    .transform(Number)
    .pipe(z.number().min(1, { error: "lowest must be between 1 and 50" }).max(50))
    .optional()
    .describe("How many lowest-scoring conversations to list; default 10."),
});

type Range = { from: Date; to: Date; startDate: string; endDate: string; days: number };

function dateRange(
  query: { start_date?: string | undefined; end_date?: string | undefined },
  now: Date,
  tz: string,
): Range {
  const today = zonedParts(now, tz);
  const parse = (text: string) => text.split("-").map(Number) as [number, number, number];
  const end = query.end_date ? parse(query.end_date) : ([today.year, today.month, today.day] as const);
  const start = query.start_date ? parse(query.start_date) : addLocalDays(end[0], end[1], end[2], -29);
  const days =
    (Date.UTC(end[0], end[1] - 1, end[2]) - Date.UTC(start[0], start[1] - 1, start[2])) / 86_400_000 + 1;
  if (days < 1) throw new AppError("VALIDATION_ERROR", "start_date must be before or equal to end_date");
  if (days > maxRangeDays)
    throw new AppError("VALIDATION_ERROR", `The date range must not exceed ${maxRangeDays} days`);
  const after = addLocalDays(end[0], end[1], end[2], 1);
  return {
    from: startOfLocalDay(start[0], start[1], start[2], tz),
    to: startOfLocalDay(after[0], after[1], after[2], tz),
    startDate: formatLocalDate(start[0], start[1], start[2]),
    endDate: formatLocalDate(end[0], end[1], end[2]),
    days,
  };
}

const average = (bucket: { scored: number; percentSum: number }): number | null =>
  bucket.scored > 0 ? round(bucket.percentSum / bucket.scored) : null;
const round = (value: number): number => Math.round(value * 10) / 10;

function presentBucket(bucket: ScoreBucket): Record<string, unknown> {
  return { period: bucket.period, analyses: bucket.analyses, average_score_percent: average(bucket) };
}

/** Each value of the grouping key with its total and its trend, the busiest first. */
function presentGroups(buckets: GroupBucket[]): Record<string, unknown>[] {
  const groups = new Map<string, { value: string | null; buckets: GroupBucket[] }>();
  for (const bucket of buckets) {
    const key = bucket.value ?? "\u0000";
    const group = groups.get(key) ?? { value: bucket.value, buckets: [] };
    group.buckets.push(bucket);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((group) => {
      const total = group.buckets.reduce(
        (sum, b) => ({
          analyses: sum.analyses + b.analyses,
          scored: sum.scored + b.scored,
          percentSum: sum.percentSum + b.percentSum,
        }),
        { analyses: 0, scored: 0, percentSum: 0 },
      );
      return {
        value: group.value,
        analyses: total.analyses,
        average_score_percent: average(total),
        trend: group.buckets.map(presentBucket),
      };
    })
    .sort((a, b) => b.analyses - a.analyses || String(a.value).localeCompare(String(b.value)))
    .slice(0, maxGroups);
}

/** Loads each profile version the counts refer to, once. */
async function definitionsOf(
  services: ApiServices,
  accountId: string,
  counts: KpiAnswerCount[],
): Promise<Map<string, ProfileDefinition>> {
  const wanted = new Set(counts.map((c) => `${c.profileId}@${c.profileVersion}`));
  const definitions = new Map<string, ProfileDefinition>();
  for (const key of wanted) {
    const [id, version] = key.split("@") as [string, string];
    const profile = await getProfile(services.db, accountId, id, Number(version));
    if (profile) definitions.set(key, profile.definition);
  }
  return definitions;
}

/** The answer in force for one KPI, worked out by the scoring itself (reviews included). */
function finalAnswer(definition: ProfileDefinition, count: KpiAnswerCount): KpiAnswer | null {
  const result: KpiResult = {
    kpiId: count.kpiId,
    answer: (count.aiAnswer ?? "N/A") as KpiAnswer,
    justification: "",
    evidence: [],
    optionUid: null,
    aiScore: count.aiScore ?? 0,
    maxScore: 0,
  };
  const reviews: KpiReview[] =
    count.reviewScore === null
      ? []
      : [
          {
            kpiId: count.kpiId,
            optionUid: null,
            optionValue: count.reviewValue,
            score: count.reviewScore,
            justification: null,
            userComment: null,
          },
        ];
  const scores = rollUp(definition, [result], reviews);
  for (const category of scores.categories)
    for (const sub of category.subCategories)
      for (const kpi of sub.kpis) if (kpi.kpiId === count.kpiId) return kpi.finalResponse;
  return null;
}

interface KpiStats {
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
  /** Pass rate per period, the KPI's trend. */
  trend: { period: string; applicable: number; passed: number; pass_rate: number | null }[];
}

async function kpiStats(
  services: ApiServices,
  accountId: string,
  counts: KpiAnswerCount[],
): Promise<KpiStats[]> {
  const definitions = await definitionsOf(services, accountId, counts);
  const current = new Map(
    (await listProfiles(services.db, accountId, { includeArchived: true })).map((p) => [p.id, p]),
  );
  const stats = new Map<string, KpiStats>();
  for (const count of counts) {
    const definition = definitions.get(`${count.profileId}@${count.profileVersion}`);
    if (!definition) continue;
    const answer = finalAnswer(definition, count);
    if (answer === null) continue;
    const key = `${count.profileId}/${count.kpiId}`;
    let entry = stats.get(key);
    if (!entry) {
      // Names from the profile's current version when the KPI is still there, else from the scored one.
      const named = [current.get(count.profileId)?.definition, definition].flatMap((d) =>
        d
          ? d.categories.flatMap((c) =>
              c.subCategories.flatMap((s) =>
                s.kpis.filter((k) => k.id === count.kpiId).map((k) => ({ kpi: k, category: c.name })),
              ),
            )
          : [],
      )[0];
      entry = {
        profile_id: count.profileId,
        profile_name: current.get(count.profileId)?.name ?? definition.name,
        kpi_id: count.kpiId,
        kpi_name: named?.kpi.name ?? count.kpiId,
        category_name: named?.category ?? "",
        criticality: named?.kpi.criticality ?? "normal",
        evaluated: 0,
        passed: 0,
        partially: 0,
        failed: 0,
        not_applicable: 0,
        pass_rate: null,
        trend: [],
      };
      stats.set(key, entry);
    }
    let point = entry.trend.find((p) => p.period === count.period);
    if (!point) {
      point = { period: count.period, applicable: 0, passed: 0, pass_rate: null };
      entry.trend.push(point);
    }
    if (answer !== "N/A") point.applicable += count.count;
    if (answer === "Yes") point.passed += count.count;
    entry.evaluated += count.count;
    if (answer === "Yes") entry.passed += count.count;
    else if (answer === "Partially") entry.partially += count.count;
    else if (answer === "No") entry.failed += count.count;
    else entry.not_applicable += count.count;
  }
  const order = (s: KpiStats) => {
    const definition = current.get(s.profile_id)?.definition;
    const ids = definition?.categories.flatMap((c) =>
      c.subCategories.flatMap((sub) => sub.kpis.map((k) => k.id)),
    );
    const index = ids?.indexOf(s.kpi_id) ?? -1;
    return index < 0 ? Number.MAX_SAFE_INTEGER : index;
  };
  return [...stats.values()]
    .map((s) => {
      const applicable = s.evaluated - s.not_applicable;
      const trend = s.trend
        .sort((a, b) => a.period.localeCompare(b.period))
        .map((p) => ({ ...p, pass_rate: p.applicable > 0 ? round((100 * p.passed) / p.applicable) : null }));
      return { ...s, pass_rate: applicable > 0 ? round((100 * s.passed) / applicable) : null, trend };
    })
    .sort((a, b) => a.profile_name.localeCompare(b.profile_name) || order(a) - order(b));
}

const insightsRoute = defineRoute({
  method: "get",
  path: "/api/v1/accounts/{account_id}/insights",
  operationId: "getInsights",
  summary: "Score trends by period, by agent / team / campaign and by KPI; pass rates; lowest scores",
  description:
    "Covers completed analyses created in the date range (whole days in the account's time zone, at most " +
    `${maxRangeDays} days) that the caller may see. Scores are percentages of the analysis' maximum ` +
    "(final score: the QA score where reviewed). A KPI passes when its answer in force is Yes; its pass rate " +
    "leaves N/A answers out.",
  tag: "Analysis",
  auth: "account",
  permission: "read",
  rate: "other",
  query: insightsQuery,
  queryErrorCode: "VALIDATION_ERROR",
  responses: { 200: { description: "The insights" }, 400: { description: "VALIDATION_ERROR" } },
  async handle({ query, caller, services }) {
    const tz = caller.account.timezone;
    const range = dateRange(query, services.clock.now(), tz);
    const interval = query.interval ?? (range.days <= 62 ? "day" : "week");
    const groupBy = query.group_by ?? "agent_id";
    const filter: InsightFilter = {
      accountId: caller.account.id,
      from: range.from,
      to: range.to,
      timeZone: tz,
      interval,
      scope: rowScopeOf(caller),
      ...(query.profile_id ? { profileId: query.profile_id } : {}),
    };
    const [totals, trend, groups, counts, lowest] = await Promise.all([
      insightTotals(services.db, filter),
      scoreTrend(services.db, filter),
      scoreByGroup(services.db, filter, groupBy),
      kpiAnswerCounts(services.db, filter),
      lowestScoring(services.db, filter, query.lowest ?? 10),
    ]);
    return {
      status: 200,
      data: {
        start_date: range.startDate,
        end_date: range.endDate,
        interval,
        group_by: groupBy,
        profile_id: query.profile_id ?? null,
        summary: {
          analyses: totals.analyses,
          average_score_percent: average(totals),
          average_adjusted_score_percent:
            totals.scored > 0 ? round(totals.adjustedPercentSum / totals.scored) : null,
          reviewed: totals.reviewed,
        },
        trend: trend.map(presentBucket),
        groups: presentGroups(groups),
        kpis: await kpiStats(services, caller.account.id, counts),
        lowest: lowest.map((row) => ({
          analysis_id: row.analysisId,
          interaction_id: row.interactionId,
          external_interaction_id: row.externalInteractionId,
          profile_id: row.profileId,
          final_score: row.finalScore,
          max_score: row.maxScore,
          score_percent: round(row.percent),
          group_value: row.metadata[groupBy] ?? null,
          created_at: formatInTimeZone(row.createdAt, tz),
        })),
      },
    };
  },
});

export const insightRoutes = [insightsRoute];
