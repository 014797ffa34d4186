// The transcript by speaker, with the evidence of every KPI answer highlighted and redactions shown
// as such. Clicking a turn's time (or an evidence span elsewhere) plays the recording from there.
import { type ReactNode, useEffect, useRef } from "react";
import type { Evidence, Transcript as TranscriptData } from "../../api/types.ts";
import { formatSeconds } from "../../ui/format.ts";

/** Evidence to highlight, with the KPI it supports. */
export interface Highlight extends Evidence {
  key: string;
  kpiName: string;
}

/** Placeholders of redacted data, as cqa and common sources write them: [card number], [REDACTED], ***. */
const placeholder =
  /\[(?:redacted|pii|card(?: number)?|security code|cvv|phone(?: number)?|email|digits|ssn|account number|[a-z ]*redacted)\]|\*{3,}|<redacted>/gi;

interface Range {
  start: number;
  end: number;
  kind: string;
}

/** Where a turn's redactions are: as cqa reported them, and any placeholder a source left in the text. */
function redactionRanges(text: string, reported: Range[]): Range[] {
  const found = [...text.matchAll(placeholder)].map((m) => ({
    start: m.index ?? 0,
    end: (m.index ?? 0) + m[0].length,
    kind: "personal data",
  }));
  const all = [...reported, ...found].sort((a, b) => a.start - b.start);
  return all.filter((range, i) => i === 0 || range.start >= all[i - 1]!.end);
}

/** Text from `from` to `to` of the turn, with the redactions in it marked. */
function withRedactions(
  text: string,
  from: number,
  to: number,
  ranges: Range[],
  keyPrefix: string,
): ReactNode[] {
  const parts: ReactNode[] = [];
  let cursor = from;
  for (const range of ranges) {
    if (range.end <= cursor || range.start >= to) continue;
    const start = Math.max(range.start, cursor);
    const end = Math.min(range.end, to);
    if (start > cursor) parts.push(text.slice(cursor, start));
    parts.push(
      <span
        key={`${keyPrefix}-r${start}`}
        className="redaction"
        title={`Redacted ${range.kind.replace(/_/g, " ")}`}
      >
        <span className="visually-hidden">redacted {range.kind.replace(/_/g, " ")}: </span>
        {text.slice(start, end)}
      </span>,
    );
    cursor = end;
  }
  if (cursor < to) parts.push(text.slice(cursor, to));
  return parts;
}

/** The turn's text cut at the evidence spans, each span a <mark>. */
function turnText(
  text: string,
  highlights: Highlight[],
  active: string | null,
  turn: number,
  redactions: Range[],
): ReactNode[] {
  const spans = highlights
    .filter((h) => h.char_start >= 0 && h.char_end <= text.length && h.char_end > h.char_start)
    .sort((a, b) => a.char_start - b.char_start);
  const parts: ReactNode[] = [];
  let cursor = 0;
  for (const span of spans) {
    if (span.char_start < cursor) continue; // overlapping evidence: the first one is shown
    if (span.char_start > cursor)
      parts.push(...withRedactions(text, cursor, span.char_start, redactions, `${turn}-${cursor}`));
    const same = spans.filter((s) => s.char_start === span.char_start && s.char_end === span.char_end);
    parts.push(
      <mark
        key={span.key}
        id={`evidence-${span.key}`}
        className={same.some((s) => s.key === active) ? "evidence evidence-active" : "evidence"}
        title={`Evidence for ${same.map((s) => s.kpiName).join(", ")}`}
      >
        {text.slice(span.char_start, span.char_end)}
      </mark>,
    );
    cursor = span.char_end;
  }
  if (cursor < text.length)
    parts.push(...withRedactions(text, cursor, text.length, redactions, `${turn}-${cursor}`));
  return parts;
}

export function TranscriptView({
  transcript,
  highlights,
  activeEvidence,
  currentTime,
  onSeek,
}: {
  transcript: TranscriptData;
  highlights: Highlight[];
  activeEvidence: string | null;
  currentTime: number | null;
  onSeek(seconds: number, turnIndex: number): void;
}) {
  const listRef = useRef<HTMLOListElement>(null);
  useEffect(() => {
    // Bring the evidence into view inside the transcript only; the page itself stays where it is.
    const list = listRef.current;
    const mark = activeEvidence ? document.getElementById(`evidence-${activeEvidence}`) : null;
    if (!list || !mark) return;
    const offset = mark.getBoundingClientRect().top - list.getBoundingClientRect().top;
    list.scrollTo({ top: list.scrollTop + offset - list.clientHeight / 2, behavior: "smooth" });
  }, [activeEvidence]);
  const reported = new Map<number, Range[]>();
  for (const r of transcript.redactions ?? []) {
    reported.set(r.turn_index, [
      ...(reported.get(r.turn_index) ?? []),
      { start: r.char_start, end: r.char_end, kind: r.kind },
    ]);
  }
  const byTurn = new Map<number, Highlight[]>();
  for (const h of highlights) byTurn.set(h.turn_index, [...(byTurn.get(h.turn_index) ?? []), h]);
  return (
    <>
      {transcript.notes.length > 0 ? (
        <ul className="muted small">
          {transcript.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
      <ol className="transcript" ref={listRef} aria-label="Transcript">
        {transcript.turns.map((turn) => {
          const current =
            currentTime !== null &&
            turn.start !== null &&
            currentTime >= turn.start &&
            (turn.end === null ? true : currentTime < turn.end);
          const role = turn.speaker === "agent" || turn.speaker === "customer" ? turn.speaker : "other";
          return (
            <li
              key={turn.index}
              className={`turn turn-${role}${current ? " turn-current" : ""}`}
              data-turn={turn.index}
              aria-current={current ? "true" : undefined}
            >
              <div className="turn-meta">
                <span className="turn-speaker">{turn.speaker_label || turn.speaker}</span>
                {turn.start !== null ? (
                  <button
                    type="button"
                    className="turn-time"
                    onClick={() => onSeek(turn.start ?? 0, turn.index)}
                    aria-label={`Play from ${formatSeconds(turn.start)}`}
                  >
                    {formatSeconds(turn.start)}
                  </button>
                ) : (
                  <span className="muted">turn {turn.index + 1}</span>
                )}
              </div>
              <p className="turn-text">
                {turnText(
                  turn.text,
                  byTurn.get(turn.index) ?? [],
                  activeEvidence,
                  turn.index,
                  redactionRanges(turn.text, reported.get(turn.index) ?? []),
                )}
              </p>
            </li>
          );
        })}
      </ol>
    </>
  );
}
