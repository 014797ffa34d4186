// One integration: its health, "test connection" with each check explained, run now / backfill,
// pause / resume, the history of runs and the dead letters with retry.
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../../api/client.ts";
import type {
  ConnectionCheck,
  ConnectorKind,
  DeadLetter,
  Integration,
  IntegrationRun,
  IntegrationStatus,
} from "../../api/types.ts";
import { useAction, useApi } from "../../api/useApi.ts";
import { Link, useRouter } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { Dialog } from "../../ui/Dialog.tsx";
import { formatDateTime } from "../../ui/format.ts";
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  Loading,
  Notice,
  PageHeader,
  TextField,
} from "../../ui/kit.tsx";
import { useToast } from "../../ui/toast.tsx";
import { HealthFacts } from "./health.tsx";

export default function IntegrationPage({ params }: { params: Record<string, string> }) {
  const session = useSession();
  const router = useRouter();
  const toast = useToast();
  const id = params["integrationId"] ?? "";
  const base = session.path(`/integrations/${id}`);
  const integration = useApi<Integration>("GET", base);
  const status = useApi<IntegrationStatus>("GET", `${base}/status`);
  const runs = useApi<{ runs: IntegrationRun[]; pagination: { total: number } }>("GET", `${base}/runs`, {
    query: { limit: 20 },
  });
  const letters = useApi<{ dead_letters: DeadLetter[]; pagination: { total: number } }>(
    "GET",
    `${base}/dead-letters`,
    {
      query: { limit: 50 },
    },
  );
  const kinds = useApi<{ connector_kinds: ConnectorKind[] }>("GET", "/connector-kinds");
  const canManage = session.can("manage:integrations");
  const [checks, setChecks] = useState<{ ok: boolean; checks: ConnectionCheck[] } | null>(null);
  const [backfill, setBackfill] = useState(false);

  const test = useAction(() => api<{ ok: boolean; checks: ConnectionCheck[] }>("POST", `${base}/test`));
  const run = useAction((body: Record<string, unknown>) => api("POST", `${base}/run`, { body }));
  const pause = useAction((paused: boolean) =>
    api<IntegrationStatus>("POST", `${base}/${paused ? "pause" : "resume"}`),
  );
  const remove = useAction(() => api("DELETE", base));
  const retry = useAction((letterId: string) =>
    api<{ outcome: string; reason?: string; interaction_id?: string }>(
      "POST",
      `${base}/dead-letters/${letterId}/retry`,
    ),
  );

  const refresh = () => {
    status.reload();
    runs.reload();
    letters.reload();
    integration.reload();
  };
  const runTest = async () => {
    const answer = await test.run();
    if (answer) setChecks(answer);
  };
  // Arriving from "create", the first thing an IT admin wants is the connection test.
  const autoTest = router.search.get("test") === "1";
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once on arrival
  useEffect(() => {
    if (autoTest && canManage) void runTest();
  }, []);

  if (integration.error)
    return <ErrorNotice error={integration.error} title="This integration could not be opened" />;
  const data = integration.data;
  if (!data) return <Loading />;
  const kind = kinds.data?.connector_kinds.find((k) => k.kind === data.kind);
  const actionError = run.error ?? pause.error ?? remove.error ?? retry.error ?? test.error;

  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/integrations">Integrations</Link> / {data.name}
      </nav>
      <PageHeader
        title={data.name}
        subtitle={`${kind?.title ?? data.kind} · config version ${data.config_version}`}
        actions={
          canManage ? (
            <>
              <Button onClick={() => void runTest()} busy={test.pending}>
                Test connection
              </Button>
              {data.mode !== "stream" ? (
                <Button
                  onClick={async () => {
                    if ((await run.run({})) !== undefined) {
                      toast("Run queued");
                      refresh();
                    }
                  }}
                  busy={run.pending}
                >
                  Run now
                </Button>
              ) : null}
              {kind?.supports_range || data.mode === "stream" ? (
                <Button onClick={() => setBackfill(true)}>
                  {data.mode === "stream" ? "Replay" : "Backfill"}
                </Button>
              ) : null}
              <Button
                onClick={async () => {
                  if (await pause.run(!data.paused)) {
                    toast(data.paused ? "Resumed" : "Paused");
                    refresh();
                  }
                }}
                busy={pause.pending}
              >
                {data.paused ? "Resume" : "Pause"}
              </Button>
              <Button onClick={() => router.navigate(`/integrations/${id}/edit`)}>Edit</Button>
              <Button
                variant="danger"
                onClick={async () => {
                  if (!window.confirm(`Delete ${data.name}? Conversations it brought in stay.`)) return;
                  if ((await remove.run()) !== undefined) {
                    toast("Integration deleted");
                    router.navigate("/integrations");
                  }
                }}
              >
                Delete
              </Button>
            </>
          ) : null
        }
      />
      <ErrorNotice error={actionError} />
      {checks ? (
        <Card title="Connection test">
          <Notice
            kind={checks.ok ? "success" : "error"}
            title={checks.ok ? "Every check passed" : "The connection test failed"}
          >
            <ul
              className="stack"
              style={{ listStyle: "none", padding: 0, margin: "6px 0 0" }}
              aria-label="Checks"
            >
              {checks.checks.map((c) => (
                <li key={c.name} data-check={c.name}>
                  <span aria-hidden="true">{c.ok ? "✓" : "✗"}</span> <strong>{c.name}</strong>
                  <span className="visually-hidden">{c.ok ? " passed" : " failed"}</span>: {c.message}
                </li>
              ))}
            </ul>
          </Notice>
        </Card>
      ) : null}
      <div className="grid-2">
        <Card title="Health">
          {status.data ? <HealthFacts status={status.data} timeZone={session.timeZone} /> : <Loading />}
        </Card>
        <Card title="Settings">
          <dl className="kv">
            {Object.entries(data.config).map(([key, value]) => (
              <div key={key} style={{ display: "contents" }}>
                <dt>{key}</dt>
                <dd>
                  <code>{typeof value === "object" ? JSON.stringify(value) : String(value)}</code>
                </dd>
              </div>
            ))}
            <dt>Schedule</dt>
            <dd>
              {data.schedule
                ? data.schedule.type === "daily"
                  ? `daily at ${data.schedule.at}`
                  : `every ${Math.round(data.schedule.every_seconds / 60)} min`
                : data.mode === "stream"
                  ? "continuous"
                  : "on demand"}
            </dd>
          </dl>
        </Card>
      </div>
      <Card title="Runs">
        <ErrorNotice error={runs.error} />
        {!runs.data ? (
          <Loading />
        ) : runs.data.runs.length === 0 ? (
          <EmptyState title="No run yet" />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Status</th>
                  {(["seen", "ingested", "duplicate", "rejected", "failed"] as const).map((k) => (
                    <th key={k} scope="col" className="num">
                      {k}
                    </th>
                  ))}
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {runs.data.runs.map((r) => (
                  <tr key={r.run_id}>
                    <td>{formatDateTime(r.started_at, session.timeZone)}</td>
                    <td>
                      {r.trigger}
                      {r.from ? (
                        <p className="muted small">
                          {formatDateTime(r.from, session.timeZone)} →{" "}
                          {formatDateTime(r.to, session.timeZone)}
                        </p>
                      ) : null}
                    </td>
                    <td>
                      <Badge
                        tone={
                          r.status === "succeeded" || r.status === "completed"
                            ? "good"
                            : r.status === "failed"
                              ? "bad"
                              : "info"
                        }
                      >
                        {r.status}
                      </Badge>
                    </td>
                    <td className="num">{r.seen}</td>
                    <td className="num">{r.ingested}</td>
                    <td className="num">{r.duplicate}</td>
                    <td className="num">{r.rejected}</td>
                    <td className="num">{r.failed}</td>
                    <td className="small">{r.error ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title={`Dead letters${letters.data ? ` (${letters.data.pagination.total})` : ""}`}>
        <p className="muted">
          Items the source gave that could not be ingested. Fix the cause, then retry them.
        </p>
        {!letters.data ? (
          <Loading />
        ) : letters.data.dead_letters.length === 0 ? (
          <EmptyState title="Nothing was rejected" />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Item</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {letters.data.dead_letters.map((l) => (
                  <tr key={l.dead_letter_id}>
                    <td>
                      <code>{l.source_ref ?? l.dead_letter_id}</code>
                      <p className="muted small">{formatDateTime(l.created_at, session.timeZone)}</p>
                      <details>
                        <summary className="small">Payload</summary>
                        <pre className="mono" style={{ whiteSpace: "pre-wrap", maxWidth: 420 }}>
                          {JSON.stringify(l.payload, null, 2)}
                        </pre>
                      </details>
                    </td>
                    <td className="small">
                      {l.code ? <Badge tone="bad">{l.code}</Badge> : null} {l.reason}
                    </td>
                    <td>
                      <Badge
                        tone={l.status === "open" ? "warn" : l.status === "retried" ? "good" : "neutral"}
                      >
                        {l.status}
                      </Badge>
                      {l.attempts > 1 ? <p className="muted small">{l.attempts} attempts</p> : null}
                    </td>
                    <td>
                      {canManage && l.status === "open" ? (
                        <Button
                          size="small"
                          busy={retry.pending}
                          onClick={async () => {
                            const outcome = await retry.run(l.dead_letter_id);
                            if (!outcome) return;
                            toast(
                              outcome.outcome === "rejected"
                                ? `Still rejected: ${outcome.reason ?? ""}`
                                : `Retried: ${outcome.outcome}`,
                              outcome.outcome === "rejected" ? "error" : "success",
                            );
                            letters.reload();
                          }}
                        >
                          Retry
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {backfill ? (
        <BackfillDialog
          stream={data.mode === "stream"}
          onClose={() => setBackfill(false)}
          onRun={async (range) => {
            if ((await run.run(range)) !== undefined) {
              setBackfill(false);
              toast(data.mode === "stream" ? "Replay requested" : "Backfill queued");
              refresh();
            }
          }}
          pending={run.pending}
        />
      ) : null}
    </>
  );
}

function BackfillDialog({
  stream,
  onClose,
  onRun,
  pending,
}: {
  stream: boolean;
  onClose(): void;
  onRun(range: { from: string; to?: string }): void;
  pending: boolean;
}) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onRun({ from: new Date(from).toISOString(), ...(to ? { to: new Date(to).toISOString() } : {}) });
  };
  return (
    <Dialog open onClose={onClose} title={stream ? "Replay from a time" : "Backfill a period"}>
      <form className="stack" onSubmit={submit}>
        <TextField
          label="From"
          type="datetime-local"
          required
          value={from}
          onChange={(e) => setFrom(e.target.value)}
        />
        <TextField
          label="To"
          type="datetime-local"
          required={!stream}
          value={to}
          onChange={(e) => setTo(e.target.value)}
        />
        <p className="muted small">Conversations already in cqa are recognised and not counted twice.</p>
        <div className="form-actions">
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={pending}>
            {stream ? "Replay" : "Backfill"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
