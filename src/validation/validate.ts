import type { z } from "zod";
import { AppError } from "../core/errors.ts";

/** Turns zod issues into sentences a sender can act on: "metadata.region must be a string…". */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map(describeIssue);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  const subject = path === "" ? "The request body" : path;
  // Messages we wrote ourselves are complete sentences about the field; keep them.
  if (!/^(Invalid|Too |Unrecognized)/.test(issue.message)) {
    return issue.message.includes("{path}") ? issue.message.replace("{path}", subject) : issue.message;
  }
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return `${subject} is required`;
      return `${subject} must be ${article(issue.expected)} (got ${typeName(issue.input)})`;
    case "too_small":
      if (issue.origin === "string") return `${subject} must not be empty`;
      if (issue.origin === "array") return `${subject} must contain at least ${issue.minimum} item(s)`;
      return `${subject} must be at least ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `${subject} must be at most ${issue.maximum} characters`;
      if (issue.origin === "array") return `${subject} must contain at most ${issue.maximum} item(s)`;
      return `${subject} must be at most ${issue.maximum}`;
    case "invalid_value":
      return `${subject} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union":
      return `${subject} has an unsupported value (got ${typeName(issue.input)})`;
    case "invalid_format":
      return `${subject} must be a valid ${issue.format}`;
    case "unrecognized_keys":
      return `${subject} has unknown field(s): ${issue.keys.join(", ")}`;
    default:
      return `${subject} is invalid: ${issue.message}`;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    int: "an integer",
    number: "a number",
    string: "a string",
    boolean: "true or false",
    object: "an object",
    array: "an array",
  };
  return names[expected] ?? `a ${expected}`;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number" && !Number.isInteger(value)) return `the number ${value}`;
  if (typeof value === "object") return "an object";
  return typeof value === "string"
    ? `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`
    : String(value);
}

/** Parses `input` with `schema`, or throws VALIDATION_ERROR whose message lists every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what?: string): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const problems = describeIssues(result.error.issues);
  const prefix = what ? `${what}: ` : "";
  throw new AppError("VALIDATION_ERROR", prefix + problems.join("; "), { details: { problems } });
}
