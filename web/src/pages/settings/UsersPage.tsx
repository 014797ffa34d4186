// Users and roles: who may sign in, what their role lets them do, and which conversations they see
// (agents their own; anyone can be limited by a metadata scope such as region = north).
import { type FormEvent, useState } from "react";
import { api } from "../../api/client.ts";
import type { MetadataFields, Role, User } from "../../api/types.ts";
import { useAction, useApi } from "../../api/useApi.ts";
import { useSession } from "../../session.tsx";
import { Dialog } from "../../ui/Dialog.tsx";
import { formatDateTime } from "../../ui/format.ts";
import {
  Badge,
  Button,
  Card,
  Checkbox,
  ErrorNotice,
  Loading,
  PageHeader,
  SelectField,
  TextField,
} from "../../ui/kit.tsx";
import { useToast } from "../../ui/toast.tsx";
import { roleOptions } from "./ApiKeysPage.tsx";

type Scope = Record<string, string[]>;

interface Draft {
  email: string;
  password: string;
  role: Role;
  display_name: string;
  agent_id: string;
  scope: { key: string; values: string }[];
  disabled: boolean;
}

const blank: Draft = {
  email: "",
  password: "",
  role: "analyst",
  display_name: "",
  agent_id: "",
  scope: [],
  disabled: false,
};

function scopeOf(rows: Draft["scope"]): Scope {
  const scope: Scope = {};
  for (const row of rows) {
    const values = row.values
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    if (row.key.trim() && values.length > 0) scope[row.key.trim()] = values;
  }
  return scope;
}

function describeScope(scope: Scope): string {
  const entries = Object.entries(scope);
  return entries.length === 0 ? "everything" : entries.map(([k, v]) => `${k} = ${v.join(" or ")}`).join("; ");
}

export default function UsersPage() {
  const session = useSession();
  const toast = useToast();
  const users = useApi<{ users: User[] }>("GET", session.path("/users"));
  const fields = useApi<MetadataFields>("GET", session.path("/metadata-fields"));
  const [editing, setEditing] = useState<{ user: User | null; draft: Draft } | null>(null);
  const remove = useAction((id: string) => api("DELETE", session.path(`/users/${id}`)));
  const scopeKeys = (fields.data?.metadata_fields ?? []).filter((f) => f.access_controlled).map((f) => f.key);

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="People who sign in to cqa, their roles and what they may see."
        actions={
          <Button variant="primary" onClick={() => setEditing({ user: null, draft: blank })}>
            New user
          </Button>
        }
      />
      <Card>
        <ErrorNotice error={users.error ?? remove.error} />
        {!users.data ? (
          <Loading />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Sees</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.data.users.map((u) => (
                  <tr key={u.user_id}>
                    <td>
                      {u.display_name ?? u.email}
                      {u.display_name ? <p className="muted small">{u.email}</p> : null}
                      {u.disabled_at ? <Badge tone="bad">disabled</Badge> : null}
                    </td>
                    <td>{u.role}</td>
                    <td className="small">
                      {u.role === "agent"
                        ? `own conversations (agent ${u.agent_id})`
                        : describeScope(u.metadata_scope)}
                      {u.role === "agent" && Object.keys(u.metadata_scope).length > 0
                        ? `; ${describeScope(u.metadata_scope)}`
                        : ""}
                    </td>
                    <td>{formatDateTime(u.created_at, session.timeZone)}</td>
                    <td>
                      <div className="row">
                        <Button
                          size="small"
                          onClick={() =>
                            setEditing({
                              user: u,
                              draft: {
                                email: u.email,
                                password: "",
                                role: u.role,
                                display_name: u.display_name ?? "",
                                agent_id: u.agent_id ?? "",
                                scope: Object.entries(u.metadata_scope).map(([key, values]) => ({
                                  key,
                                  values: values.join(", "),
                                })),
                                disabled: u.disabled_at !== null,
                              },
                            })
                          }
                        >
                          Edit
                        </Button>
                        {u.user_id !== session.info.user_id ? (
                          <Button
                            size="small"
                            variant="danger"
                            onClick={async () => {
                              if (!window.confirm(`Delete ${u.email}? Their sessions end at once.`)) return;
                              if ((await remove.run(u.user_id)) !== undefined) {
                                toast(`${u.email} deleted`);
                                users.reload();
                              }
                            }}
                          >
                            Delete
                          </Button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {editing ? (
        <UserDialog
          user={editing.user}
          initial={editing.draft}
          scopeKeys={scopeKeys}
          onClose={() => setEditing(null)}
          onSaved={(message) => {
            setEditing(null);
            toast(message);
            users.reload();
          }}
        />
      ) : null}
    </>
  );
}

function UserDialog({
  user,
  initial,
  scopeKeys,
  onClose,
  onSaved,
}: {
  user: User | null;
  initial: Draft;
  scopeKeys: string[];
  onClose(): void;
  onSaved(message: string): void;
}) {
  const session = useSession();
  const [draft, setDraft] = useState(initial);
  const save = useAction((body: Record<string, unknown>) =>
    user
      ? api<User>("PATCH", session.path(`/users/${user.user_id}`), { body })
      : api<User>("POST", session.path("/users"), { body }),
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const common = {
      role: draft.role,
      metadata_scope: scopeOf(draft.scope),
      ...(draft.password ? { password: draft.password } : {}),
    };
    const body = user
      ? {
          ...common,
          display_name: draft.display_name || null,
          agent_id: draft.agent_id || null,
          disabled: draft.disabled,
        }
      : {
          ...common,
          email: draft.email,
          ...(draft.display_name ? { display_name: draft.display_name } : {}),
          ...(draft.agent_id ? { agent_id: draft.agent_id } : {}),
        };
    const saved = await save.run(body);
    if (saved) onSaved(user ? `${saved.email} saved` : `${saved.email} can now sign in`);
  };
  return (
    <Dialog open onClose={onClose} title={user ? `Edit ${user.email}` : "New user"} wide>
      <form className="stack" onSubmit={submit} aria-label={user ? "Edit user" : "New user"}>
        <ErrorNotice error={save.error} title="The user was not saved" />
        <div className="form-grid">
          {user ? null : (
            <TextField
              label="E-mail"
              type="email"
              required
              value={draft.email}
              onChange={(e) => setDraft({ ...draft, email: e.target.value })}
            />
          )}
          <TextField
            label="Name"
            value={draft.display_name}
            onChange={(e) => setDraft({ ...draft, display_name: e.target.value })}
          />
          <SelectField
            label="Role"
            value={draft.role}
            onChange={(e) => setDraft({ ...draft, role: e.target.value as Role })}
            options={roleOptions}
          />
          <TextField
            label={user ? "New password" : "Password"}
            type="password"
            autoComplete="new-password"
            required={!user}
            minLength={12}
            value={draft.password}
            onChange={(e) => setDraft({ ...draft, password: e.target.value })}
            hint={user ? "Leave empty to keep the current password." : "At least 12 characters."}
          />
          <TextField
            label="Agent id"
            required={draft.role === "agent"}
            value={draft.agent_id}
            onChange={(e) => setDraft({ ...draft, agent_id: e.target.value })}
            hint="The metadata agent_id of their conversations (agents see only those)."
          />
        </div>
        <fieldset>
          <legend>Access scope</legend>
          <p className="field-hint">
            Limit what this user sees to conversations whose metadata matches, e.g. region = north.
          </p>
          <div className="stack">
            {draft.scope.map((row, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no ids; position is their identity
              <div key={index} className="row">
                <TextField
                  label="Metadata key"
                  list="scope-keys"
                  value={row.key}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      scope: draft.scope.map((r, i) => (i === index ? { ...r, key: e.target.value } : r)),
                    })
                  }
                />
                <TextField
                  label="Allowed values (comma-separated)"
                  value={row.values}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      scope: draft.scope.map((r, i) => (i === index ? { ...r, values: e.target.value } : r)),
                    })
                  }
                />
                <Button
                  size="small"
                  variant="ghost"
                  onClick={() => setDraft({ ...draft, scope: draft.scope.filter((_, i) => i !== index) })}
                >
                  Remove
                </Button>
              </div>
            ))}
            <datalist id="scope-keys">
              {scopeKeys.map((k) => (
                <option key={k} value={k} />
              ))}
            </datalist>
            <div>
              <Button
                size="small"
                onClick={() =>
                  setDraft({ ...draft, scope: [...draft.scope, { key: scopeKeys[0] ?? "", values: "" }] })
                }
              >
                Add a limit
              </Button>
            </div>
          </div>
        </fieldset>
        {user ? (
          <Checkbox
            label="Disabled (cannot sign in)"
            checked={draft.disabled}
            onChange={(e) => setDraft({ ...draft, disabled: e.target.checked })}
          />
        ) : null}
        <div className="form-actions">
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={save.pending}>
            {user ? "Save user" : "Create user"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
