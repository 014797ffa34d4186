// Insights: the score over time, by agent / team / campaign (any metadata key), pass rates per KPI and
// the lowest-scoring conversations — as charts, each with its figures.
import { type CSSProperties, type FormEvent, useState } from "react";
import type { Insights, MetadataFields, QualityProfile } from "../api/types.ts";
import { useApi } from "../api/useApi.ts";
import { Bars, toneOf } from "../charts/Bars.tsx";
import { LineChart, Sparkline } from "../charts/LineChart.tsx";
import { Link, useRouter, withQuery } from "../router.tsx";
import { useSession } from "../session.tsx";
import { formatDateTime, formatDay, humanize, localDate } from "../ui/format.ts";
import {
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  formatNumber,
  Loading,
  PageHeader,
  SelectField,
  TextField,
} from "../ui/kit.tsx";

export default function InsightsPage() {
  const session = useSession();
  const router = useRouter();
  const q = router.search;
  const view = {
    from: q.get("from") ?? localDate(session.timeZone, -29),
    to: q.get("to") ?? localDate(session.timeZone),
    profile: q.get("profile") ?? "",
    group: q.get("group") ?? "agent_id",
    interval: q.get("interval") ?? "",
  };
  const insights = useApi<Insights>("GET", session.path("/insights"), {
    query: {
      start_date: view.from,
      end_date: view.to,
      profile_id: view.profile,
      group_by: view.group,
      interval: view.interval,
    },
  });
  const profiles = useApi<{ quality_profiles: QualityProfile[] }>("GET", session.path("/quality-profiles"), {
    query: { include_archived: true },
  });
  const fields = useApi<MetadataFields>("GET", session.path("/metadata-fields"));
  const groupOptions = [
    ...(fields.data?.metadata_fields ?? [])
      .filter((f) => f.enabled)
      .map((f) => ({ value: f.key, label: f.label })),
    ...(fields.data?.discovered ?? []).map((d) => ({ value: d.key, label: humanize(d.key) })),
  ];
  if (!groupOptions.some((o) => o.value === view.group))
    groupOptions.unshift({ value: view.group, label: humanize(view.group) });
  const groupLabel = groupOptions.find((o) => o.value === view.group)?.label ?? humanize(view.group);

  const data = insights.data;
  return (
    <>
      <PageHeader
        title="Insights"
        subtitle="How quality moves over time, per team and agent, and KPI by KPI."
      />
      <InsightFilters
        key={Object.values(view).join("|")}
        view={view}
        profiles={profiles.data?.quality_profiles ?? []}
        groups={groupOptions}
        onApply={(next) => router.navigate(withQuery("/insights", next))}
      />
      <ErrorNotice error={insights.error} title="Insights could not be loaded" />
      {!data ? (
        insights.loading ? (
          <Loading />
        ) : null
      ) : data.summary.analyses === 0 ? (
        <Card>
          <EmptyState title="No analysed conversations in this period">
            Widen the dates or choose another profile.
          </EmptyState>
        </Card>
      ) : (
        <>
          <section className="card stats" aria-label="Summary">
            <Stat label="Analysed conversations" value={data.summary.analyses.toLocaleString("en-GB")} />
            <Stat label="Average score" value={percentText(data.summary.average_score_percent)} />
            <Stat
              label="Criticality-adjusted"
              value={percentText(data.summary.average_adjusted_score_percent)}
            />
            <Stat label="Reviewed by QA" value={data.summary.reviewed.toLocaleString("en-GB")} />
          </section>
          <Card title={`Score trend, by ${data.interval}`}>
            <LineChart
              title={`Average score per ${data.interval}, ${formatDay(data.start_date)} to ${formatDay(data.end_date)}`}
              points={data.trend.map((t) => ({
                label: formatDay(t.period).replace(/ \d{4}$/, ""),
                value: t.average_score_percent,
                count: t.analyses,
              }))}
            />
          </Card>
          <div className="grid-2">
            <Card title={`By ${groupLabel.toLowerCase()}`}>
              {data.groups.length === 0 ? (
                <p className="muted">No conversation carries {groupLabel.toLowerCase()}.</p>
              ) : (
                <Bars
                  label={`Average score by ${groupLabel}`}
                  rows={data.groups.map((g) => ({
                    key: g.value ?? "(none)",
                    label: g.value ?? <span className="muted">(not set)</span>,
                    segments: [
                      {
                        value: g.average_score_percent ?? 0,
                        tone: toneOf(g.average_score_percent),
                        title: "Average score",
                      },
                    ],
                    figure: (
                      <>
                        {percentText(g.average_score_percent)}{" "}
                        <span className="muted small">({g.analyses})</span>
                      </>
                    ),
                    extra:
                      g.trend.length > 1 ? (
                        <Sparkline
                          values={data.trend.map(
                            (t) => g.trend.find((p) => p.period === t.period)?.average_score_percent ?? null,
                          )}
                          label={`Trend of ${g.value ?? "not set"}`}
                        />
                      ) : undefined,
                  }))}
                />
              )}
            </Card>
            <Card title="Lowest-scoring conversations">
              <Bars
                label="Lowest-scoring conversations"
                rows={data.lowest.map((l) => ({
                  key: l.analysis_id,
                  label: <Link to={`/analyses/${l.analysis_id}`}>{l.external_interaction_id}</Link>,
                  segments: [{ value: l.score_percent, tone: toneOf(l.score_percent), title: "Score" }],
                  figure: `${formatNumber(l.final_score)} / ${formatNumber(l.max_score)}`,
                  extra: (
                    <span className="muted small">
                      {l.group_value !== null && l.group_value !== undefined
                        ? `${groupLabel} ${String(l.group_value)} · `
                        : ""}
                      {formatDateTime(l.created_at, session.timeZone)}
                    </span>
                  ),
                }))}
              />
            </Card>
          </div>
          <Card title="Pass rate per KPI">
            <div className="legend" aria-hidden="true">
              <span style={{ "--swatch": "#2f9e44" } as CSSProperties}>Yes</span>
              <span style={{ "--swatch": "#f08c00" } as CSSProperties}>Partially</span>
              <span style={{ "--swatch": "#e03131" } as CSSProperties}>No</span>
            </div>
            <Bars
              label="Pass rate per KPI"
              rows={data.kpis.map((k) => {
                const applicable = Math.max(1, k.evaluated - k.not_applicable);
                return {
                  key: `${k.profile_id}/${k.kpi_id}`,
                  label: (
                    <span title={`${k.profile_name} · ${k.category_name}`}>
                      {k.kpi_name}
                      {new Set(data.kpis.map((x) => x.profile_id)).size > 1 ? (
                        <span className="muted small"> · {k.profile_name}</span>
                      ) : null}
                    </span>
                  ),
                  segments: [
                    { value: (100 * k.passed) / applicable, tone: "good", title: `Yes: ${k.passed}` },
                    {
                      value: (100 * k.partially) / applicable,
                      tone: "warn",
                      title: `Partially: ${k.partially}`,
                    },
                    { value: (100 * k.failed) / applicable, tone: "bad", title: `No: ${k.failed}` },
                  ],
                  extra:
                    k.trend.length > 1 ? (
                      <Sparkline
                        values={data.trend.map(
                          (t) => k.trend.find((p) => p.period === t.period)?.pass_rate ?? null,
                        )}
                        label={`Pass rate of ${k.kpi_name} over time`}
                      />
                    ) : undefined,
                  figure: (
                    <>
                      {k.pass_rate === null ? "N/A" : `${k.pass_rate} % pass`}
                      <span className="visually-hidden">
                        {`: ${k.passed} yes, ${k.partially} partially, ${k.failed} no, ${k.not_applicable} not applicable`}
                      </span>
                    </>
                  ),
                };
              })}
            />
          </Card>
        </>
      )}
    </>
  );
}

function percentText(value: number | null): string {
  return value === null ? "—" : `${value.toFixed(1)} %`;
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <span className="stat-value">{value}</span>
      <span className="stat-label">{label}</span>
    </div>
  );
}

function InsightFilters({
  view,
  profiles,
  groups,
  onApply,
}: {
  view: { from: string; to: string; profile: string; group: string; interval: string };
  profiles: QualityProfile[];
  groups: { value: string; label: string }[];
  onApply(next: typeof view): void;
}) {
  const [draft, setDraft] = useState(view);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <form className="card filters" onSubmit={submit} aria-label="Insight filters">
      <TextField
        label="From"
        type="date"
        value={draft.from}
        onChange={(e) => setDraft({ ...draft, from: e.target.value })}
      />
      <TextField
        label="To"
        type="date"
        value={draft.to}
        onChange={(e) => setDraft({ ...draft, to: e.target.value })}
      />
      <SelectField
        label="Quality profile"
        value={draft.profile}
        onChange={(e) => setDraft({ ...draft, profile: e.target.value })}
        options={[
          { value: "", label: "All profiles" },
          ...profiles.map((p) => ({ value: p.profile_id, label: p.name })),
        ]}
      />
      <SelectField
        label="Compare by"
        value={draft.group}
        onChange={(e) => setDraft({ ...draft, group: e.target.value })}
        options={groups}
      />
      <SelectField
        label="Trend by"
        value={draft.interval}
        onChange={(e) => setDraft({ ...draft, interval: e.target.value })}
        options={[
          { value: "", label: "Automatic" },
          { value: "day", label: "Day" },
          { value: "week", label: "Week" },
          { value: "month", label: "Month" },
        ]}
      />
      <div className="filters-actions">
        <Button type="submit" variant="primary">
          Apply
        </Button>
      </div>
    </form>
  );
}
