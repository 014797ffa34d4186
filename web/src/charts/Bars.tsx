// Horizontal bars: one value per row, or a stacked split (passed / partially / failed).
import type { ReactNode } from "react";

export interface BarRow {
  key: string;
  label: ReactNode;
  /** Segments in percent of the whole bar (0–100), each with a tone. */
  segments: { value: number; tone: "good" | "warn" | "bad" | "neutral"; title: string }[];
  figure: ReactNode;
  extra?: ReactNode;
}

export function Bars({ rows, label }: { rows: BarRow[]; label: string }) {
  return (
    <ul className="bars" aria-label={label} style={{ listStyle: "none", margin: 0, padding: 0 }}>
      {rows.map((row) => (
        <li key={row.key} className="bar-row">
          <span className="bar-label">{row.label}</span>
          <span className="bar-track" aria-hidden="true">
            {row.segments.map((s) => (
              <span
                key={s.title}
                className={`bar-fill bar-${s.tone}`}
                style={{ width: `${Math.max(0, Math.min(100, s.value))}%` }}
                title={s.title}
              />
            ))}
          </span>
          <span className="bar-value">{row.figure}</span>
          {row.extra ? <span style={{ gridColumn: "2 / 4" }}>{row.extra}</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function toneOf(percent: number | null): "good" | "warn" | "bad" | "neutral" {
  if (percent === null) return "neutral";
  return percent >= 80 ? "good" : percent >= 60 ? "warn" : "bad";
}
