// "Why was (or wasn't) this analysed": the assignment decision, rule by rule.
import type { Interaction } from "../../api/types.ts";
import { Link } from "../../router.tsx";
import { Badge, Notice } from "../../ui/kit.tsx";

const outcomeTone = (outcome: string) =>
  outcome === "matched"
    ? "good"
    : outcome.includes("sampled")
      ? "warn"
      : outcome === "skipped"
        ? "neutral"
        : "info";

export function RoutingPanel({
  interaction,
  canSeeRules,
}: {
  interaction: Interaction;
  canSeeRules: boolean;
}) {
  const routing = interaction.routing;
  return (
    <div className="stack">
      {interaction.waiting_reason ? (
        <Notice kind="warning" title="Waiting">
          {interaction.waiting_reason}
        </Notice>
      ) : null}
      {interaction.failure_reason ? (
        <Notice kind="error" title="Processing failed">
          {interaction.failure_reason}
        </Notice>
      ) : null}
      {routing ? (
        <>
          <p>
            <strong>{routing.profile_ids.length > 0 ? "Analysed because: " : "Not analysed: "}</strong>
            {routing.summary}
          </p>
          {routing.not_analysed_reason ? (
            <p className="muted">Reason code: {routing.not_analysed_reason}</p>
          ) : null}
          <ol className="trace" aria-label="Rules, in the order they were evaluated">
            {routing.trace.map((step) => (
              <li key={step.rule_id}>
                <span>
                  <Badge tone={outcomeTone(step.outcome)}>{step.outcome.replace(/_/g, " ")}</Badge>
                </span>
                <span>
                  {canSeeRules ? (
                    <Link to={`/settings/rules/${step.rule_id}`}>{step.rule_name}</Link>
                  ) : (
                    step.rule_name
                  )}
                  {" — "}
                  {step.reason}
                  {step.sampling_bucket !== undefined ? (
                    <span className="muted"> (sampling bucket {step.sampling_bucket})</span>
                  ) : null}
                </span>
              </li>
            ))}
          </ol>
        </>
      ) : (
        <p className="muted">
          {interaction.status === "completed"
            ? "No routing decision was recorded."
            : `Not routed yet: the conversation is ${interaction.status}.`}
        </p>
      )}
    </div>
  );
}
