// Create or change an assignment rule, and dry-run it against recent conversations before saving:
// which profiles each would get, and why.
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../../api/client.ts";
import type { AssignmentRule, DryRunResult, MetadataFields, QualityProfile } from "../../api/types.ts";
import { useAction, useApi } from "../../api/useApi.ts";
import { Link, useRouter } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { humanize } from "../../ui/format.ts";
import { Badge, Button, Card, Checkbox, ErrorNotice, Loading, PageHeader, TextField } from "../../ui/kit.tsx";
import { useToast } from "../../ui/toast.tsx";
import { ConditionGroup, type Group } from "./conditions.tsx";

type Draft = Omit<AssignmentRule, "id" | "reviewer">;

const emptyDraft: Draft = {
  name: "",
  priority: 10,
  enabled: true,
  conditions: { all: [{ field: "channel_type", operator: "eq", value: "VOICE" }] },
  profile_ids: [],
  sampling_percent: 100,
  stop_on_match: true,
};

export default function RuleEditorPage({ params }: { params: Record<string, string> }) {
  const session = useSession();
  const router = useRouter();
  const toast = useToast();
  const id = params["ruleId"] ?? null;
  const loaded = useApi<AssignmentRule>("GET", id ? session.path(`/assignment-rules/${id}`) : null);
  const profiles = useApi<{ quality_profiles: QualityProfile[] }>("GET", session.path("/quality-profiles"));
  const fields = useApi<MetadataFields>("GET", session.path("/metadata-fields"));
  const [draft, setDraft] = useState<Draft | null>(id ? null : emptyDraft);
  useEffect(() => {
    if (loaded.data) {
      const { id: _id, reviewer: _reviewer, ...rest } = loaded.data;
      setDraft(rest);
    }
  }, [loaded.data]);
  const readOnly = !session.can("configure");
  const save = useAction((body: Draft) =>
    id
      ? api<AssignmentRule>("PATCH", session.path(`/assignment-rules/${id}`), { body })
      : api<AssignmentRule>("POST", session.path("/assignment-rules"), { body }),
  );
  const remove = useAction(() => api("DELETE", session.path(`/assignment-rules/${id}`)));
  const dryRun = useAction((body: Record<string, unknown>) =>
    api<DryRunResult>("POST", session.path("/assignment-rules/dry-run"), { body }),
  );
  const [result, setResult] = useState<DryRunResult | null>(null);

  if (loaded.error) return <ErrorNotice error={loaded.error} title="This rule could not be opened" />;
  if (!draft) return <Loading />;

  const metadataKeys = [
    ...(fields.data?.metadata_fields ?? []).map((f) => ({ key: f.key, label: f.label })),
    ...(fields.data?.discovered ?? []).map((d) => ({ key: d.key, label: humanize(d.key) })),
  ];
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await save.run(draft);
    if (saved) {
      toast(id ? "Rule saved" : "Rule created");
      if (!id) router.navigate(`/settings/rules/${saved.id}`, { replace: true });
    }
  };
  const runDry = async () => {
    const answer = await dryRun.run({ rule: draft, ...(id ? { replace_rule_id: id } : {}), limit: 50 });
    if (answer) setResult(answer);
  };
  const profileNames = new Map((profiles.data?.quality_profiles ?? []).map((p) => [p.profile_id, p.name]));

  return (
    <form className="stack" onSubmit={submit} aria-label="Assignment rule">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/settings/rules">Assignment rules</Link> / {loaded.data?.name ?? "New rule"}
      </nav>
      <PageHeader
        title={loaded.data?.name ?? "New assignment rule"}
        subtitle="Which quality profiles a conversation gets when it matches."
        actions={
          <>
            <Button onClick={() => void runDry()} busy={dryRun.pending}>
              Dry run
            </Button>
            {readOnly ? null : (
              <>
                {id ? (
                  <Button
                    variant="danger"
                    busy={remove.pending}
                    onClick={async () => {
                      if (
                        !window.confirm(
                          "Delete this rule? Conversations already analysed keep their analyses.",
                        )
                      )
                        return;
                      if ((await remove.run()) !== undefined) {
                        toast("Rule deleted");
                        router.navigate("/settings/rules");
                      }
                    }}
                  >
                    Delete
                  </Button>
                ) : null}
                <Button type="submit" variant="primary" busy={save.pending}>
                  {id ? "Save rule" : "Create rule"}
                </Button>
              </>
            )}
          </>
        }
      />
      <ErrorNotice error={save.error ?? remove.error} title="The rule was not saved" />
      <fieldset disabled={readOnly} className="stack" style={{ border: 0, padding: 0 }}>
        <Card title="Rule">
          <div className="form-grid">
            <TextField
              label="Name"
              required
              value={draft.name}
              onChange={(e) => setDraft({ ...draft, name: e.target.value })}
            />
            <TextField
              label="Priority"
              type="number"
              required
              value={draft.priority}
              onChange={(e) => setDraft({ ...draft, priority: Number(e.target.value) })}
              hint="Lower numbers are evaluated first."
            />
            <TextField
              label="Sampling (%)"
              type="number"
              min={0}
              max={100}
              step="any"
              value={draft.sampling_percent}
              onChange={(e) => setDraft({ ...draft, sampling_percent: Number(e.target.value) })}
              hint="Share of matching conversations analysed; the same conversation is always in or out."
            />
          </div>
          <div className="row" style={{ marginTop: 12 }}>
            <Checkbox
              label="Enabled"
              checked={draft.enabled}
              onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
            />
            <Checkbox
              label="Stop at this rule when it matches"
              checked={draft.stop_on_match}
              onChange={(e) => setDraft({ ...draft, stop_on_match: e.target.checked })}
            />
          </div>
        </Card>
        <Card title="When">
          <ConditionGroup
            group={draft.conditions as Group}
            metadataKeys={metadataKeys}
            onChange={(next) => setDraft({ ...draft, conditions: next })}
          />
        </Card>
        <Card title="Apply these quality profiles">
          {(profiles.data?.quality_profiles ?? []).length === 0 ? <Loading /> : null}
          <div className="stack">
            {(profiles.data?.quality_profiles ?? []).map((p) => (
              <Checkbox
                key={p.profile_id}
                label={p.name}
                checked={draft.profile_ids.includes(p.profile_id)}
                onChange={(e) =>
                  setDraft({
                    ...draft,
                    profile_ids: e.target.checked
                      ? [...draft.profile_ids, p.profile_id]
                      : draft.profile_ids.filter((x) => x !== p.profile_id),
                  })
                }
              />
            ))}
          </div>
        </Card>
      </fieldset>
      <Card title="Dry run" id="dry-run">
        <p className="muted">
          Evaluates all rules{id ? ", with this draft in place of the saved rule," : " plus this draft"}{" "}
          against the 50 most recent conversations you may see. Nothing changes.
        </p>
        <ErrorNotice error={dryRun.error} title="The dry run did not run" />
        {result ? (
          <div className="stack" aria-live="polite">
            <p data-testid="dry-run-summary">
              <strong>{result.would_be_analysed}</strong> of {result.evaluated} conversations would be
              analysed; {result.would_not_be_analysed} would not.
            </p>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Conversation</th>
                    <th scope="col">Profiles</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {result.results.map((r) => (
                    <tr key={r.interaction_id}>
                      <td>
                        <Link to={`/interactions/${r.interaction_id}`}>{r.external_interaction_id}</Link>
                      </td>
                      <td>
                        {r.profiles.length === 0 ? (
                          <Badge>not analysed</Badge>
                        ) : (
                          r.profiles.map((p) => (
                            <Badge key={p.profile_id} tone="good">
                              {p.name ?? profileNames.get(p.profile_id) ?? p.profile_id}
                            </Badge>
                          ))
                        )}
                      </td>
                      <td className="small">{r.summary}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        ) : (
          <Button onClick={() => void runDry()} busy={dryRun.pending}>
            Dry run against recent conversations
          </Button>
        )}
      </Card>
    </form>
  );
}
