// Edit a quality profile: categories → sub-categories → KPIs, each KPI with its question, evaluator
// (form generated from the API's schema of evaluators), answers and points, and criticality.
// Saving makes a new version; analyses keep the version they were scored with.
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../../api/client.ts";
import { loadOpenApi, requestBodySchema } from "../../api/openapi.ts";
import type {
  CategoryDefinition,
  KpiDefinition,
  KpiOption,
  ProfileDefinition,
  QualityProfile,
  SubCategoryDefinition,
} from "../../api/types.ts";
import { useAction, useApi } from "../../api/useApi.ts";
import { type JsonSchema, type Resolver, resolverFor, SchemaField } from "../../forms/JsonSchemaForm.tsx";
import { Link, useRouter } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { formatDateTime } from "../../ui/format.ts";
import {
  Badge,
  Button,
  Card,
  Checkbox,
  ErrorNotice,
  Loading,
  Notice,
  PageHeader,
  SelectField,
  TextArea,
  TextField,
} from "../../ui/kit.tsx";
import { useToast } from "../../ui/toast.tsx";

const newKpi = (): KpiDefinition => ({
  name: "New KPI",
  question: "Did the agent …?",
  criticality: "normal",
  evaluator: { type: "phrase_present", phrases: ["thank you for calling"] },
});
const newSub = (): SubCategoryDefinition => ({ name: "New sub-category", kpis: [newKpi()] });
const newCategory = (): CategoryDefinition => ({ name: "New category", sub_categories: [newSub()] });
const template: ProfileDefinition = {
  name: "",
  description: "",
  categories: [
    {
      name: "Opening",
      sub_categories: [
        {
          name: "Greeting",
          kpis: [
            {
              name: "Greeting",
              question: "Did the agent greet the customer within the first 30 seconds?",
              criticality: "normal",
              evaluator: {
                type: "phrase_present",
                phrases: ["thank you for calling", "good morning", "how can I help you"],
                window: { first_seconds: 30, first_turns: 2 },
              },
            },
          ],
        },
      ],
    },
  ],
};

/** What the API takes back: max_score only where no options are given (it must match them). */
function forSaving(definition: ProfileDefinition): ProfileDefinition {
  return {
    ...definition,
    description: definition.description?.trim() ? definition.description : null,
    categories: definition.categories.map((c) => ({
      ...c,
      sub_categories: c.sub_categories.map((s) => ({
        ...s,
        kpis: s.kpis.map((k) => {
          if (!k.options) return k;
          const { max_score: _dropped, ...rest } = k;
          return rest;
        }),
      })),
    })),
  };
}

function useEvaluatorSchema(): { schema: JsonSchema | null; resolve: Resolver } {
  const [state, setState] = useState<{ schema: JsonSchema | null; resolve: Resolver }>({
    schema: null,
    resolve: (s) => s,
  });
  useEffect(() => {
    loadOpenApi()
      .then((doc) => {
        const resolve = resolverFor(doc);
        const body = resolve(
          (requestBodySchema(doc, "/api/v1/accounts/{account_id}/quality-profiles", "post") ??
            {}) as JsonSchema,
        );
        const walk = (schema: JsonSchema | undefined, key: string) =>
          resolve(schema?.properties?.[key] ?? {});
        const kpi = resolve(
          walk(resolve(walk(body, "categories").items ?? {}), "sub_categories").items?.properties?.["kpis"]
            ?.items ?? {},
        );
        setState({ schema: walk(kpi, "evaluator"), resolve });
      })
      .catch(() => setState((s) => s));
  }, []);
  return state;
}

export default function ProfileEditorPage({ params }: { params: Record<string, string> }) {
  const session = useSession();
  const router = useRouter();
  const toast = useToast();
  const id = params["profileId"] ?? null;
  const version = router.search.get("version");
  const loaded = useApi<QualityProfile>("GET", id ? session.path(`/quality-profiles/${id}`) : null, {
    query: { version },
  });
  const [definition, setDefinition] = useState<ProfileDefinition | null>(id ? null : template);
  useEffect(() => {
    if (loaded.data) setDefinition(loaded.data.definition);
  }, [loaded.data]);
  const evaluator = useEvaluatorSchema();
  const profile = loaded.data;
  const readOnly =
    !session.can("configure") || Boolean(profile && profile.version !== profile.current_version);

  const save = useAction(async (body: ProfileDefinition) =>
    id
      ? api<QualityProfile>("PUT", session.path(`/quality-profiles/${id}`), { body })
      : api<QualityProfile>("POST", session.path("/quality-profiles"), { body }),
  );
  const archive = useAction(() => api("DELETE", session.path(`/quality-profiles/${id}`)));

  if (loaded.error) return <ErrorNotice error={loaded.error} title="This profile could not be opened" />;
  if (!definition) return <Loading />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await save.run(forSaving(definition));
    if (saved) {
      toast(id ? `Saved as version ${saved.version}` : "Profile created");
      if (id) loaded.reload();
      else router.navigate(`/settings/profiles/${saved.profile_id}`, { replace: true });
    }
  };

  const setCategory = (index: number, next: CategoryDefinition | null) =>
    setDefinition({
      ...definition,
      categories:
        next === null
          ? definition.categories.filter((_, i) => i !== index)
          : definition.categories.map((c, i) => (i === index ? next : c)),
    });

  return (
    <form onSubmit={submit} className="stack" aria-label="Quality profile">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/settings/profiles">Quality profiles</Link> / {profile?.name ?? "New profile"}
      </nav>
      <PageHeader
        title={profile ? profile.name : "New quality profile"}
        subtitle={
          profile ? (
            <>
              Version {profile.version} of {profile.current_version}
              {profile.archived ? " · archived" : ""} · saved{" "}
              {formatDateTime(profile.version_created_at, session.timeZone)}
              {profile.version_created_by ? ` by ${profile.version_created_by}` : ""}
            </>
          ) : (
            "Start from this example and make it yours."
          )
        }
        actions={
          readOnly ? null : (
            <>
              {id && !profile?.archived ? (
                <Button
                  variant="danger"
                  busy={archive.pending}
                  onClick={async () => {
                    if (!window.confirm("Archive this profile? Rules stop applying it; its analyses stay."))
                      return;
                    if ((await archive.run()) !== undefined) {
                      toast("Profile archived");
                      router.navigate("/settings/profiles");
                    }
                  }}
                >
                  Archive
                </Button>
              ) : null}
              <Button type="submit" variant="primary" busy={save.pending}>
                {id ? "Save new version" : "Create profile"}
              </Button>
            </>
          )
        }
      />
      {profile && profile.version !== profile.current_version ? (
        <Notice kind="info" title={`You are looking at version ${profile.version}`}>
          Analyses scored with it keep it.{" "}
          <Link to={`/settings/profiles/${profile.profile_id}`}>Open the current version</Link> to make
          changes.
        </Notice>
      ) : null}
      <ErrorNotice error={save.error ?? archive.error} title="The profile was not saved" />
      <fieldset disabled={readOnly} className="stack" style={{ border: 0, padding: 0 }}>
        <Card title="Profile">
          <div className="form-grid">
            <TextField
              label="Name"
              required
              value={definition.name}
              onChange={(e) => setDefinition({ ...definition, name: e.target.value })}
            />
            <TextField
              label="Description"
              value={definition.description ?? ""}
              onChange={(e) => setDefinition({ ...definition, description: e.target.value })}
            />
          </div>
        </Card>
        <div className="tree">
          {definition.categories.map((category, c) => (
            <CategoryEditor
              key={category.id ?? `new-${c}`}
              category={category}
              onChange={(next) => setCategory(c, next)}
              evaluator={evaluator}
              canRemove={definition.categories.length > 1}
            />
          ))}
          {readOnly ? null : (
            <div>
              <Button
                onClick={() =>
                  setDefinition({ ...definition, categories: [...definition.categories, newCategory()] })
                }
              >
                Add category
              </Button>
            </div>
          )}
        </div>
      </fieldset>
      {profile?.versions && profile.versions.length > 1 ? (
        <Card title="Versions">
          <ol className="timeline">
            {[...profile.versions].reverse().map((v) => (
              <li key={v.version}>
                <Link to={`/settings/profiles/${profile.profile_id}?version=${v.version}`}>
                  Version {v.version}
                </Link>{" "}
                {v.version === profile.current_version ? <Badge tone="good">current</Badge> : null}
                <p className="muted small">
                  {formatDateTime(v.created_at, session.timeZone)}
                  {v.created_by ? ` by ${v.created_by}` : ""}
                </p>
              </li>
            ))}
          </ol>
        </Card>
      ) : null}
    </form>
  );
}

function CategoryEditor({
  category,
  onChange,
  evaluator,
  canRemove,
}: {
  category: CategoryDefinition;
  onChange(next: CategoryDefinition | null): void;
  evaluator: { schema: JsonSchema | null; resolve: Resolver };
  canRemove: boolean;
}) {
  const setSub = (index: number, next: SubCategoryDefinition | null) =>
    onChange({
      ...category,
      sub_categories:
        next === null
          ? category.sub_categories.filter((_, i) => i !== index)
          : category.sub_categories.map((s, i) => (i === index ? next : s)),
    });
  return (
    <section className="tree-node" aria-label={`Category ${category.name}`}>
      <div className="tree-node-head">
        <TextField
          label="Category"
          required
          value={category.name}
          onChange={(e) => onChange({ ...category, name: e.target.value })}
        />
        {canRemove ? (
          <Button size="small" variant="danger" onClick={() => onChange(null)}>
            Remove category
          </Button>
        ) : null}
      </div>
      {category.sub_categories.map((sub, s) => (
        <section key={sub.id ?? `new-${s}`} className="tree-node" aria-label={`Sub-category ${sub.name}`}>
          <div className="tree-node-head">
            <TextField
              label="Sub-category"
              required
              value={sub.name}
              onChange={(e) => setSub(s, { ...sub, name: e.target.value })}
            />
            {category.sub_categories.length > 1 ? (
              <Button size="small" variant="danger" onClick={() => setSub(s, null)}>
                Remove sub-category
              </Button>
            ) : null}
          </div>
          {sub.kpis.map((kpi, k) => (
            <KpiEditor
              key={kpi.id ?? `new-${k}`}
              kpi={kpi}
              evaluator={evaluator}
              canRemove={sub.kpis.length > 1}
              onChange={(next) =>
                setSub(s, {
                  ...sub,
                  kpis:
                    next === null
                      ? sub.kpis.filter((_, i) => i !== k)
                      : sub.kpis.map((x, i) => (i === k ? next : x)),
                })
              }
            />
          ))}
          <div>
            <Button size="small" onClick={() => setSub(s, { ...sub, kpis: [...sub.kpis, newKpi()] })}>
              Add KPI
            </Button>
          </div>
        </section>
      ))}
      <div>
        <Button
          size="small"
          onClick={() => onChange({ ...category, sub_categories: [...category.sub_categories, newSub()] })}
        >
          Add sub-category
        </Button>
      </div>
    </section>
  );
}

const answerValues = ["Yes", "Partially", "No", "N/A"] as const;

function defaultOptions(kpi: KpiDefinition): KpiOption[] {
  const max = kpi.max_score ?? 10;
  return [
    { value: "Yes", label: "Yes", score: max },
    { value: "Partially", label: "Partially", score: max / 2 },
    { value: "No", label: "No", score: 0 },
    ...(kpi.allow_na ? [{ value: "N/A" as const, label: "Not applicable", score: 0 }] : []),
  ];
}

function KpiEditor({
  kpi,
  onChange,
  evaluator,
  canRemove,
}: {
  kpi: KpiDefinition;
  onChange(next: KpiDefinition | null): void;
  evaluator: { schema: JsonSchema | null; resolve: Resolver };
  canRemove: boolean;
}) {
  const set = (patch: Partial<KpiDefinition>) => onChange({ ...kpi, ...patch });
  const options = kpi.options;
  return (
    <details className="kpi-editor">
      <summary>
        <span>
          <strong>{kpi.name}</strong> <span className="muted">· {kpi.evaluator.type.replace(/_/g, " ")}</span>
        </span>
        {kpi.criticality && kpi.criticality !== "normal" ? <Badge tone="bad">{kpi.criticality}</Badge> : null}
      </summary>
      <div className="kpi-editor-body">
        <div className="form-grid">
          <TextField
            label="KPI name"
            required
            value={kpi.name}
            onChange={(e) => set({ name: e.target.value })}
          />
          <SelectField
            label="Criticality"
            value={kpi.criticality ?? "normal"}
            onChange={(e) =>
              set({ criticality: e.target.value as NonNullable<KpiDefinition["criticality"]> })
            }
            options={[
              { value: "normal", label: "Normal" },
              { value: "critical", label: "Critical — a No zeroes the category" },
              { value: "fatal", label: "Fatal — a No zeroes the whole score" },
            ]}
          />
          {options ? null : (
            <TextField
              label="Points for Yes"
              type="number"
              min={0}
              value={kpi.max_score ?? 10}
              onChange={(e) => set({ max_score: Number(e.target.value) })}
              hint="Partially is worth half, No nothing."
            />
          )}
        </div>
        <TextArea
          label="Question"
          required
          rows={2}
          value={kpi.question}
          onChange={(e) => set({ question: e.target.value })}
        />
        <Checkbox
          label="N/A is allowed"
          hint="(when the KPI does not apply, it leaves the score)"
          checked={kpi.allow_na ?? false}
          onChange={(e) => {
            const allow = e.target.checked;
            set({
              allow_na: allow,
              ...(options ? { options: allow ? options : options.filter((o) => o.value !== "N/A") } : {}),
            });
          }}
        />
        <fieldset>
          <legend>Answers and points</legend>
          {options ? (
            <table className="table options-table">
              <thead>
                <tr>
                  <th scope="col">Answer</th>
                  <th scope="col">Label</th>
                  <th scope="col">Points</th>
                  <th scope="col">
                    <span className="visually-hidden">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {options.map((o, i) => (
                  <tr key={o.uid ?? `${o.value}-${i}`}>
                    <td>
                      <select
                        aria-label="Answer"
                        value={o.value}
                        onChange={(e) =>
                          set({
                            options: options.map((x, j) =>
                              j === i ? { ...x, value: e.target.value as KpiOption["value"] } : x,
                            ),
                          })
                        }
                      >
                        {answerValues.map((v) => (
                          <option key={v} value={v}>
                            {v}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <input
                        aria-label="Label"
                        value={o.label ?? ""}
                        onChange={(e) =>
                          set({
                            options: options.map((x, j) => (j === i ? { ...x, label: e.target.value } : x)),
                          })
                        }
                      />
                    </td>
                    <td>
                      <input
                        aria-label="Points"
                        type="number"
                        min={0}
                        step="any"
                        value={o.score}
                        onChange={(e) =>
                          set({
                            options: options.map((x, j) =>
                              j === i ? { ...x, score: Number(e.target.value) } : x,
                            ),
                          })
                        }
                      />
                    </td>
                    <td>
                      <Button
                        size="small"
                        variant="ghost"
                        disabled={options.length <= 2}
                        onClick={() => set({ options: options.filter((_, j) => j !== i) })}
                      >
                        Remove
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">
              Yes {kpi.max_score ?? 10} · Partially {(kpi.max_score ?? 10) / 2} · No 0
              {kpi.allow_na ? " · N/A (not counted)" : ""}{" "}
              <Button size="small" onClick={() => set({ options: defaultOptions(kpi) })}>
                Customise answers
              </Button>
            </p>
          )}
          {options && options.length < 4 ? (
            <Button
              size="small"
              onClick={() =>
                set({ options: [...options, { value: "Partially", label: "Partially", score: 0 }] })
              }
            >
              Add answer
            </Button>
          ) : null}
        </fieldset>
        {evaluator.schema ? (
          <SchemaField
            name="evaluator"
            schema={evaluator.schema}
            value={kpi.evaluator}
            required
            resolve={evaluator.resolve}
            path="evaluator"
            onChange={(next) => set({ evaluator: (next ?? kpi.evaluator) as KpiDefinition["evaluator"] })}
          />
        ) : (
          <Loading label="Loading the evaluators…" />
        )}
        <TextArea
          label="Suggestion for the agent"
          rows={2}
          value={kpi.suggestion ?? ""}
          onChange={(e) => set({ suggestion: e.target.value || null })}
          hint="Shown when the answer is not Yes."
        />
        {canRemove ? (
          <div>
            <Button size="small" variant="danger" onClick={() => onChange(null)}>
              Remove KPI
            </Button>
          </div>
        ) : null}
      </div>
    </details>
  );
}
