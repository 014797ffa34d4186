// A conversation found by its id or external id, analysed or not: its state, its analyses and why
// it was (or was not) analysed.
import type { Interaction, QualityProfile } from "../api/types.ts";
import { useApi } from "../api/useApi.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.tsx";
import { formatDateTime, formatSeconds, humanize } from "../ui/format.ts";
import { Badge, Card, EmptyState, ErrorNotice, Loading, PageHeader } from "../ui/kit.tsx";
import { RoutingPanel } from "./analysis/Routing.tsx";

export default function InteractionPage({ params }: { params: Record<string, string> }) {
  const session = useSession();
  const id = params["interactionId"] ?? "";
  const interaction = useApi<Interaction>(
    "GET",
    session.path(`/ingress/interactions/${encodeURIComponent(id)}`),
  );
  const profiles = useApi<{ quality_profiles: QualityProfile[] }>("GET", session.path("/quality-profiles"), {
    query: { include_archived: true },
  });
  if (interaction.error) {
    return (
      <>
        <PageHeader title="Conversation" />
        <ErrorNotice error={interaction.error} title="No such conversation" />
      </>
    );
  }
  const record = interaction.data;
  if (!record) return <Loading />;
  const names = new Map((profiles.data?.quality_profiles ?? []).map((p) => [p.profile_id, p.name]));
  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/analyses">Conversations</Link> / {record.external_interaction_id}
      </nav>
      <PageHeader
        title={record.external_interaction_id}
        subtitle={`${record.channel_type} · received ${formatDateTime(record.created_at, session.timeZone)}`}
      />
      <div className="grid-2">
        <Card title="Conversation">
          <dl className="kv">
            <dt>Status</dt>
            <dd>
              <Badge
                tone={record.status === "completed" ? "good" : record.status === "failed" ? "bad" : "info"}
              >
                {record.status}
              </Badge>
            </dd>
            <dt>Source</dt>
            <dd>{record.source ?? "—"}</dd>
            <dt>Language</dt>
            <dd>{record.language ?? "—"}</dd>
            <dt>Duration</dt>
            <dd>{record.duration_seconds ? formatSeconds(record.duration_seconds) : "—"}</dd>
            <dt>Interaction id</dt>
            <dd>
              <code>{record.interaction_id}</code>
            </dd>
            {Object.entries(record.metadata).map(([key, value]) => (
              <div key={key} style={{ display: "contents" }}>
                <dt>{humanize(key)}</dt>
                <dd>{String(value)}</dd>
              </div>
            ))}
          </dl>
        </Card>
        <Card title="Analyses">
          {record.analyses.length === 0 ? (
            <EmptyState title="Not analysed">See below why no quality profile applied.</EmptyState>
          ) : (
            <ul className="stack" style={{ listStyle: "none", padding: 0, margin: 0 }}>
              {record.analyses.map((a) => (
                <li key={a.analysis_id} className="row">
                  <Link to={`/analyses/${a.analysis_id}`}>{names.get(a.profile_id) ?? "Analysis"}</Link>
                  <Badge tone={a.status === "completed" ? "good" : a.status === "failed" ? "bad" : "info"}>
                    {a.status}
                  </Badge>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
      <Card title={record.analyses.length > 0 ? "Why it was analysed" : "Why it was not analysed"}>
        <RoutingPanel interaction={record} canSeeRules={session.can("review")} />
      </Card>
    </>
  );
}
