// API keys: create (the key and its webhook signing secret are shown once), list by prefix, revoke.
import { type FormEvent, useState } from "react";
import { api } from "../../api/client.ts";
import type { ApiKey, Role } from "../../api/types.ts";
import { useAction, useApi } from "../../api/useApi.ts";
import { useSession } from "../../session.tsx";
import { Dialog } from "../../ui/Dialog.tsx";
import { formatDateTime } from "../../ui/format.ts";
import {
  Badge,
  Button,
  Card,
  ErrorNotice,
  Loading,
  Notice,
  PageHeader,
  SelectField,
  TextField,
} from "../../ui/kit.tsx";
import { useToast } from "../../ui/toast.tsx";

export const roleOptions: { value: Role; label: string }[] = [
  { value: "admin", label: "Admin — everything" },
  { value: "supervisor", label: "Supervisor — configure, review, resolve" },
  { value: "analyst", label: "Analyst — read, review, resolve disputes" },
  { value: "agent", label: "Agent — own conversations, raise disputes" },
];

interface Created extends ApiKey {
  api_key: string;
  webhook_signing_secret: string;
}

export default function ApiKeysPage() {
  const session = useSession();
  const toast = useToast();
  const keys = useApi<{ api_keys: ApiKey[] }>("GET", session.path("/api-keys"));
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("admin");
  const [created, setCreated] = useState<Created | null>(null);
  const create = useAction((body: Record<string, unknown>) =>
    api<Created>("POST", session.path("/api-keys"), { body }),
  );
  const revoke = useAction((id: string) => api("DELETE", session.path(`/api-keys/${id}`)));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await create.run({ name, role });
    if (answer) {
      setCreated(answer);
      setName("");
      keys.reload();
    }
  };
  const copy = (text: string) =>
    navigator.clipboard?.writeText(text).then(
      () => toast("Copied"),
      () => toast("Copy failed: select the text and copy it", "error"),
    );
  return (
    <>
      <PageHeader
        title="API keys"
        subtitle="For systems that push conversations and read results through the API."
      />
      <Card title="New key">
        <ErrorNotice error={create.error} title="The key was not created" />
        <form className="filters" onSubmit={submit} aria-label="New API key">
          <TextField
            label="Name"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
            hint="Who uses it, e.g. CRM connector"
          />
          <SelectField
            label="Role"
            value={role}
            onChange={(e) => setRole(e.target.value as Role)}
            options={roleOptions}
          />
          <div className="filters-actions">
            <Button type="submit" variant="primary" busy={create.pending}>
              Create key
            </Button>
          </div>
        </form>
      </Card>
      <Card title="Keys">
        <ErrorNotice error={keys.error ?? revoke.error} />
        {!keys.data ? (
          <Loading />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.api_keys.map((k) => (
                  <tr key={k.api_key_id}>
                    <td>{k.name}</td>
                    <td>
                      <code>{k.prefix}</code>
                    </td>
                    <td>{k.role}</td>
                    <td>{formatDateTime(k.created_at, session.timeZone)}</td>
                    <td>{k.last_used_at ? formatDateTime(k.last_used_at, session.timeZone) : "never"}</td>
                    <td>
                      {k.revoked_at ? (
                        <Badge>revoked</Badge>
                      ) : (
                        <Button
                          size="small"
                          variant="danger"
                          onClick={async () => {
                            if (
                              !window.confirm(
                                `Revoke the key “${k.name}”? Systems using it stop working within 10 seconds.`,
                              )
                            )
                              return;
                            if ((await revoke.run(k.api_key_id)) !== undefined) {
                              toast(`Key ${k.name} revoked`);
                              keys.reload();
                            }
                          }}
                        >
                          Revoke
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Dialog
        open={created !== null}
        onClose={() => setCreated(null)}
        title="Store the key now"
        footer={
          <Button variant="primary" onClick={() => setCreated(null)}>
            I have stored it
          </Button>
        }
      >
        {created ? (
          <>
            <Notice kind="warning">This is the only time cqa shows the key and its signing secret.</Notice>
            <p>
              <strong>API key</strong> (send it as <code>X-API-Key</code>)
            </p>
            <div className="secret" data-testid="new-api-key">
              {created.api_key}
            </div>
            <Button size="small" onClick={() => void copy(created.api_key)}>
              Copy key
            </Button>
            <p>
              <strong>Webhook signing secret</strong> (checks <code>X-CQA-Signature</code>)
            </p>
            <div className="secret">{created.webhook_signing_secret}</div>
            <Button size="small" onClick={() => void copy(created.webhook_signing_secret)}>
              Copy secret
            </Button>
          </>
        ) : null}
      </Dialog>
    </>
  );
}
