// Filters on conversation metadata (agent, campaign, region…): each condition must hold.
import { type FormEvent, useState } from "react";
import { Button, SelectField, TextField } from "../../ui/kit.tsx";

export interface MetadataCondition {
  field: string;
  operator: "equals" | "not_equals" | "contains" | "in" | "greater_than" | "less_than";
  value: string;
}

const operators: { value: MetadataCondition["operator"]; label: string }[] = [
  { value: "equals", label: "is" },
  { value: "not_equals", label: "is not" },
  { value: "contains", label: "contains" },
  { value: "in", label: "is one of (comma-separated)" },
  { value: "greater_than", label: "is greater than" },
  { value: "less_than", label: "is less than" },
];

export function parseConditions(text: string | null): MetadataCondition[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (c): c is MetadataCondition =>
        typeof c === "object" &&
        c !== null &&
        typeof (c as MetadataCondition).field === "string" &&
        operators.some((o) => o.value === (c as MetadataCondition).operator) &&
        typeof (c as MetadataCondition).value === "string",
    );
  } catch {
    return [];
  }
}

export function MetadataFilters({
  fields,
  conditions,
  onChange,
}: {
  fields: { key: string; label: string }[];
  conditions: MetadataCondition[];
  onChange(conditions: MetadataCondition[]): void;
}) {
  const [draft, setDraft] = useState<MetadataCondition>({
    field: fields[0]?.key ?? "",
    operator: "equals",
    value: "",
  });
  const label = (key: string) => fields.find((f) => f.key === key)?.label ?? key;
  const add = (event: FormEvent) => {
    event.preventDefault();
    const field = draft.field || fields[0]?.key;
    if (!field || draft.value.trim() === "") return;
    onChange([...conditions, { ...draft, field, value: draft.value.trim() }]);
    setDraft({ ...draft, value: "" });
  };
  if (fields.length === 0 && conditions.length === 0) return null;
  return (
    <div className="metadata-filters">
      {fields.length > 0 ? (
        <form className="filters filters-compact" onSubmit={add} aria-label="Metadata filter">
          <SelectField
            label="Metadata"
            value={draft.field || fields[0]?.key || ""}
            onChange={(e) => setDraft({ ...draft, field: e.target.value })}
            options={fields.map((f) => ({ value: f.key, label: f.label }))}
          />
          <SelectField
            label="Condition"
            value={draft.operator}
            onChange={(e) =>
              setDraft({ ...draft, operator: e.target.value as MetadataCondition["operator"] })
            }
            options={operators}
          />
          <TextField
            label="Value"
            value={draft.value}
            onChange={(e) => setDraft({ ...draft, value: e.target.value })}
          />
          <div className="filters-actions">
            <Button type="submit">Add filter</Button>
          </div>
        </form>
      ) : null}
      {conditions.length > 0 ? (
        <ul className="chips" aria-label="Active metadata filters">
          {conditions.map((c, index) => (
            <li key={`${c.field}-${c.operator}-${c.value}`} className="chip">
              <span>
                {label(c.field)} {operators.find((o) => o.value === c.operator)?.label.replace(/ \(.*\)/, "")}{" "}
                <strong>{c.value}</strong>
              </span>
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove filter ${label(c.field)} ${c.value}`}
                onClick={() => onChange(conditions.filter((_, i) => i !== index))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
