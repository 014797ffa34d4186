// A score trend as an SVG line chart (0–100 %), with the figures also available as a table.
import { type RefObject, useEffect, useId, useRef, useState } from "react";

export interface Point {
  label: string;
  value: number | null;
  count: number;
}

const height = 220;
const pad = { top: 12, right: 20, bottom: 28, left: 42 };

/** The width the chart is drawn at, so its text stays at its CSS size however wide the card is. */
function useWidth(fallback: number): [RefObject<HTMLElement | null>, number] {
  const ref = useRef<HTMLElement | null>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(280, Math.round(entry.contentRect.width)));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

export function LineChart({ points, title }: { points: Point[]; title: string }) {
  const gradient = useId().replace(/:/g, "");
  const [ref, width] = useWidth(640);
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const x = (i: number) => pad.left + (points.length <= 1 ? innerW / 2 : (i * innerW) / (points.length - 1));
  const y = (v: number) => pad.top + innerH - (v / 100) * innerH;
  const defined = points.map((p, i) => ({ ...p, i })).filter((p) => p.value !== null) as (Point & {
    i: number;
    value: number;
  })[];
  const path = defined
    .map((p, n) => `${n === 0 ? "M" : "L"}${x(p.i).toFixed(1)},${y(p.value).toFixed(1)}`)
    .join(" ");
  const area =
    defined.length > 1
      ? `${path} L${x(defined.at(-1)!.i).toFixed(1)},${y(0)} L${x(defined[0]!.i).toFixed(1)},${y(0)} Z`
      : "";
  const labelEvery = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor(width / 90))));
  return (
    <figure className="chart-figure" style={{ margin: 0 }} ref={ref}>
      <svg className="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title}>
        <defs>
          <linearGradient id={gradient} x1="0" x2="0" y1="0" y2="1">
            <stop offset="0%" stopColor="#3451c7" stopOpacity="0.22" />
            <stop offset="100%" stopColor="#3451c7" stopOpacity="0" />
          </linearGradient>
        </defs>
        {[0, 25, 50, 75, 100].map((v) => (
          <g key={v}>
            <line className="grid-line" x1={pad.left} x2={width - pad.right} y1={y(v)} y2={y(v)} />
            <text x={pad.left - 6} y={y(v) + 4} textAnchor="end">
              {v}%
            </text>
          </g>
        ))}
        {points.map((p, i) =>
          i % labelEvery === 0 ? (
            <text key={p.label} x={x(i)} y={height - 8} textAnchor="middle">
              {p.label}
            </text>
          ) : null,
        )}
        {area ? <path d={area} fill={`url(#${gradient})`} /> : null}
        {path ? <path className="series-line" d={path} /> : null}
        {defined.map((p) => (
          <circle key={p.label} className="dot" cx={x(p.i)} cy={y(p.value)} r={3.5}>
            <title>
              {p.label}: {p.value.toFixed(1)} % over {p.count} {p.count === 1 ? "analysis" : "analyses"}
            </title>
          </circle>
        ))}
      </svg>
      <details>
        <summary className="small muted">Show the figures</summary>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Period</th>
              <th scope="col" className="num">
                Average score
              </th>
              <th scope="col" className="num">
                Analyses
              </th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.label}>
                <td>{p.label}</td>
                <td className="num">{p.value === null ? "—" : `${p.value.toFixed(1)} %`}</td>
                <td className="num">{p.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** A tiny trend line for a row of a table. */
export function Sparkline({ values, label }: { values: (number | null)[]; label: string }) {
  const known = values.map((v, i) => ({ v, i })).filter((p): p is { v: number; i: number } => p.v !== null);
  const w = 120;
  const h = 28;
  const x = (i: number) => (values.length <= 1 ? w / 2 : (i * (w - 4)) / (values.length - 1) + 2);
  const y = (v: number) => h - 2 - (v / 100) * (h - 4);
  return (
    <svg className="sparkline" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      {known.length > 1 ? (
        <polyline points={known.map((p) => `${x(p.i).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")} />
      ) : known.length === 1 ? (
        <circle cx={x(known[0]!.i)} cy={y(known[0]!.v)} r={2.5} fill="#3451c7" />
      ) : null}
    </svg>
  );
}
