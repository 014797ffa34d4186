// Disputes of an analysis: agents raise them (on a KPI or the whole analysis); supervisors and
// analysts resolve them, optionally overriding the disputed KPI in the same step.
import { type FormEvent, useState } from "react";
import { api } from "../../api/client.ts";
import type { AnalysisDetail, Dispute, KpiOption } from "../../api/types.ts";
import { useAction } from "../../api/useApi.ts";
import { useSession } from "../../session.tsx";
import { Dialog } from "../../ui/Dialog.tsx";
import { formatDateTime } from "../../ui/format.ts";
import { Badge, Button, EmptyState, ErrorNotice, SelectField, TextArea } from "../../ui/kit.tsx";

export function kpiNames(analysis: AnalysisDetail): Map<string, string> {
  return new Map(
    analysis.categories.flatMap((c) =>
      c.sub_categories.flatMap((s) => s.kpis.map((k) => [k.kpi_id, k.kpi_name] as const)),
    ),
  );
}

export function RaiseDisputeDialog({
  analysis,
  kpiId,
  open,
  onClose,
  onRaised,
}: {
  analysis: AnalysisDetail;
  kpiId: string;
  open: boolean;
  onClose(): void;
  onRaised(dispute: Dispute): void;
}) {
  const session = useSession();
  const [target, setTarget] = useState(kpiId);
  const [reason, setReason] = useState("");
  const names = kpiNames(analysis);
  const raise = useAction((body: Record<string, unknown>) =>
    api<Dispute>("POST", session.path(`/analyses/${analysis.analysis_id}/disputes`), { body }),
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const dispute = await raise.run({ reason, ...(target ? { kpi_id: target } : {}) });
    if (dispute) {
      setReason("");
      onRaised(dispute);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} title="Raise a dispute">
      <form className="stack" onSubmit={submit} id="raise-dispute">
        <ErrorNotice error={raise.error} title="The dispute was not raised" />
        <SelectField
          label="What is disputed"
          value={target}
          onChange={(e) => setTarget(e.target.value)}
          options={[
            { value: "", label: "The whole analysis" },
            ...[...names].map(([id, name]) => ({ value: id, label: name })),
          ]}
        />
        <TextArea
          label="Reason"
          required
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          hint="What is wrong with the answer, and where in the conversation to look."
        />
        <div className="form-actions">
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={raise.pending}>
            Raise dispute
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function DisputesPanel({
  analysis,
  disputes,
  options,
  onChanged,
  onRaise,
}: {
  analysis: AnalysisDetail;
  disputes: Dispute[];
  options: Map<string, KpiOption[]>;
  onChanged(): void;
  onRaise(): void;
}) {
  const session = useSession();
  const names = kpiNames(analysis);
  return (
    <div className="stack">
      {session.can("dispute:raise") ? (
        <div>
          <Button onClick={onRaise}>Raise a dispute</Button>
        </div>
      ) : null}
      {disputes.length === 0 ? (
        <EmptyState title="No disputes">Nobody has disputed this analysis.</EmptyState>
      ) : (
        disputes.map((d) => (
          <article
            key={d.dispute_id}
            className="card"
            aria-label={`Dispute on ${d.kpi_id ? names.get(d.kpi_id) : "the analysis"}`}
          >
            <header className="card-header">
              <h3>{d.kpi_id ? (names.get(d.kpi_id) ?? d.kpi_id) : "The whole analysis"}</h3>
              <Badge tone={d.status === "open" ? "warn" : d.resolution === "ACCEPTED" ? "good" : "neutral"}>
                {d.status === "open" ? "open" : d.resolution === "ACCEPTED" ? "accepted" : "rejected"}
              </Badge>
            </header>
            <p>{d.reason}</p>
            <p className="muted small">
              Raised by {d.raised_by}, {formatDateTime(d.created_at, session.timeZone)}
            </p>
            {d.status === "resolved" ? (
              <p className="small">
                Resolved by {d.resolved_by} {formatDateTime(d.resolved_at, session.timeZone)}
                {d.resolution_comment ? `: ${d.resolution_comment}` : ""}
              </p>
            ) : session.can("dispute:resolve") ? (
              <ResolveForm analysis={analysis} dispute={d} options={options} onResolved={onChanged} />
            ) : null}
          </article>
        ))
      )}
    </div>
  );
}

function ResolveForm({
  analysis,
  dispute,
  options,
  onResolved,
}: {
  analysis: AnalysisDetail;
  dispute: Dispute;
  options: Map<string, KpiOption[]>;
  onResolved(): void;
}) {
  const session = useSession();
  const [resolution, setResolution] = useState<"ACCEPTED" | "REJECTED">("ACCEPTED");
  const [comment, setComment] = useState("");
  const kpiOptions = dispute.kpi_id ? (options.get(dispute.kpi_id) ?? []) : [];
  const [optionUid, setOptionUid] = useState("");
  const [justification, setJustification] = useState("");
  const resolve = useAction((body: Record<string, unknown>) =>
    api("POST", session.path(`/analyses/${analysis.analysis_id}/disputes/${dispute.dispute_id}/resolve`), {
      body,
    }),
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const override =
      resolution === "ACCEPTED" && dispute.kpi_id && optionUid
        ? {
            override: {
              kpi_id: dispute.kpi_id,
              option_uid: optionUid,
              justification: justification || comment || dispute.reason,
            },
          }
        : {};
    const done = await resolve.run({
      resolution,
      ...(comment.trim() ? { comment: comment.trim() } : {}),
      ...override,
    });
    if (done !== undefined) onResolved();
  };
  return (
    <form className="stack review-box" onSubmit={submit} aria-label="Resolve the dispute">
      <ErrorNotice error={resolve.error} title="The dispute was not resolved" />
      <fieldset>
        <legend>Resolution</legend>
        <div className="row">
          {(["ACCEPTED", "REJECTED"] as const).map((value) => (
            <label key={value} className="menu-check">
              <input
                type="radio"
                name={`resolution-${dispute.dispute_id}`}
                value={value}
                checked={resolution === value}
                onChange={() => setResolution(value)}
              />
              {value === "ACCEPTED" ? "Accept" : "Reject"}
            </label>
          ))}
        </div>
      </fieldset>
      {resolution === "ACCEPTED" && kpiOptions.length > 0 ? (
        <div className="form-grid">
          <SelectField
            label="Change the answer to"
            value={optionUid}
            onChange={(e) => setOptionUid(e.target.value)}
            options={[
              { value: "", label: "Keep the current answer" },
              ...kpiOptions.map((o) => ({
                value: o.uid ?? o.value,
                label: `${o.label ?? o.value} (${o.score} points)`,
              })),
            ]}
          />
          {optionUid ? (
            <TextArea
              label="Justification of the change"
              value={justification}
              onChange={(e) => setJustification(e.target.value)}
              rows={2}
            />
          ) : null}
        </div>
      ) : null}
      <TextArea label="Comment" value={comment} onChange={(e) => setComment(e.target.value)} rows={2} />
      <div>
        <Button type="submit" variant="primary" busy={resolve.pending}>
          Resolve dispute
        </Button>
      </div>
    </form>
  );
}
