import type { Context } from "hono";
import type { z } from "zod";
import type { ApiErrorCode } from "../core/errors.ts";
import type { AccountLimits } from "../core/limits.ts";
import type { AccountRecord } from "../storage/repositories/accounts.ts";
import type { Principal } from "../tenancy/authenticate.ts";
import type { Permission } from "./permissions.ts";
import type { RateClass } from "./rateLimiter.ts";
import type { ApiServices } from "./services.ts";

/** The authenticated caller of an account route. */
export interface AccountCaller {
  principal: Principal;
  account: AccountRecord;
  limits: AccountLimits;
}

/** What a handler gets: validated inputs and the caller. */
export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Present on account routes. */
  caller: AccountCaller;
  services: ApiServices;
  requestId: string;
  /** Parts of a multipart request other than the JSON fields (files). */
  files: Map<string, File>;
  context: Context;
}

/** A successful answer in the envelope, or a raw Response for files and documents. */
export type Reply =
  | { status: number; data?: unknown; message?: string; headers?: Record<string, string> }
  | Response;

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** One API operation: how it is called, who may call it, what it takes and answers. */
export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** OpenAPI-style path: `/api/v1/accounts/{account_id}/ingress/interactions`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** `account`: X-API-Key or a session of the path's account; `operator`: the operator token. */
  auth: "public" | "operator" | "account" | "session";
  permission?: Permission;
  rate?: RateClass;
  params?: P;
  query?: Q;
  /** Code for a query that does not validate (the published API uses VALIDATION_ERROR for some). */
  queryErrorCode?: ApiErrorCode;
  /** A schema, or one built from the caller's limits (per-account metadata and transcript limits). */
  body?: B | ((caller: AccountCaller | null) => B);
  /** What the OpenAPI document shows as the body when `body` is validated item by item later. */
  documentedBody?: z.ZodType;
  /** Accept multipart/form-data: JSON fields as form fields, files kept aside. */
  multipart?: boolean;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handle(input: HandlerInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<Reply>;
}

/** Declares a route with its input types inferred from the schemas. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}
