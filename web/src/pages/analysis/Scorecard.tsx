// The scorecard: category → sub-category → KPI, each with the AI answer, its justification and the
// evidence (click to play from there), and — for reviewers — a QA override with a justification.
import { type FormEvent, useState } from "react";
import { api } from "../../api/client.ts";
import type { AnalysisDetail, KpiDetail, KpiOption } from "../../api/types.ts";
import { useAction } from "../../api/useApi.ts";
import { useSession } from "../../session.tsx";
import { formatSeconds } from "../../ui/format.ts";
import {
  answerTone,
  Badge,
  Button,
  ErrorNotice,
  formatNumber,
  SelectField,
  TextArea,
} from "../../ui/kit.tsx";
import type { Highlight } from "./Transcript.tsx";

export function evidenceKey(kpiId: string, index: number): string {
  return `${kpiId}-${index}`;
}

export function Scorecard({
  analysis,
  options,
  activeEvidence,
  onEvidence,
  onReviewed,
  onDispute,
}: {
  analysis: AnalysisDetail;
  options: Map<string, KpiOption[]>;
  activeEvidence: string | null;
  onEvidence(highlight: Highlight): void;
  onReviewed(updated: AnalysisDetail, kpi: KpiDetail): void;
  onDispute(kpiId: string): void;
}) {
  if (analysis.categories.length === 0) {
    return (
      <p className="muted">
        {analysis.status === "failed"
          ? `The analysis failed: ${analysis.failure_reason ?? "no reason given"}`
          : `No scores yet: the analysis is ${analysis.status}.`}
      </p>
    );
  }
  return (
    <div className="scorecard">
      {analysis.categories.map((category) => (
        <section
          key={category.category_id}
          className="category"
          aria-labelledby={`cat-${category.category_id}`}
        >
          <header className="category-head">
            <h3 id={`cat-${category.category_id}`}>{category.name}</h3>
            <span className="kpi-score">
              {formatNumber(category.final_score)} / {formatNumber(category.max_score)}
              {category.criticality_adjusted_score !== category.final_score ? (
                <span className="muted"> · adjusted {formatNumber(category.criticality_adjusted_score)}</span>
              ) : null}
            </span>
          </header>
          {category.sub_categories.map((sub) => (
            <div key={sub.sub_category_id}>
              {sub.name !== category.name ? <p className="subcategory-name">{sub.name}</p> : null}
              {sub.kpis.map((kpi) => (
                <KpiRow
                  key={kpi.kpi_id}
                  analysis={analysis}
                  kpi={kpi}
                  options={options.get(kpi.kpi_id) ?? []}
                  activeEvidence={activeEvidence}
                  onEvidence={onEvidence}
                  onReviewed={onReviewed}
                  onDispute={onDispute}
                />
              ))}
            </div>
          ))}
        </section>
      ))}
    </div>
  );
}

function KpiRow({
  analysis,
  kpi,
  options,
  activeEvidence,
  onEvidence,
  onReviewed,
  onDispute,
}: {
  analysis: AnalysisDetail;
  kpi: KpiDetail;
  options: KpiOption[];
  activeEvidence: string | null;
  onEvidence(highlight: Highlight): void;
  onReviewed(updated: AnalysisDetail, kpi: KpiDetail): void;
  onDispute(kpiId: string): void;
}) {
  const session = useSession();
  const [editing, setEditing] = useState(false);
  const reviewed = kpi.qa_score !== undefined;
  const canReview = session.can("review") && analysis.status === "completed";
  return (
    <article className="kpi" aria-label={`KPI ${kpi.kpi_name}`} data-kpi={kpi.kpi_id}>
      <div className="kpi-head">
        <div className="row">
          <span className="kpi-name">{kpi.kpi_name}</span>
          {kpi.criticality !== "normal" ? <Badge tone="bad">{kpi.criticality}</Badge> : null}
        </div>
        <div className="row">
          {reviewed && kpi.final_response !== kpi.ai_response ? (
            <span className="muted small">
              AI <s>{kpi.ai_response}</s> →
            </span>
          ) : null}
          <Badge tone={answerTone(kpi.final_response)}>{kpi.final_response}</Badge>
          <span className="kpi-score" data-testid="kpi-score">
            {kpi.applicable ? `${formatNumber(kpi.final_score)} / ${formatNumber(kpi.max_score)}` : "N/A"}
          </span>
        </div>
      </div>
      <div className="kpi-body">
        <p>{kpi.ai_justification}</p>
        {kpi.evidence.length > 0 ? (
          <ul className="evidence-list" aria-label={`Evidence for ${kpi.kpi_name}`}>
            {kpi.evidence.map((e, index) => {
              const key = evidenceKey(kpi.kpi_id, index);
              return (
                <li key={key}>
                  <button
                    type="button"
                    className="evidence-button"
                    aria-pressed={activeEvidence === key}
                    onClick={() => onEvidence({ ...e, key, kpiName: kpi.kpi_name })}
                  >
                    <span className="muted small">
                      {e.start_seconds !== null
                        ? `▶ ${formatSeconds(e.start_seconds)}`
                        : `turn ${e.turn_index + 1}`}
                    </span>
                    <span>“{e.quote}”</span>
                  </button>
                </li>
              );
            })}
          </ul>
        ) : null}
        {kpi.ai_suggestion && kpi.final_response !== "Yes" ? (
          <p className="small">
            <strong>Suggestion:</strong> {kpi.ai_suggestion}
          </p>
        ) : null}
        {reviewed ? (
          <div className="review-box small">
            <strong>QA override:</strong> {kpi.qa_selected_kpi_option_value ?? "score"} (
            {formatNumber(kpi.qa_score ?? 0)} points) — {kpi.qa_justification}
            {kpi.user_comment ? <p className="muted">Comment: {kpi.user_comment}</p> : null}
          </div>
        ) : null}
        <div className="row">
          {canReview ? (
            <Button size="small" onClick={() => setEditing((v) => !v)} aria-expanded={editing}>
              {reviewed ? "Change override" : "Override"}
            </Button>
          ) : null}
          {session.can("dispute:raise") ? (
            <Button size="small" variant="ghost" onClick={() => onDispute(kpi.kpi_id)}>
              Dispute
            </Button>
          ) : null}
        </div>
        {editing ? (
          <OverrideForm
            analysis={analysis}
            kpi={kpi}
            options={options}
            onDone={(updated) => {
              setEditing(false);
              if (updated) onReviewed(updated, kpi);
            }}
          />
        ) : null}
      </div>
    </article>
  );
}

function OverrideForm({
  analysis,
  kpi,
  options,
  onDone,
}: {
  analysis: AnalysisDetail;
  kpi: KpiDetail;
  options: KpiOption[];
  onDone(updated: AnalysisDetail | null): void;
}) {
  const session = useSession();
  const initial = options.find((o) => o.value !== kpi.final_response) ?? options[0];
  const [optionUid, setOptionUid] = useState(initial?.uid ?? "");
  const [justification, setJustification] = useState("");
  const [comment, setComment] = useState("");
  const save = useAction((body: Record<string, unknown>) =>
    api<AnalysisDetail>(
      "PUT",
      session.path(`/analyses/${analysis.analysis_id}/kpis/${encodeURIComponent(kpi.kpi_id)}/review`),
      { body },
    ),
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const updated = await save.run({
      option_uid: optionUid,
      justification,
      ...(comment.trim() ? { user_comment: comment.trim() } : {}),
    });
    if (updated) onDone(updated);
  };
  return (
    <form className="review-box stack" onSubmit={submit} aria-label={`Override ${kpi.kpi_name}`}>
      <ErrorNotice error={save.error} title="The override was not saved" />
      <SelectField
        label="QA answer"
        value={optionUid}
        onChange={(e) => setOptionUid(e.target.value)}
        options={options.map((o) => ({
          value: o.uid ?? o.value,
          label: `${o.label ?? o.value} (${o.score} points)`,
        }))}
      />
      <TextArea
        label="Justification"
        required
        value={justification}
        onChange={(e) => setJustification(e.target.value)}
        hint="Why the AI answer is wrong; kept in the history."
        rows={2}
      />
      <TextArea
        label="Comment for the agent (optional)"
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        rows={2}
      />
      <div className="row">
        <Button type="submit" variant="primary" busy={save.pending}>
          Save override
        </Button>
        <Button variant="ghost" onClick={() => onDone(null)}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
