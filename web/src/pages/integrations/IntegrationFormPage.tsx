// Create or edit an integration: pick a connector kind, then fill the form generated from that kind's
// config schema (the same schema cqa validates with; secrets are write-only).
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { api } from "../../api/client.ts";
import type { ConnectorKind, Integration, Schedule } from "../../api/types.ts";
import { useAction, useApi } from "../../api/useApi.ts";
import { initialValue, type JsonSchema, ObjectFields, resolverFor } from "../../forms/JsonSchemaForm.tsx";
import { Link, useRouter } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import {
  Button,
  Card,
  Checkbox,
  EmptyState,
  ErrorNotice,
  Loading,
  PageHeader,
  SelectField,
  TextField,
} from "../../ui/kit.tsx";
import { useToast } from "../../ui/toast.tsx";

/** Problems the API listed as `config.<path> …`, keyed by path, to show beside their fields. */
function problemsByPath(details: unknown): Map<string, string> {
  const map = new Map<string, string>();
  for (const problem of (details as { problems?: string[] } | null)?.problems ?? []) {
    const match = /^config\.([\w.[\]]+)\s+(.*)$/.exec(problem);
    if (match) map.set(match[1]!, `${match[1]} ${match[2]}`);
  }
  return map;
}

export default function IntegrationFormPage({ params }: { params: Record<string, string> }) {
  const session = useSession();
  const router = useRouter();
  const toast = useToast();
  const id = params["integrationId"] ?? null;
  const kinds = useApi<{ connector_kinds: ConnectorKind[] }>("GET", "/connector-kinds");
  const existing = useApi<Integration>("GET", id ? session.path(`/integrations/${id}`) : null);
  const [kind, setKind] = useState<string | null>(router.search.get("kind"));
  const [name, setName] = useState("");
  const [config, setConfig] = useState<Record<string, unknown>>({});
  const [schedule, setSchedule] = useState<Schedule | null>(null);
  const [enabled, setEnabled] = useState(true);
  const definition = kinds.data?.connector_kinds.find((k) => k.kind === kind) ?? null;
  const schema = (definition?.config_schema ?? null) as JsonSchema | null;
  const resolve = useMemo(() => resolverFor(schema ?? {}), [schema]);

  useEffect(() => {
    if (!existing.data) return;
    setKind(existing.data.kind);
    setName(existing.data.name);
    setConfig(existing.data.config);
    setSchedule(existing.data.schedule);
    setEnabled(existing.data.enabled);
  }, [existing.data]);
  useEffect(() => {
    if (id || !definition) return;
    setConfig(initialValue(definition.config_schema as JsonSchema, resolverFor(definition.config_schema)));
    setSchedule(definition.default_schedule);
  }, [id, definition]);

  const save = useAction((body: Record<string, unknown>) =>
    id
      ? api<Integration>("PUT", session.path(`/integrations/${id}`), { body })
      : api<{ integration_id: string }>("POST", session.path("/integrations"), { body }),
  );

  if (kinds.error)
    return <ErrorNotice error={kinds.error} title="The connector catalogue could not be loaded" />;
  if (!kinds.data || (id && !existing.data))
    return existing.error ? <ErrorNotice error={existing.error} /> : <Loading />;

  if (!definition) {
    return (
      <>
        <nav className="breadcrumbs" aria-label="Breadcrumb">
          <Link to="/integrations">Integrations</Link> / New
        </nav>
        <PageHeader title="New integration" subtitle="Where should cqa pick up conversations from?" />
        {kinds.data.connector_kinds.length === 0 ? (
          <Card>
            <EmptyState title="This cqa has no connector kinds">
              Conversations can still be sent through the API.
            </EmptyState>
          </Card>
        ) : (
          <div className="grid-3">
            {kinds.data.connector_kinds.map((k) => (
              <Card key={k.kind} title={k.title}>
                <p className="muted">{k.summary}</p>
                <p className="small muted">
                  {k.mode === "stream" ? "Streams continuously" : "Runs on a schedule or on demand"}
                </p>
                <div style={{ marginTop: 10 }}>
                  <Button onClick={() => setKind(k.kind)} aria-label={`Set up ${k.title}`}>
                    Set up
                  </Button>
                </div>
              </Card>
            ))}
          </div>
        )}
      </>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await save.run({
      kind: definition.kind,
      name,
      config,
      enabled,
      ...(definition.mode === "stream" ? {} : { schedule }),
    });
    if (!answer) return;
    const newId = "integration_id" in answer ? answer.integration_id : id;
    toast(id ? "Integration saved" : "Integration created — test its connection next");
    router.navigate(`/integrations/${newId}${id ? "" : "?test=1"}`);
  };
  const fieldErrors = problemsByPath(save.error?.details);

  return (
    <form className="stack" onSubmit={submit} aria-label="Integration">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/integrations">Integrations</Link> / {id ? name : `New ${definition.title}`}
      </nav>
      <PageHeader
        title={id ? `Edit ${existing.data?.name ?? ""}` : `New ${definition.title}`}
        subtitle={definition.summary}
        actions={
          <>
            {id ? null : (
              <Button variant="ghost" onClick={() => setKind(null)}>
                Choose another kind
              </Button>
            )}
            <Button type="submit" variant="primary" busy={save.pending}>
              {id ? "Save" : "Create integration"}
            </Button>
          </>
        }
      />
      <ErrorNotice error={save.error} title="The integration was not saved" />
      <Card title="General">
        <div className="form-grid">
          <TextField
            label="Name"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
            hint="e.g. Main site call recordings"
          />
          {definition.mode === "stream" ? null : <ScheduleField schedule={schedule} onChange={setSchedule} />}
        </div>
        <div style={{ marginTop: 10 }}>
          <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        </div>
      </Card>
      <Card title="Connection and behaviour">
        <ObjectFields
          schema={definition.config_schema as JsonSchema}
          value={config}
          onChange={(v) => setConfig(v as Record<string, unknown>)}
          resolve={resolve}
          errors={fieldErrors}
        />
      </Card>
    </form>
  );
}

function ScheduleField({
  schedule,
  onChange,
}: {
  schedule: Schedule | null;
  onChange(next: Schedule | null): void;
}) {
  const type = schedule?.type ?? "none";
  return (
    <>
      <SelectField
        label="Schedule"
        value={type}
        onChange={(e) =>
          onChange(
            e.target.value === "daily"
              ? { type: "daily", at: "02:00" }
              : e.target.value === "interval"
                ? { type: "interval", every_seconds: 900 }
                : null,
          )
        }
        options={[
          { value: "none", label: "On demand only" },
          { value: "daily", label: "Daily" },
          { value: "interval", label: "Every few minutes" },
        ]}
      />
      {schedule?.type === "daily" ? (
        <TextField
          label="At (account time zone)"
          type="time"
          value={schedule.at}
          onChange={(e) => onChange({ type: "daily", at: e.target.value })}
        />
      ) : null}
      {schedule?.type === "interval" ? (
        <TextField
          label="Every (minutes)"
          type="number"
          min={1}
          value={Math.round(schedule.every_seconds / 60)}
          onChange={(e) =>
            onChange({ type: "interval", every_seconds: Math.max(60, Number(e.target.value) * 60) })
          }
        />
      ) : null}
    </>
  );
}
