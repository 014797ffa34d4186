// Metadata fields ("CQA mapping"): how each metadata key is labelled, whether it filters lists and
// whether it can limit what users see.
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../../api/client.ts";
import type { MetadataField, MetadataFields } from "../../api/types.ts";
import { useAction, useApi } from "../../api/useApi.ts";
import { useSession } from "../../session.tsx";
import { humanize } from "../../ui/format.ts";
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

const types = [
  { value: "string", label: "Text" },
  { value: "number", label: "Number" },
  { value: "boolean", label: "Yes / no" },
];

export default function MetadataFieldsPage() {
  const session = useSession();
  const toast = useToast();
  const fields = useApi<MetadataFields>("GET", session.path("/metadata-fields"));
  const canEdit = session.can("configure");
  const update = useAction((key: string, patch: Partial<MetadataField>) =>
    api<MetadataField>("PATCH", session.path(`/metadata-fields/${encodeURIComponent(key)}`), { body: patch }),
  );
  const remove = useAction((key: string) =>
    api("DELETE", session.path(`/metadata-fields/${encodeURIComponent(key)}`)),
  );
  const create = useAction((body: Record<string, unknown>) =>
    api<MetadataField>("POST", session.path("/metadata-fields"), { body }),
  );
  const [draft, setDraft] = useState({
    key: "",
    label: "",
    type: "string",
    filterable: true,
    access_controlled: false,
  });

  // Changes show at once and are confirmed by the reload that follows the save.
  const [pending, setPending] = useState<Record<string, Partial<MetadataField>>>({});
  useEffect(() => {
    if (fields.data) setPending({});
  }, [fields.data]);
  const patch = async (key: string, change: Partial<MetadataField>, done: string) => {
    setPending((p) => ({ ...p, [key]: { ...p[key], ...change } }));
    if (await update.run(key, change)) {
      toast(done);
      fields.reload();
    } else {
      setPending((p) => ({ ...p, [key]: {} }));
    }
  };
  const add = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await create.run({ ...draft, label: draft.label || humanize(draft.key) });
    if (saved) {
      toast(`Field ${saved.label} saved`);
      setDraft({ key: "", label: "", type: "string", filterable: true, access_controlled: false });
      fields.reload();
    }
  };
  const data = fields.data;
  return (
    <>
      <PageHeader
        title="Metadata fields"
        subtitle="Name the metadata your conversations carry, choose which filter lists and insights, and which can scope users' access."
      />
      <ErrorNotice error={fields.error ?? update.error ?? remove.error} />
      <Card title="Fields">
        {!data ? (
          <Loading />
        ) : data.metadata_fields.length === 0 ? (
          <EmptyState title="No field set up yet">
            Set one up below, or from a key your conversations already carry.
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Label</th>
                  <th scope="col">Type</th>
                  <th scope="col">Shown</th>
                  <th scope="col">Filterable</th>
                  <th scope="col">Access-controlled</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.metadata_fields
                  .map((saved) => ({ ...saved, ...pending[saved.key] }))
                  .map((f) => (
                    <tr key={f.key}>
                      <td>
                        <code>{f.key}</code>
                      </td>
                      <td>
                        <input
                          aria-label={`Label of ${f.key}`}
                          defaultValue={f.label}
                          disabled={!canEdit}
                          onBlur={(e) => {
                            const label = e.target.value.trim();
                            if (label && label !== f.label)
                              void patch(f.key, { label }, `${f.key} is now labelled ${label}`);
                          }}
                        />
                      </td>
                      <td>
                        <select
                          aria-label={`Type of ${f.key}`}
                          value={f.type}
                          disabled={!canEdit}
                          onChange={(e) =>
                            void patch(
                              f.key,
                              { type: e.target.value as MetadataField["type"] },
                              `${f.label}: type changed`,
                            )
                          }
                        >
                          {types.map((t) => (
                            <option key={t.value} value={t.value}>
                              {t.label}
                            </option>
                          ))}
                        </select>
                      </td>
                      {(["enabled", "filterable", "access_controlled"] as const).map((flag) => (
                        <td key={flag}>
                          <input
                            type="checkbox"
                            aria-label={`${humanize(flag)}: ${f.key}`}
                            checked={f[flag]}
                            disabled={!canEdit}
                            onChange={(e) =>
                              void patch(
                                f.key,
                                { [flag]: e.target.checked },
                                `${f.label}: ${humanize(flag).toLowerCase()} ${e.target.checked ? "on" : "off"}`,
                              )
                            }
                          />
                        </td>
                      ))}
                      <td>
                        {canEdit ? (
                          <Button
                            size="small"
                            variant="ghost"
                            onClick={async () => {
                              if ((await remove.run(f.key)) !== undefined) fields.reload();
                            }}
                          >
                            Remove
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
      {canEdit ? (
        <Card title="Set up a field">
          <ErrorNotice error={create.error} title="The field was not saved" />
          <form className="filters" onSubmit={add} aria-label="New metadata field">
            <TextField
              label="Key"
              required
              list="discovered-keys"
              value={draft.key}
              onChange={(e) => setDraft({ ...draft, key: e.target.value })}
              hint="As conversations carry it, e.g. campaign"
            />
            <datalist id="discovered-keys">
              {(data?.discovered ?? []).map((d) => (
                <option key={d.key} value={d.key} />
              ))}
            </datalist>
            <TextField
              label="Label"
              value={draft.label}
              onChange={(e) => setDraft({ ...draft, label: e.target.value })}
            />
            <SelectField
              label="Type"
              value={draft.type}
              onChange={(e) => setDraft({ ...draft, type: e.target.value })}
              options={types}
            />
            <Checkbox
              label="Filterable"
              checked={draft.filterable}
              onChange={(e) => setDraft({ ...draft, filterable: e.target.checked })}
            />
            <Checkbox
              label="Access-controlled"
              checked={draft.access_controlled}
              onChange={(e) => setDraft({ ...draft, access_controlled: e.target.checked })}
            />
            <div className="filters-actions">
              <Button type="submit" variant="primary" busy={create.pending}>
                Save field
              </Button>
            </div>
          </form>
          {data && data.discovered.length > 0 ? (
            <div style={{ marginTop: 14 }}>
              <h3>Seen on recent conversations</h3>
              <ul className="chips" style={{ marginTop: 8 }}>
                {data.discovered.map((d) => (
                  <li key={d.key} className="chip">
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => setDraft({ ...draft, key: d.key, label: humanize(d.key) })}
                    >
                      {d.key}
                    </button>
                    <span className="muted small">&nbsp;{d.seen}&nbsp;</span>
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
        </Card>
      ) : null}
    </>
  );
}
