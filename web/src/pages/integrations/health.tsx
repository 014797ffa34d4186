// How an integration is doing, in words an IT admin reads at a glance.
import type { IntegrationStatus } from "../../api/types.ts";
import { formatDateTime } from "../../ui/format.ts";

export function HealthBadge({ state }: { state: string }) {
  return <span className={`health health-${state}`}>{state}</span>;
}

/** Lag is source-specific: seconds behind for pollers, records behind for Kafka. */
export function describeLag(lag: unknown): string {
  if (lag === null || lag === undefined) return "—";
  if (typeof lag === "number") return lag < 120 ? `${Math.round(lag)} s` : `${Math.round(lag / 60)} min`;
  if (typeof lag === "object") {
    const entries = Object.entries(lag as Record<string, unknown>);
    const seconds =
      (lag as Record<string, unknown>)["seconds"] ?? (lag as Record<string, unknown>)["seconds_behind"];
    if (typeof seconds === "number") return describeLag(seconds);
    const records =
      (lag as Record<string, unknown>)["records"] ?? (lag as Record<string, unknown>)["records_behind"];
    if (typeof records === "number") return `${records.toLocaleString("en-GB")} records behind`;
    return entries
      .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
      .join(", ");
  }
  return String(lag);
}

export function HealthFacts({ status, timeZone }: { status: IntegrationStatus; timeZone: string }) {
  return (
    <dl className="kv">
      <dt>State</dt>
      <dd>
        <HealthBadge state={status.state} />
      </dd>
      <dt>Last run</dt>
      <dd>{formatDateTime(status.last_run_at, timeZone)}</dd>
      <dt>Last success</dt>
      <dd>{formatDateTime(status.last_success_at, timeZone)}</dd>
      <dt>Lag</dt>
      <dd>{describeLag(status.lag)}</dd>
      <dt>Next run</dt>
      <dd>{status.next_run_at ? formatDateTime(status.next_run_at, timeZone) : "on demand"}</dd>
      <dt>Last error</dt>
      <dd>{status.last_error ? <span style={{ color: "var(--bad)" }}>{status.last_error}</span> : "none"}</dd>
    </dl>
  );
}
