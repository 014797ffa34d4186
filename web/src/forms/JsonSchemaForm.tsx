// A form generated from a JSON Schema (as cqa publishes them: connector configs in the catalogue,
// evaluators in the OpenAPI document), so a new connector kind or evaluator gets its form without
// dashboard changes. Unknown shapes fall back to a JSON text box rather than being hidden.
import { type ReactNode, useId, useState } from "react";
import { humanize } from "../ui/format.ts";
import { Button, Checkbox, Field } from "../ui/kit.tsx";

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  default?: unknown;
  writeOnly?: boolean;
  readOnly?: boolean;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  additionalProperties?: boolean | JsonSchema;
  examples?: unknown[];
  [key: string]: unknown;
}

/** Resolves `$ref`s against the document they came from (OpenAPI components or $defs). */
export type Resolver = (schema: JsonSchema) => JsonSchema;

export function resolverFor(root: unknown): Resolver {
  const resolve = (schema: JsonSchema, depth = 0): JsonSchema => {
    if (!schema.$ref || depth > 20) return schema;
    const target = schema.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>(
        (node, part) =>
          (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")],
        root,
      );
    const { $ref: _ignored, ...rest } = schema;
    return resolve({ ...((target as JsonSchema) ?? {}), ...rest }, depth + 1);
  };
  return (schema) => resolve(schema);
}

type Value = unknown;

const typeOf = (schema: JsonSchema): string | undefined =>
  Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;

/** `anyOf: [X, {type: null}]` (nullable X) is shown as X. */
function unwrapNullable(schema: JsonSchema, resolve: Resolver): JsonSchema {
  const variants = schema.anyOf ?? schema.oneOf;
  if (!variants) return schema;
  const real = variants.map(resolve).filter((v) => typeOf(v) !== "null");
  if (real.length === 1 && real.length < variants.length) {
    const description = schema.description ?? real[0]!.description;
    return { ...real[0]!, ...(description === undefined ? {} : { description }) };
  }
  return schema;
}

/** The property that tells the variants of a union apart (e.g. evaluator `type`), if any. */
function discriminatorOf(variants: JsonSchema[]): string | null {
  const first = variants[0]?.properties;
  if (!first) return null;
  for (const key of Object.keys(first)) {
    if (variants.every((v) => v.properties?.[key]?.const !== undefined)) return key;
  }
  return null;
}

function labelOf(name: string, schema: JsonSchema): string {
  return schema.title ?? humanize(name);
}

export function SchemaField({
  name,
  schema: raw,
  value,
  onChange,
  required,
  resolve,
  errors,
  path,
}: {
  name: string;
  schema: JsonSchema;
  value: Value;
  onChange(value: Value): void;
  required: boolean;
  resolve: Resolver;
  errors?: Map<string, string> | undefined;
  path: string;
}) {
  const schema = unwrapNullable(resolve(raw), resolve);
  const label = (
    <>
      {labelOf(name, schema)}
      {required ? <span aria-hidden="true"> *</span> : null}
    </>
  );
  const error = errors?.get(path) ?? null;
  const hint = schema.description;
  const variants = (schema.oneOf ?? schema.anyOf)?.map(resolve);
  const type = typeOf(schema);

  if (schema.const !== undefined) return null;

  if (variants && variants.length > 0) {
    return (
      <UnionField
        name={name}
        variants={variants}
        value={value}
        onChange={onChange}
        required={required}
        resolve={resolve}
        errors={errors}
        path={path}
        hint={hint}
      />
    );
  }

  if (schema.enum) {
    const options = schema.enum.map((v) => String(v));
    return (
      <Field label={label} hint={hint} error={error}>
        {(id, describedBy) => (
          <select
            id={id}
            aria-describedby={describedBy}
            value={value === undefined || value === null ? "" : String(value)}
            onChange={(e) => {
              const picked = schema.enum?.find((v) => String(v) === e.target.value);
              onChange(e.target.value === "" ? undefined : picked);
            }}
          >
            {!required || value === undefined ? (
              <option value="">
                {schema.default !== undefined ? `Default (${String(schema.default)})` : "—"}
              </option>
            ) : null}
            {options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  }

  if (type === "boolean") {
    const checked = value === undefined ? schema.default === true : value === true;
    return (
      <Checkbox
        label={labelOf(name, schema)}
        hint={hint}
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
    );
  }

  if (type === "string" || type === "number" || type === "integer") {
    const numeric = type !== "string";
    const secret = schema.writeOnly === true || schema.format === "password";
    return (
      <Field
        label={label}
        hint={
          secret
            ? `${hint ? `${hint} ` : ""}Stored encrypted; never shown again. Leave empty to keep the current one.`
            : hint
        }
        error={error}
      >
        {(id, describedBy) => (
          <input
            id={id}
            aria-describedby={describedBy}
            aria-invalid={error ? true : undefined}
            type={secret ? "password" : numeric ? "number" : schema.format === "uri" ? "url" : "text"}
            step={type === "integer" ? 1 : "any"}
            autoComplete={secret ? "new-password" : "off"}
            placeholder={
              schema.default !== undefined
                ? String(schema.default)
                : (schema.examples?.[0] as string | undefined)
            }
            value={value === undefined || value === null ? "" : String(value)}
            onChange={(e) => {
              const text = e.target.value;
              if (text === "") onChange(undefined);
              else onChange(numeric ? Number(text) : text);
            }}
          />
        )}
      </Field>
    );
  }

  if (type === "array") {
    const items = resolve(schema.items ?? {});
    const itemType = typeOf(items);
    if (itemType === "string" || itemType === "number" || itemType === "integer") {
      const list = Array.isArray(value) ? value : [];
      return (
        <Field label={label} hint={`${hint ? `${hint} ` : ""}One per line.`} error={error}>
          {(id, describedBy) => (
            <LinesInput
              id={id}
              describedBy={describedBy}
              value={list.map(String)}
              onChange={(lines) => {
                const values = itemType === "string" ? lines : lines.map(Number);
                onChange(values.length === 0 && !required ? undefined : values);
              }}
            />
          )}
        </Field>
      );
    }
    if (itemType === "object" || items.properties) {
      const list = Array.isArray(value) ? value : [];
      return (
        <fieldset>
          <legend>{label}</legend>
          {hint ? <p className="field-hint">{hint}</p> : null}
          <div className="stack">
            {list.map((item, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: list items have no ids; position is their identity
              <div key={`${path}-${index}`} className="tree-node">
                <ObjectFields
                  schema={items}
                  value={item}
                  onChange={(next) => onChange(list.map((v, i) => (i === index ? next : v)))}
                  resolve={resolve}
                  errors={errors}
                  path={`${path}[${index}]`}
                />
                <div>
                  <Button
                    size="small"
                    variant="danger"
                    onClick={() => onChange(list.filter((_, i) => i !== index))}
                  >
                    Remove
                  </Button>
                </div>
              </div>
            ))}
            <div>
              <Button size="small" onClick={() => onChange([...list, {}])}>
                Add {labelOf(name, schema).toLowerCase().replace(/s$/, "")}
              </Button>
            </div>
          </div>
        </fieldset>
      );
    }
  }

  if ((type === "object" || schema.properties) && schema.properties) {
    if (value === undefined && !required) {
      return (
        <div className="row">
          <Button size="small" onClick={() => onChange({})}>
            Add {labelOf(name, schema).toLowerCase()}
          </Button>
          {hint ? <span className="field-hint">{hint}</span> : null}
        </div>
      );
    }
    return (
      <fieldset>
        <legend>{label}</legend>
        {hint ? <p className="field-hint">{hint}</p> : null}
        <ObjectFields
          schema={schema}
          value={value}
          onChange={onChange}
          resolve={resolve}
          errors={errors}
          path={path}
        />
        {!required ? (
          <div style={{ marginTop: 8 }}>
            <Button size="small" variant="ghost" onClick={() => onChange(undefined)}>
              Remove {labelOf(name, schema).toLowerCase()}
            </Button>
          </div>
        ) : null}
      </fieldset>
    );
  }

  return <JsonField label={label} hint={hint} value={value} onChange={onChange} error={error} />;
}

/** A list edited as lines of text (phrases, channels, hosts). */
function LinesInput({
  id,
  describedBy,
  value,
  onChange,
}: {
  id: string;
  describedBy: string | undefined;
  value: string[];
  onChange(lines: string[]): void;
}) {
  const [text, setText] = useState(value.join("\n"));
  return (
    <textarea
      id={id}
      aria-describedby={describedBy}
      rows={Math.min(8, Math.max(2, value.length + 1))}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onChange(
          e.target.value
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean),
        );
      }}
    />
  );
}

function JsonField({
  label,
  hint,
  value,
  onChange,
  error,
}: {
  label: ReactNode;
  hint: string | undefined;
  value: Value;
  onChange(value: Value): void;
  error: string | null;
}) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 2));
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <Field label={label} hint={hint ? `${hint} (JSON)` : "JSON"} error={problem ?? error}>
      {(id, describedBy) => (
        <textarea
          id={id}
          aria-describedby={describedBy}
          className="mono"
          rows={4}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            if (e.target.value.trim() === "") {
              setProblem(null);
              onChange(undefined);
              return;
            }
            try {
              onChange(JSON.parse(e.target.value));
              setProblem(null);
            } catch {
              setProblem("Not valid JSON yet");
            }
          }}
        />
      )}
    </Field>
  );
}

function UnionField({
  name,
  variants,
  value,
  onChange,
  required,
  resolve,
  errors,
  path,
  hint,
}: {
  name: string;
  variants: JsonSchema[];
  value: Value;
  onChange(value: Value): void;
  required: boolean;
  resolve: Resolver;
  errors: Map<string, string> | undefined;
  path: string;
  hint: string | undefined;
}) {
  const id = useId();
  const key = discriminatorOf(variants);
  if (!key) {
    return (
      <JsonField
        label={humanize(name)}
        hint={hint}
        value={value}
        onChange={onChange}
        error={errors?.get(path) ?? null}
      />
    );
  }
  const current = (value as Record<string, unknown> | undefined)?.[key];
  const chosen = variants.find((v) => v.properties?.[key]?.const === current);
  return (
    <fieldset>
      <legend>{humanize(name)}</legend>
      {hint ? <p className="field-hint">{hint}</p> : null}
      <div className="field">
        <label htmlFor={id}>{humanize(key)}</label>
        <select
          id={id}
          value={current === undefined ? "" : String(current)}
          onChange={(e) => {
            const next = variants.find((v) => String(v.properties?.[key]?.const) === e.target.value);
            if (!next) {
              onChange(required ? value : undefined);
              return;
            }
            // Keep the values the new variant also has (phrases survive switching present ↔ absent).
            const kept = Object.fromEntries(
              Object.entries((value as Record<string, unknown>) ?? {}).filter(
                ([k]) => k !== key && next.properties?.[k],
              ),
            );
            onChange({ [key]: next.properties?.[key]?.const, ...kept });
          }}
        >
          {current === undefined ? <option value="">Choose…</option> : null}
          {variants.map((v) => {
            const constant = String(v.properties?.[key]?.const);
            return (
              <option key={constant} value={constant}>
                {v.title ?? humanize(constant)}
              </option>
            );
          })}
        </select>
      </div>
      {chosen ? (
        <div style={{ marginTop: 10 }}>
          <ObjectFields
            schema={chosen}
            value={value}
            onChange={onChange}
            resolve={resolve}
            errors={errors}
            path={path}
          />
        </div>
      ) : null}
    </fieldset>
  );
}

/** The fields of an object schema, required ones first. */
export function ObjectFields({
  schema: raw,
  value,
  onChange,
  resolve,
  errors,
  path = "",
}: {
  schema: JsonSchema;
  value: Value;
  onChange(value: Value): void;
  resolve: Resolver;
  errors?: Map<string, string> | undefined;
  path?: string;
}) {
  const schema = resolve(raw);
  const object = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {}).sort(
    ([a], [b]) => Number(required.has(b)) - Number(required.has(a)),
  );
  return (
    <div className="schema-object">
      {entries.map(([key, property]) => (
        <SchemaField
          key={key}
          name={key}
          schema={property}
          required={required.has(key)}
          value={object[key]}
          resolve={resolve}
          errors={errors}
          path={path ? `${path}.${key}` : key}
          onChange={(next) => {
            const copy = { ...object };
            if (next === undefined) delete copy[key];
            else copy[key] = next;
            onChange(copy);
          }}
        />
      ))}
    </div>
  );
}

/** Fills constants (e.g. a variant's `type`) and defaults the user did not touch. */
export function initialValue(schema: JsonSchema, resolve: Resolver): Record<string, unknown> {
  const resolved = resolve(schema);
  const value: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(resolved.properties ?? {})) {
    const p = resolve(property);
    if (p.const !== undefined) value[key] = p.const;
    else if (p.default !== undefined && (resolved.required ?? []).includes(key)) value[key] = p.default;
  }
  return value;
}
