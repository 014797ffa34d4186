// One analysed conversation: the recording, the transcript with the evidence of every answer, the
// scorecard with QA overrides, disputes, the history of changes and why it was analysed.
import { useMemo, useRef, useState } from "react";
import type {
  AnalysisDetail,
  Dispute,
  History,
  Interaction,
  KpiOption,
  MetadataFields,
  QualityProfile,
  Transcript,
} from "../api/types.ts";
import { useApi } from "../api/useApi.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.tsx";
import { formatDateTime, formatSeconds, humanize, percentOf } from "../ui/format.ts";
import {
  Badge,
  Card,
  ErrorNotice,
  formatNumber,
  Loading,
  Notice,
  ScoreMeter,
  scoreTone,
  Tabs,
} from "../ui/kit.tsx";
import { useToast } from "../ui/toast.tsx";
import { DisputesPanel, RaiseDisputeDialog } from "./analysis/Disputes.tsx";
import { HistoryPanel } from "./analysis/History.tsx";
import { Recording, type RecordingHandle } from "./analysis/Recording.tsx";
import { RoutingPanel } from "./analysis/Routing.tsx";
import { evidenceKey, Scorecard } from "./analysis/Scorecard.tsx";
import { type Highlight, TranscriptView } from "./analysis/Transcript.tsx";

type Tab = "scorecard" | "disputes" | "history" | "routing";

export default function AnalysisPage({ params }: { params: Record<string, string> }) {
  const session = useSession();
  const toast = useToast();
  const id = params["analysisId"] ?? "";
  const analysis = useApi<AnalysisDetail>("GET", session.path(`/analyses/${id}`));
  const detail = analysis.data;
  const interaction = useApi<Interaction>(
    "GET",
    detail ? session.path(`/ingress/interactions/${detail.interaction_id}`) : null,
  );
  const transcript = useApi<Transcript>(
    "GET",
    detail ? session.path(`/ingress/interactions/${detail.interaction_id}/transcript`) : null,
  );
  const profile = useApi<QualityProfile>(
    "GET",
    detail ? session.path(`/quality-profiles/${detail.profile_id}`) : null,
    { query: { version: detail?.profile_version } },
  );
  const disputes = useApi<{ disputes: Dispute[] }>("GET", session.path(`/analyses/${id}/disputes`));
  const history = useApi<History>("GET", session.path(`/analyses/${id}/history`));
  const fields = useApi<MetadataFields>("GET", session.path("/metadata-fields"));
  const labelOf = (key: string) =>
    fields.data?.metadata_fields.find((f) => f.key === key)?.label ?? humanize(key);

  const [tab, setTab] = useState<Tab>("scorecard");
  const [active, setActive] = useState<string | null>(null);
  const [time, setTime] = useState<number | null>(null);
  const [disputeFor, setDisputeFor] = useState<string | null>(null);
  const [override, setOverride] = useState<AnalysisDetail | null>(null);
  const player = useRef<RecordingHandle>(null);
  const current = override ?? detail;

  const options = useMemo(() => {
    const map = new Map<string, KpiOption[]>();
    for (const c of profile.data?.definition.categories ?? [])
      for (const s of c.sub_categories) for (const k of s.kpis) if (k.id) map.set(k.id, k.options ?? []);
    return map;
  }, [profile.data]);

  const highlights = useMemo<Highlight[]>(
    () =>
      (current?.categories ?? []).flatMap((c) =>
        c.sub_categories.flatMap((s) =>
          s.kpis.flatMap((k) =>
            k.evidence.map((e, i) => ({ ...e, key: evidenceKey(k.kpi_id, i), kpiName: k.kpi_name })),
          ),
        ),
      ),
    [current],
  );

  if (analysis.error) return <ErrorNotice error={analysis.error} title="This analysis could not be opened" />;
  if (!current) return <Loading />;

  const record = interaction.data;
  const percent = percentOf(current.final_score, current.max_score);
  const hasAudio = Boolean(record?.audio_url);
  const recordingPath = session.path(`/ingress/interactions/${current.interaction_id}/recording`);

  const seek = (seconds: number | null, key: string | null) => {
    setActive(key);
    if (seconds !== null && player.current?.playFrom(seconds)) setTime(seconds);
  };

  const refresh = () => {
    analysis.reload();
    history.reload();
    disputes.reload();
    setOverride(null);
  };

  const openDisputes = (disputes.data?.disputes ?? []).filter((d) => d.status === "open").length;

  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/analyses">Conversations</Link> / {current.external_interaction_id}
      </nav>
      <section className="card conversation-head" aria-labelledby="conversation-title">
        <div className="stack">
          <div className="row">
            <h1 id="conversation-title">{current.external_interaction_id}</h1>
            {record ? <Badge tone="info">{record.channel_type}</Badge> : null}
            {record?.pii_redacted ? <Badge>PII redacted at source</Badge> : null}
            {current.status !== "completed" ? <Badge tone="warn">{current.status}</Badge> : null}
          </div>
          <dl className="facts">
            <div>
              <dt>Quality profile</dt>
              <dd>
                {current.profile_name} <span className="muted">v{current.profile_version}</span>
              </dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>
                {formatDateTime(record?.interaction_start_time ?? record?.created_at, session.timeZone)}
              </dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd>{record?.duration_seconds ? formatSeconds(record.duration_seconds) : "—"}</dd>
            </div>
            {Object.entries(current.metadata)
              .slice(0, 6)
              .map(([key, value]) => (
                <div key={key}>
                  <dt>{labelOf(key)}</dt>
                  <dd>{String(value)}</dd>
                </div>
              ))}
          </dl>
        </div>
        <div className="score-big">
          <div className={`value meter-${scoreTone(percent)}`} data-testid="final-score">
            {current.final_score === null ? "—" : formatNumber(current.final_score)}
            <span className="muted"> / {formatNumber(current.max_score ?? 0)}</span>
          </div>
          <p className="muted">
            {percent === null ? "not scored" : `${percent} %`} · AI {current.ai_score ?? "—"}
            {current.qa_score !== undefined ? ` · QA ${current.qa_score}` : ""} · adjusted{" "}
            {current.criticality_adjusted_score ?? "—"}
          </p>
          <ScoreMeter
            score={current.final_score}
            max={current.max_score}
            label="Final score"
            showText={false}
          />
        </div>
      </section>
      <div className="split">
        <div className="stack">
          <Card title="Recording">
            {!record ? (
              <Loading />
            ) : hasAudio ? (
              <Recording
                ref={player}
                path={recordingPath}
                onTime={setTime}
                durationHint={record.duration_seconds}
              />
            ) : (
              <p className="muted">
                No recording: this {record.channel_type.toLowerCase()} conversation arrived as text.
              </p>
            )}
          </Card>
          <Card title="Transcript">
            {transcript.error ? (
              <p className="muted">{transcript.error.message}</p>
            ) : transcript.data ? (
              <TranscriptView
                transcript={transcript.data}
                highlights={highlights}
                activeEvidence={active}
                currentTime={time}
                onSeek={(seconds, turn) => seek(seconds, `turn-${turn}`)}
              />
            ) : (
              <Loading />
            )}
          </Card>
        </div>
        <section className="card" aria-label="Analysis">
          <Tabs<Tab>
            label="Analysis"
            active={tab}
            onChange={setTab}
            tabs={[
              { key: "scorecard", label: "Scorecard" },
              { key: "disputes", label: openDisputes > 0 ? `Disputes (${openDisputes} open)` : "Disputes" },
              { key: "history", label: "History" },
              { key: "routing", label: "Why analysed" },
            ]}
          />
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === "scorecard" ? (
              <Scorecard
                analysis={current}
                options={options}
                activeEvidence={active}
                onEvidence={(h) => seek(h.start_seconds, h.key)}
                onReviewed={(updated, kpi) => {
                  toast(
                    `Override saved: ${kpi.kpi_name}. Score ${formatNumber(current.final_score ?? 0)} → ${formatNumber(updated.final_score ?? 0)}`,
                  );
                  setOverride(updated);
                  history.reload();
                }}
                onDispute={(kpiId) => setDisputeFor(kpiId)}
              />
            ) : null}
            {tab === "disputes" ? (
              disputes.data ? (
                <DisputesPanel
                  analysis={current}
                  disputes={disputes.data.disputes}
                  options={options}
                  onRaise={() => setDisputeFor("")}
                  onChanged={() => {
                    toast("Dispute resolved");
                    refresh();
                  }}
                />
              ) : (
                <ErrorNotice error={disputes.error} />
              )
            ) : null}
            {tab === "history" ? (
              history.data ? (
                <HistoryPanel analysis={current} history={history.data} />
              ) : (
                <Loading />
              )
            ) : null}
            {tab === "routing" ? (
              record ? (
                <RoutingPanel interaction={record} canSeeRules={session.can("review")} />
              ) : (
                <Loading />
              )
            ) : null}
          </div>
        </section>
      </div>
      {current.status === "failed" && current.failure_reason ? (
        <Notice kind="error" title="The analysis failed">
          {current.failure_reason}
        </Notice>
      ) : null}
      {disputeFor !== null ? (
        <RaiseDisputeDialog
          analysis={current}
          kpiId={disputeFor}
          open
          onClose={() => setDisputeFor(null)}
          onRaised={() => {
            setDisputeFor(null);
            toast("Dispute raised");
            disputes.reload();
            history.reload();
            setTab("disputes");
          }}
        />
      ) : null}
    </>
  );
}
