// Assignment rules in the order they are evaluated: which quality profiles a conversation gets.
import type { AssignmentRule, QualityProfile } from "../../api/types.ts";
import { useApi } from "../../api/useApi.ts";
import { Link, useRouter } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { Badge, Button, Card, EmptyState, ErrorNotice, Loading, PageHeader } from "../../ui/kit.tsx";
import { describeConditions } from "./conditions.tsx";

export default function RulesPage() {
  const session = useSession();
  const router = useRouter();
  const rules = useApi<{ assignment_rules: AssignmentRule[] }>("GET", session.path("/assignment-rules"));
  const profiles = useApi<{ quality_profiles: QualityProfile[] }>("GET", session.path("/quality-profiles"), {
    query: { include_archived: true },
  });
  const names = new Map((profiles.data?.quality_profiles ?? []).map((p) => [p.profile_id, p.name]));
  return (
    <>
      <PageHeader
        title="Assignment rules"
        subtitle="Evaluated from the lowest priority number up; the first match stops evaluation unless it says otherwise."
        actions={
          session.can("configure") ? (
            <Button variant="primary" onClick={() => router.navigate("/settings/rules/new")}>
              New rule
            </Button>
          ) : null
        }
      />
      <Card>
        <ErrorNotice error={rules.error} />
        {!rules.data ? (
          <Loading />
        ) : rules.data.assignment_rules.length === 0 ? (
          <EmptyState title="No rules">Without a rule no conversation is analysed.</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Priority
                  </th>
                  <th scope="col">Rule</th>
                  <th scope="col">When</th>
                  <th scope="col">Quality profiles</th>
                  <th scope="col" className="num">
                    Sampling
                  </th>
                </tr>
              </thead>
              <tbody>
                {rules.data.assignment_rules.map((rule) => (
                  <tr key={rule.id}>
                    <td className="num">{rule.priority}</td>
                    <td>
                      <Link to={`/settings/rules/${rule.id}`}>{rule.name}</Link>{" "}
                      {rule.enabled ? null : <Badge>disabled</Badge>}
                      {rule.stop_on_match ? null : <Badge tone="info">continues</Badge>}
                    </td>
                    <td className="small">{describeConditions(rule.conditions)}</td>
                    <td>{rule.profile_ids.map((id) => names.get(id) ?? id).join(", ")}</td>
                    <td className="num">{rule.sampling_percent} %</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
