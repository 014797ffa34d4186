// The dashboard's building blocks: buttons, fields, cards, badges, notices. Every input has a label,
// every control is a real button or input, so keyboards and screen readers work throughout.
import {
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useId,
} from "react";
import type { ApiError } from "../api/client.ts";
import type { KpiAnswer } from "../api/types.ts";

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: "primary" | "secondary" | "danger" | "ghost";
  size?: "normal" | "small";
  busy?: boolean;
};

export function Button({
  variant = "secondary",
  size = "normal",
  busy,
  className,
  children,
  ...rest
}: ButtonProps) {
  return (
    <button
      type="button"
      className={`btn btn-${variant}${size === "small" ? " btn-small" : ""}${className ? ` ${className}` : ""}`}
      aria-busy={busy || undefined}
      {...rest}
      disabled={rest.disabled || busy}
    >
      {busy ? <span className="spinner" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

interface FieldProps {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null | undefined;
  children: (id: string, describedBy: string | undefined) => ReactNode;
  className?: string;
}

/** A label, the control and its hint or error, tied together by ids. */
export function Field({ label, hint, error, children, className }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const describedBy = error || hint ? hintId : undefined;
  return (
    <div className={`field${className ? ` ${className}` : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children(id, describedBy)}
      {error ? (
        <p id={hintId} className="field-error">
          {error}
        </p>
      ) : hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

type TextProps = InputHTMLAttributes<HTMLInputElement> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
};

export function TextField({ label, hint, error, className, ...input }: TextProps) {
  return (
    <Field label={label} hint={hint} error={error} {...(className ? { className } : {})}>
      {(id, describedBy) => (
        <input id={id} aria-describedby={describedBy} aria-invalid={error ? true : undefined} {...input} />
      )}
    </Field>
  );
}

type AreaProps = TextareaHTMLAttributes<HTMLTextAreaElement> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
};

export function TextArea({ label, hint, error, className, ...input }: AreaProps) {
  return (
    <Field label={label} hint={hint} error={error} {...(className ? { className } : {})}>
      {(id, describedBy) => (
        <textarea id={id} aria-describedby={describedBy} aria-invalid={error ? true : undefined} {...input} />
      )}
    </Field>
  );
}

type SelectProps = SelectHTMLAttributes<HTMLSelectElement> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  options: { value: string; label: string }[];
};

export function SelectField({ label, hint, error, options, className, ...select }: SelectProps) {
  return (
    <Field label={label} hint={hint} error={error} {...(className ? { className } : {})}>
      {(id, describedBy) => (
        <select id={id} aria-describedby={describedBy} {...select}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function Checkbox({
  label,
  hint,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { label: ReactNode; hint?: ReactNode }) {
  const id = useId();
  return (
    <div className="checkbox">
      <input type="checkbox" id={id} {...input} />
      <label htmlFor={id}>
        {label}
        {hint ? <span className="field-hint"> {hint}</span> : null}
      </label>
    </div>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
  id,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  id?: string;
}) {
  const headingId = useId();
  return (
    <section
      className={`card${className ? ` ${className}` : ""}`}
      aria-labelledby={title ? headingId : undefined}
      id={id}
    >
      {title || actions ? (
        <header className="card-header">
          {title ? <h2 id={headingId}>{title}</h2> : <span />}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </header>
      ) : null}
      {children}
    </section>
  );
}

export function PageHeader({
  title,
  subtitle,
  actions,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="page-subtitle">{subtitle}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </header>
  );
}

export function Notice({
  kind = "info",
  title,
  children,
}: {
  kind?: "info" | "error" | "success" | "warning";
  title?: ReactNode;
  children?: ReactNode;
}) {
  return (
    <div className={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {title ? <strong>{title}</strong> : null}
      {children ? <div>{children}</div> : null}
    </div>
  );
}

/** An API error as people read it: the message cqa wrote, and the request id to quote. */
export function ErrorNotice({ error, title }: { error: ApiError | null; title?: string }) {
  if (!error) return null;
  const problems = (error.details as { problems?: string[] } | null)?.problems;
  return (
    <Notice kind="error" title={title ?? "That did not work"}>
      <p>{error.message}</p>
      {problems && problems.length > 1 ? (
        <ul>
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      {error.requestId ? <p className="muted small">Request id {error.requestId}</p> : null}
    </Notice>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function EmptyState({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  );
}

export function Badge({ tone = "neutral", children }: { tone?: Tone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export type Tone = "neutral" | "good" | "warn" | "bad" | "info";

export function answerTone(answer: KpiAnswer | string | undefined): Tone {
  switch (answer) {
    case "Yes":
      return "good";
    case "Partially":
      return "warn";
    case "No":
      return "bad";
    default:
      return "neutral";
  }
}

export function scoreTone(percent: number | null): Tone {
  if (percent === null) return "neutral";
  if (percent >= 80) return "good";
  if (percent >= 60) return "warn";
  return "bad";
}

/** A score as a bar and a figure, e.g. 42 / 60 (70 %). */
export function ScoreMeter({
  score,
  max,
  label,
  showText = true,
}: {
  score: number | null;
  max: number | null;
  label?: string;
  showText?: boolean;
}) {
  const percent = score !== null && max ? Math.round((100 * score) / max) : null;
  return (
    <div className={`meter meter-${scoreTone(percent)}`}>
      <svg
        className="meter-track"
        role="img"
        aria-label={`${label ?? "Score"}: ${percent === null ? "not scored" : `${score} of ${max} (${percent} %)`}`}
        viewBox="0 0 100 8"
        preserveAspectRatio="none"
      >
        <rect className="meter-fill" x="0" y="0" height="8" rx="4" width={percent ?? 0} />
      </svg>
      {showText ? (
        <span className="meter-text">
          {score === null ? "—" : `${formatNumber(score)} / ${formatNumber(max ?? 0)}`}
          {percent === null ? null : <span className="muted"> · {percent} %</span>}
        </span>
      ) : null}
    </div>
  );
}

export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** Tabs with the ARIA pattern: arrow keys move between them. */
export function Tabs<K extends string>({
  tabs,
  active,
  onChange,
  label,
}: {
  tabs: { key: K; label: ReactNode }[];
  active: K;
  onChange(key: K): void;
  label: string;
}) {
  const move = (index: number) => {
    const next = tabs[(index + tabs.length) % tabs.length]!;
    onChange(next.key);
    document.getElementById(`tab-${next.key}`)?.focus();
  };
  return (
    <div role="tablist" aria-label={label} className="tabs">
      {tabs.map((tab, index) => (
        <button
          type="button"
          role="tab"
          id={`tab-${tab.key}`}
          key={tab.key}
          aria-selected={tab.key === active}
          aria-controls={`panel-${tab.key}`}
          tabIndex={tab.key === active ? 0 : -1}
          className="tab"
          onClick={() => onChange(tab.key)}
          onKeyDown={(event) => {
            if (event.key === "ArrowRight") move(index + 1);
            if (event.key === "ArrowLeft") move(index - 1);
          }}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}
