// Every change of an analysis, oldest first: QA overrides and disputes raised and resolved.
import type { AnalysisDetail, History } from "../../api/types.ts";
import { useSession } from "../../session.tsx";
import { formatDateTime } from "../../ui/format.ts";
import { EmptyState } from "../../ui/kit.tsx";
import { kpiNames } from "./Disputes.tsx";

export function HistoryPanel({ analysis, history }: { analysis: AnalysisDetail; history: History }) {
  const session = useSession();
  const names = kpiNames(analysis);
  const events = [
    ...history.reviews.map((r) => ({
      at: r.created_at,
      key: r.review_id,
      text: `${r.reviewer} set ${names.get(r.kpi_id) ?? r.kpi_id} to ${r.option_value ?? "a score of"} (${r.score} points)`,
      detail: r.justification,
    })),
    ...history.disputes.flatMap((d) => [
      {
        at: d.created_at,
        key: `${d.dispute_id}-raised`,
        text: `${d.raised_by} disputed ${d.kpi_id ? (names.get(d.kpi_id) ?? d.kpi_id) : "the analysis"}`,
        detail: d.reason,
      },
      ...(d.resolved_at
        ? [
            {
              at: d.resolved_at,
              key: `${d.dispute_id}-resolved`,
              text: `${d.resolved_by} ${d.resolution === "ACCEPTED" ? "accepted" : "rejected"} the dispute`,
              detail: d.resolution_comment,
            },
          ]
        : []),
    ]),
  ].sort((a, b) => a.at.localeCompare(b.at));
  if (events.length === 0)
    return <EmptyState title="No changes yet">The scores are as the AI gave them.</EmptyState>;
  return (
    <ol className="timeline" aria-label="History of changes">
      {events.map((e) => (
        <li key={e.key}>
          <p>{e.text}</p>
          {e.detail ? <p className="muted">“{e.detail}”</p> : null}
          <p className="muted small">{formatDateTime(e.at, session.timeZone)}</p>
        </li>
      ))}
    </ol>
  );
}
