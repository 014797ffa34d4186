// The condition builder of assignment rules: conditions on channel, source, language, duration and
// metadata, in AND / OR groups nested up to five levels.
import type { Condition, ConditionNode } from "../../api/types.ts";
import { Button } from "../../ui/kit.tsx";

export type Group = { all: ConditionNode[] } | { any: ConditionNode[] };

const maxDepth = 5;

export const operators: { value: string; label: string; arity: "one" | "list" | "two" | "none" }[] = [
  { value: "eq", label: "is", arity: "one" },
  { value: "neq", label: "is not", arity: "one" },
  { value: "in", label: "is one of", arity: "list" },
  { value: "not_in", label: "is none of", arity: "list" },
  { value: "contains", label: "contains", arity: "one" },
  { value: "gt", label: ">", arity: "one" },
  { value: "gte", label: "≥", arity: "one" },
  { value: "lt", label: "<", arity: "one" },
  { value: "lte", label: "≤", arity: "one" },
  { value: "between", label: "is between", arity: "two" },
  { value: "exists", label: "is set", arity: "none" },
  { value: "not_exists", label: "is not set", arity: "none" },
];

const namedFields = [
  { value: "channel_type", label: "Channel" },
  { value: "source", label: "Source" },
  { value: "language", label: "Language" },
  { value: "duration_seconds", label: "Duration (s)" },
  { value: "integration_id", label: "Integration" },
];

export function isGroup(node: ConditionNode): node is Group {
  return "all" in node || "any" in node;
}

export function itemsOf(group: Group): ConditionNode[] {
  return "all" in group ? group.all : group.any;
}

function withItems(group: Group, items: ConditionNode[]): Group {
  return "all" in group ? { all: items } : { any: items };
}

function valueText(condition: Condition): string {
  const v = condition.value;
  if (Array.isArray(v)) return v.join(", ");
  return v === undefined ? "" : String(v);
}

/** "Channel is VOICE and (campaign is retention or region is one of north)" */
export function describeConditions(group: Group): string {
  const items = itemsOf(group);
  if (items.length === 0) return "Every conversation";
  const joiner = "all" in group ? " and " : " or ";
  return items
    .map((node) => {
      if (isGroup(node)) return `(${describeConditions(node)})`;
      const field =
        namedFields.find((f) => f.value === node.field)?.label ?? node.field.replace(/^metadata\./, "");
      const op = operators.find((o) => o.value === node.operator);
      return op?.arity === "none"
        ? `${field} ${op.label}`
        : `${field} ${op?.label ?? node.operator} ${valueText(node)}`;
    })
    .join(joiner);
}

function parseValue(text: string, field: string): unknown {
  const trimmed = text.trim();
  if (field === "duration_seconds" && trimmed !== "" && Number.isFinite(Number(trimmed)))
    return Number(trimmed);
  return trimmed;
}

function ConditionRow({
  condition,
  fields,
  onChange,
  onRemove,
}: {
  condition: Condition;
  fields: { value: string; label: string }[];
  onChange(next: Condition): void;
  onRemove(): void;
}) {
  const op = operators.find((o) => o.value === condition.operator) ?? operators[0]!;
  const allFields = fields.some((f) => f.value === condition.field)
    ? fields
    : [...fields, { value: condition.field, label: condition.field }];
  const setOperator = (value: string) => {
    const next = operators.find((o) => o.value === value)!;
    const { value: _old, ...rest } = condition;
    if (next.arity === "none") onChange({ ...rest, operator: value });
    else if (next.arity === "list") onChange({ ...rest, operator: value, value: [] });
    else if (next.arity === "two") onChange({ ...rest, operator: value, value: [0, 0] });
    else onChange({ ...rest, operator: value, value: "" });
  };
  const pair = Array.isArray(condition.value) ? condition.value : [];
  return (
    <fieldset className="condition">
      <legend className="visually-hidden">Condition</legend>
      <div className="field">
        <label>
          Field
          <select value={condition.field} onChange={(e) => onChange({ ...condition, field: e.target.value })}>
            {allFields.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="field">
        <label>
          Operator
          <select value={condition.operator} onChange={(e) => setOperator(e.target.value)}>
            {operators.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="field">
        {op.arity === "none" ? (
          <span className="muted small">no value needed</span>
        ) : op.arity === "two" ? (
          <div className="row">
            <label>
              From
              <input
                type="number"
                value={String(pair[0] ?? "")}
                onChange={(e) => onChange({ ...condition, value: [Number(e.target.value), pair[1] ?? 0] })}
              />
            </label>
            <label>
              To
              <input
                type="number"
                value={String(pair[1] ?? "")}
                onChange={(e) => onChange({ ...condition, value: [pair[0] ?? 0, Number(e.target.value)] })}
              />
            </label>
          </div>
        ) : (
          <label>
            {op.arity === "list" ? "Values (comma-separated)" : "Value"}
            <input
              value={valueText(condition)}
              onChange={(e) =>
                onChange({
                  ...condition,
                  value:
                    op.arity === "list"
                      ? e.target.value
                          .split(",")
                          .map((v) => parseValue(v, condition.field))
                          .filter((v) => v !== "")
                      : parseValue(e.target.value, condition.field),
                })
              }
            />
          </label>
        )}
      </div>
      <Button size="small" variant="ghost" onClick={onRemove} aria-label="Remove condition">
        Remove
      </Button>
    </fieldset>
  );
}

export function ConditionGroup({
  group,
  onChange,
  onRemove,
  metadataKeys,
  depth = 1,
  readOnly,
}: {
  group: Group;
  onChange(next: Group): void;
  onRemove?: () => void;
  metadataKeys: { key: string; label: string }[];
  depth?: number;
  readOnly?: boolean;
}) {
  const items = itemsOf(group);
  const fields = [
    ...namedFields,
    ...metadataKeys.map((m) => ({ value: `metadata.${m.key}`, label: m.label })),
  ];
  const set = (index: number, next: ConditionNode | null) =>
    onChange(
      withItems(
        group,
        next === null
          ? items.filter((_, i) => i !== index)
          : items.map((item, i) => (i === index ? next : item)),
      ),
    );
  return (
    <fieldset className="condition-group" disabled={readOnly}>
      <legend className="visually-hidden">Condition group</legend>
      <div className="row">
        <label className="inline-label">
          Match{" "}
          <select
            value={"all" in group ? "all" : "any"}
            onChange={(e) => onChange(e.target.value === "all" ? { all: items } : { any: items })}
          >
            <option value="all">all of these (AND)</option>
            <option value="any">any of these (OR)</option>
          </select>
        </label>
        {onRemove ? (
          <Button size="small" variant="ghost" onClick={onRemove}>
            Remove group
          </Button>
        ) : null}
      </div>
      {items.length === 0 ? <p className="muted small">No condition: every conversation matches.</p> : null}
      {items.map((item, index) =>
        isGroup(item) ? (
          <ConditionGroup
            // biome-ignore lint/suspicious/noArrayIndexKey: conditions have no ids; position is their identity
            key={index}
            group={item}
            depth={depth + 1}
            metadataKeys={metadataKeys}
            onChange={(next) => set(index, next)}
            onRemove={() => set(index, null)}
          />
        ) : (
          <ConditionRow
            // biome-ignore lint/suspicious/noArrayIndexKey: conditions have no ids; position is their identity
            key={index}
            condition={item}
            fields={fields}
            onChange={(next) => set(index, next)}
            onRemove={() => set(index, null)}
          />
        ),
      )}
      <div className="row">
        <Button
          size="small"
          onClick={() =>
            onChange(withItems(group, [...items, { field: "channel_type", operator: "eq", value: "VOICE" }]))
          }
        >
          Add condition
        </Button>
        {depth < maxDepth ? (
          <Button size="small" onClick={() => onChange(withItems(group, [...items, { any: [] }]))}>
            Add group
          </Button>
        ) : null}
      </div>
    </fieldset>
  );
}
