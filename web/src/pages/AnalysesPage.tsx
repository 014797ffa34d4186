// The analysis list: filters (dates, score, quality profile, metadata), a column chooser remembered
// per user (by cqa, so it follows the user to any browser), paging and a CSV export of the current
// view. The view lives in the URL, so it can be bookmarked, shared and navigated with Back.
import { type FormEvent, useMemo, useState } from "react";
import { api } from "../api/client.ts";
import type { AnalysisPage, AnalysisSummary, MetadataFields, QualityProfile } from "../api/types.ts";
import { useApi } from "../api/useApi.ts";
import { Link, useRouter, withQuery } from "../router.tsx";
import { useSession } from "../session.tsx";
import { formatDateTime, humanize, localDate } from "../ui/format.ts";
import { Badge, Button, ErrorNotice, Loading, PageHeader, SelectField, TextField } from "../ui/kit.tsx";
import { useToast } from "../ui/toast.tsx";
import { ColumnChooser, type ColumnDef, useColumnChoice } from "./analyses/columns.tsx";
import { toCsv } from "./analyses/csv.ts";
import { type MetadataCondition, MetadataFilters, parseConditions } from "./analyses/metadataFilters.tsx";

const pageSizes = [25, 50, 100];
/** The columns of a user who has not chosen any (column keys as in the API's analysis_list_columns). */
const defaultColumns = ["conversation", "created", "profile", "status", "final", "qa", "meta:agent_id"];

interface View {
  from: string;
  to: string;
  min: string;
  max: string;
  profile: string;
  conditions: MetadataCondition[];
  page: number;
  size: number;
}

function readView(search: URLSearchParams, timeZone: string): View {
  const size = Number(search.get("size"));
  return {
    from: search.get("from") ?? localDate(timeZone, -6),
    to: search.get("to") ?? localDate(timeZone),
    min: search.get("min") ?? "",
    max: search.get("max") ?? "",
    profile: search.get("profile") ?? "",
    conditions: parseConditions(search.get("filters")),
    page: Math.max(0, Number(search.get("page")) || 0),
    size: pageSizes.includes(size) ? size : 50,
  };
}

function viewPath(view: View): string {
  return withQuery("/analyses", {
    from: view.from,
    to: view.to,
    min: view.min,
    max: view.max,
    profile: view.profile,
    filters: view.conditions.length > 0 ? JSON.stringify(view.conditions) : null,
    page: view.page > 0 ? view.page : null,
    size: view.size !== 50 ? view.size : null,
  });
}

/** The POST /analyses body of a view (the published Analysis API). */
function queryBody(view: View): Record<string, unknown> {
  const filters: unknown[] = [
    { field: "date", operator: "range", value: { start_date: view.from, end_date: view.to } },
  ];
  if (view.min !== "")
    filters.push({ field: "score", operator: "greater_than_or_equal", value: Number(view.min) });
  if (view.max !== "")
    filters.push({ field: "score", operator: "less_than_or_equal", value: Number(view.max) });
  return {
    other_filters: filters,
    ...(view.profile ? { quality_profile_uid: view.profile } : {}),
    ...(view.conditions.length > 0
      ? {
          metadata_filter_group: [
            view.conditions.map((c) => ({
              field: c.field,
              operator: c.operator,
              value:
                c.operator === "in"
                  ? c.value
                      .split(",")
                      .map((v) => v.trim())
                      .filter(Boolean)
                  : c.value,
            })),
          ],
        }
      : {}),
  };
}

export default function AnalysesPage() {
  const session = useSession();
  const router = useRouter();
  const toast = useToast();
  const view = readView(router.search, session.timeZone);
  const setView = (next: Partial<View>) => router.navigate(viewPath({ ...view, page: 0, ...next }));

  const body = queryBody(view);
  const list = useApi<AnalysisPage>("POST", session.path("/analyses"), {
    query: { limit: view.size, offset: view.page * view.size },
    body,
  });
  // The list is asked for first: on the embedded database requests are answered in order.
  const profiles = useApi<{ quality_profiles: QualityProfile[] }>("GET", session.path("/quality-profiles"), {
    query: { include_archived: true },
  });
  const fields = useApi<MetadataFields>("GET", session.path("/metadata-fields"));

  const profileNames = useMemo(
    () => new Map((profiles.data?.quality_profiles ?? []).map((p) => [p.profile_id, p.name])),
    [profiles.data],
  );
  const metadataKeys = useMemo(() => {
    const configured = (fields.data?.metadata_fields ?? []).filter((f) => f.enabled);
    // Filters come from the account's filterable fields; until it has set up any, from the keys seen.
    const noFields = (fields.data?.metadata_fields ?? []).length === 0;
    const discovered = (fields.data?.discovered ?? []).map((d) => ({
      key: d.key,
      label: humanize(d.key),
      filterable: noFields,
    }));
    return [
      ...configured.map((f) => ({ key: f.key, label: f.label, filterable: f.filterable })),
      ...discovered,
    ];
  }, [fields.data]);

  const columns = useMemo<ColumnDef[]>(
    () => [
      {
        key: "conversation",
        label: "Conversation",
        fixed: true,
        value: (row) => row.external_interaction_id,
        render: (row) => <Link to={`/analyses/${row.analysis_id}`}>{row.external_interaction_id}</Link>,
      },
      { key: "created", label: "Analysed", value: (row) => formatDateTime(row.created_at, session.timeZone) },
      {
        key: "profile",
        label: "Quality profile",
        value: (row) => profileNames.get(row.profile_id) ?? row.profile_id,
      },
      {
        key: "status",
        label: "Status",
        value: (row) => row.status,
        render: (row) => <StatusBadge status={row.status} />,
      },
      {
        key: "final",
        label: "Final score",
        numeric: true,
        value: (row) => (row.final_score === null ? "" : String(row.final_score)),
        render: (row) => <strong>{row.final_score ?? "—"}</strong>,
      },
      {
        key: "ai",
        label: "AI score",
        numeric: true,
        value: (row) => (row.ai_score === null ? "" : String(row.ai_score)),
      },
      {
        key: "qa",
        label: "QA score",
        numeric: true,
        value: (row) => (row.qa_score === undefined ? "" : String(row.qa_score)),
      },
      {
        key: "adjusted",
        label: "Criticality-adjusted",
        numeric: true,
        value: (row) =>
          row.criticality_adjusted_score === null ? "" : String(row.criticality_adjusted_score),
      },
      ...metadataKeys.map<ColumnDef>((field) => ({
        key: `meta:${field.key}`,
        label: field.label,
        value: (row) => (row.metadata[field.key] === undefined ? "" : String(row.metadata[field.key])),
      })),
      { key: "analysis_id", label: "Analysis id", value: (row) => row.analysis_id },
      { key: "interaction_id", label: "Interaction id", value: (row) => row.interaction_id },
    ],
    [metadataKeys, profileNames, session.timeZone],
  );
  const columnChoice = useColumnChoice(
    session.accountId,
    session.info.user_id,
    defaultColumns,
    (doing, error) =>
      toast(
        doing === "load"
          ? `Your saved columns could not be loaded: ${error.message}`
          : `Your column choice could not be saved: ${error.message}`,
        "error",
      ),
  );
  const visible = columns.filter((c) => c.fixed || columnChoice.chosen.includes(c.key));

  const [exporting, setExporting] = useState(false);
  const exportCsv = async () => {
    setExporting(true);
    try {
      const rows: AnalysisSummary[] = [];
      const total = list.data?.pagination.total ?? 0;
      for (let offset = 0; offset < Math.min(total, 10_000); offset += 100) {
        const answer = await api<AnalysisPage>("POST", session.path("/analyses"), {
          query: { limit: 100, offset },
          body,
        });
        rows.push(...answer.analyses);
        if (answer.analyses.length < 100) break;
      }
      const blob = new Blob([toCsv(visible, rows)], { type: "text/csv;charset=utf-8" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `cqa-analyses-${view.from}-to-${view.to}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      toast(`Exported ${rows.length} ${rows.length === 1 ? "row" : "rows"}`);
    } catch (error) {
      toast(`Export failed: ${(error as Error).message}`, "error");
    } finally {
      setExporting(false);
    }
  };

  const total = list.data?.pagination.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / view.size));

  return (
    <>
      <PageHeader
        title={session.info.role === "agent" ? "My conversations" : "Conversations"}
        subtitle="Every analysed conversation, newest first."
        actions={<FindConversation />}
      />
      <section className="card filters-card" aria-label="Filters">
        <FiltersForm
          key={[view.from, view.to, view.min, view.max, view.profile].join("|")}
          view={view}
          profiles={profiles.data?.quality_profiles ?? []}
          onApply={(next) => setView(next)}
        />
        <MetadataFilters
          fields={metadataKeys.filter((f) => f.filterable)}
          conditions={view.conditions}
          onChange={(conditions) => setView({ conditions })}
        />
      </section>
      <section className="card" aria-labelledby="results-title">
        <header className="card-header">
          <h2 id="results-title">
            {list.loading && !list.data
              ? "Loading…"
              : `${total.toLocaleString("en-GB")} ${total === 1 ? "analysis" : "analyses"}`}
          </h2>
          <div className="card-actions">
            <ColumnChooser columns={columns} choice={columnChoice} />
            <Button onClick={() => void exportCsv()} busy={exporting} disabled={total === 0}>
              Export CSV
            </Button>
          </div>
        </header>
        <ErrorNotice error={list.error} title="The list could not be loaded" />
        {list.loading && !list.data ? <Loading /> : null}
        {list.data ? (
          list.data.analyses.length === 0 ? (
            <p className="empty-inline">
              No analysis matches these filters. Widen the dates or remove a filter.
            </p>
          ) : (
            <div className="table-wrap">
              <table className="table" aria-describedby="results-title" aria-busy={list.loading}>
                <thead>
                  <tr>
                    {visible.map((c) => (
                      <th key={c.key} scope="col" className={c.numeric ? "num" : undefined}>
                        {c.label}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {list.data.analyses.map((row) => (
                    <tr key={row.analysis_id}>
                      {visible.map((c) => (
                        <td key={c.key} className={c.numeric ? "num" : undefined}>
                          {c.render ? c.render(row) : c.value(row)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        ) : null}
        <nav className="pager" aria-label="Pages">
          <Button
            size="small"
            disabled={view.page === 0}
            onClick={() => router.navigate(viewPath({ ...view, page: view.page - 1 }))}
          >
            Previous
          </Button>
          <span>
            Page {view.page + 1} of {pages}
          </span>
          <Button
            size="small"
            disabled={view.page + 1 >= pages}
            onClick={() => router.navigate(viewPath({ ...view, page: view.page + 1 }))}
          >
            Next
          </Button>
          <label className="inline-label">
            Rows per page{" "}
            <select value={view.size} onChange={(e) => setView({ size: Number(e.target.value) })}>
              {pageSizes.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
        </nav>
      </section>
    </>
  );
}

function StatusBadge({ status }: { status: string }) {
  const tone = status === "completed" ? "good" : status === "failed" ? "bad" : "info";
  return <Badge tone={tone}>{status}</Badge>;
}

function FiltersForm({
  view,
  profiles,
  onApply,
}: {
  view: View;
  profiles: QualityProfile[];
  onApply(next: Partial<View>): void;
}) {
  const [draft, setDraft] = useState({
    from: view.from,
    to: view.to,
    min: view.min,
    max: view.max,
    profile: view.profile,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Dates, scores and profile">
      <TextField
        label="From"
        type="date"
        value={draft.from}
        required
        onChange={(e) => setDraft({ ...draft, from: e.target.value })}
      />
      <TextField
        label="To"
        type="date"
        value={draft.to}
        required
        onChange={(e) => setDraft({ ...draft, to: e.target.value })}
      />
      <TextField
        label="Score from"
        type="number"
        inputMode="decimal"
        min={0}
        value={draft.min}
        onChange={(e) => setDraft({ ...draft, min: e.target.value })}
        className="field-narrow"
      />
      <TextField
        label="Score to"
        type="number"
        inputMode="decimal"
        min={0}
        value={draft.max}
        onChange={(e) => setDraft({ ...draft, max: e.target.value })}
        className="field-narrow"
      />
      <SelectField
        label="Quality profile"
        value={draft.profile}
        onChange={(e) => setDraft({ ...draft, profile: e.target.value })}
        options={[
          { value: "", label: "All profiles" },
          ...profiles.map((p) => ({
            value: p.profile_id,
            label: p.archived ? `${p.name} (archived)` : p.name,
          })),
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

/** Jump to any conversation by its id or external id, analysed or not ("why wasn't it analysed?"). */
function FindConversation() {
  const router = useRouter();
  const [value, setValue] = useState("");
  return (
    <search>
      <form
        className="find"
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim()) router.navigate(`/interactions/${encodeURIComponent(value.trim())}`);
        }}
      >
        <label htmlFor="find-conversation" className="visually-hidden">
          Find a conversation by id
        </label>
        <input
          id="find-conversation"
          type="search"
          placeholder="Find by conversation id…"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <Button type="submit">Open</Button>
      </form>
    </search>
  );
}
