// Integrations: every source of conversations with its health — last run, last success, lag, last error.
import { useEffect, useState } from "react";
import { api } from "../../api/client.ts";
import type { ConnectorKind, Integration, IntegrationStatus } from "../../api/types.ts";
import { useApi } from "../../api/useApi.ts";
import { Link, useRouter } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { formatDateTime } from "../../ui/format.ts";
import { Button, Card, EmptyState, ErrorNotice, Loading, PageHeader } from "../../ui/kit.tsx";
import { describeLag, HealthBadge } from "./health.tsx";

export default function IntegrationsPage() {
  const session = useSession();
  const router = useRouter();
  const list = useApi<{ integrations: Integration[] }>("GET", session.path("/integrations"));
  const kinds = useApi<{ connector_kinds: ConnectorKind[] }>("GET", "/connector-kinds");
  const [statuses, setStatuses] = useState<Map<string, IntegrationStatus>>(new Map());
  useEffect(() => {
    const integrations = list.data?.integrations ?? [];
    let live = true;
    Promise.all(
      integrations.map((i) =>
        api<IntegrationStatus>("GET", session.path(`/integrations/${i.integration_id}/status`)).catch(
          () => null,
        ),
      ),
    ).then((answers) => {
      if (!live) return;
      setStatuses(
        new Map(answers.filter((a): a is IntegrationStatus => a !== null).map((a) => [a.integration_id, a])),
      );
    });
    return () => {
      live = false;
    };
  }, [list.data, session]);
  const title = (kind: string) => kinds.data?.connector_kinds.find((k) => k.kind === kind)?.title ?? kind;
  return (
    <>
      <PageHeader
        title="Integrations"
        subtitle="Where conversations come from, and how each source is doing."
        actions={
          session.can("manage:integrations") ? (
            <Button variant="primary" onClick={() => router.navigate("/integrations/new")}>
              New integration
            </Button>
          ) : null
        }
      />
      <Card>
        <ErrorNotice error={list.error} />
        {!list.data ? (
          <Loading />
        ) : list.data.integrations.length === 0 ? (
          <EmptyState title="No integration yet">
            Conversations can still arrive through the API. Set up a source to pull them in automatically.
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Integration</th>
                  <th scope="col">Health</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Last success</th>
                  <th scope="col">Lag</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {list.data.integrations.map((i) => {
                  const status = statuses.get(i.integration_id);
                  return (
                    <tr key={i.integration_id}>
                      <td>
                        <Link to={`/integrations/${i.integration_id}`}>{i.name}</Link>
                        <p className="muted small">{title(i.kind)}</p>
                      </td>
                      <td>{status ? <HealthBadge state={status.state} /> : "…"}</td>
                      <td>{formatDateTime(status?.last_run_at, session.timeZone)}</td>
                      <td>{formatDateTime(status?.last_success_at, session.timeZone)}</td>
                      <td>{status ? describeLag(status.lag) : "…"}</td>
                      <td className="small" style={{ maxWidth: 320 }}>
                        {status?.last_error ?? <span className="muted">none</span>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
