// Quality profiles: each with its current version, size and who changed it last.
import type { QualityProfile } from "../../api/types.ts";
import { useApi } from "../../api/useApi.ts";
import { Link, useRouter } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { formatDateTime } from "../../ui/format.ts";
import { Badge, Button, Card, EmptyState, ErrorNotice, Loading, PageHeader } from "../../ui/kit.tsx";

export function kpiCount(profile: QualityProfile): number {
  return profile.definition.categories.reduce(
    (n, c) => n + c.sub_categories.reduce((m, s) => m + s.kpis.length, 0),
    0,
  );
}

export default function ProfilesPage() {
  const session = useSession();
  const router = useRouter();
  const profiles = useApi<{ quality_profiles: QualityProfile[] }>("GET", session.path("/quality-profiles"), {
    query: { include_archived: true },
  });
  return (
    <>
      <PageHeader
        title="Quality profiles"
        subtitle="What a conversation is scored on: categories, sub-categories and KPIs. Every save is a new version."
        actions={
          session.can("configure") ? (
            <Button variant="primary" onClick={() => router.navigate("/settings/profiles/new")}>
              New profile
            </Button>
          ) : null
        }
      />
      <Card>
        <ErrorNotice error={profiles.error} />
        {!profiles.data ? (
          <Loading />
        ) : profiles.data.quality_profiles.length === 0 ? (
          <EmptyState title="No quality profiles yet" />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Profile</th>
                  <th scope="col" className="num">
                    Version
                  </th>
                  <th scope="col" className="num">
                    Categories
                  </th>
                  <th scope="col" className="num">
                    KPIs
                  </th>
                  <th scope="col">Last changed</th>
                </tr>
              </thead>
              <tbody>
                {profiles.data.quality_profiles.map((p) => (
                  <tr key={p.profile_id}>
                    <td>
                      <Link to={`/settings/profiles/${p.profile_id}`}>{p.name}</Link>{" "}
                      {p.archived ? <Badge>archived</Badge> : null}
                      {p.definition.description ? (
                        <p className="muted small">{p.definition.description}</p>
                      ) : null}
                    </td>
                    <td className="num">v{p.version}</td>
                    <td className="num">{p.definition.categories.length}</td>
                    <td className="num">{kpiCount(p)}</td>
                    <td>
                      {formatDateTime(p.version_created_at, session.timeZone)}
                      {p.version_created_by ? (
                        <span className="muted"> by {p.version_created_by}</span>
                      ) : null}
                    </td>
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
