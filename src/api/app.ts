import { randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { type ApiErrorCode, AppError } from "../core/errors.ts";
import { type AccountLimits, resolveLimits } from "../core/limits.ts";
import { hashToken, timingSafeEqualStrings } from "../security/tokens.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import { authenticateApiKey, authenticateSession, type Principal } from "../tenancy/authenticate.ts";
import { describeIssues } from "../validation/validate.ts";
import { errorResponse, successResponse } from "./envelope.ts";
import { roleAllows, rolesWith } from "./permissions.ts";
import type { AccountCaller, RouteSpec } from "./route.ts";
import type { ApiServices } from "./services.ts";
import { assertCsrf, sessionTokenFromCookie } from "./sessionCookie.ts";

const defaultMaxBodyBytes = 1024 * 1024;

/** Builds the HTTP application from route specs: one place for auth, limits, parsing and errors. */
export function createApp(services: ApiServices, routes: readonly RouteSpec[]): Hono {
  const app = new Hono();

  for (const route of routes) {
    const honoPath = route.path.replace(/\{([a-z_]+)\}/g, ":$1");
    const method = route.method.toUpperCase();
    app.on(method, honoPath, async (c) => {
      const requestId = requestIdOf(c);
      const started = performance.now();
      let response: Response;
      try {
        response = await handle(c, route, services, requestId);
      } catch (error) {
        response = errorResponse(error, requestId, services.log, `${method} ${route.path}`);
      }
      services.observeRequest?.(method, route.path, response.status, (performance.now() - started) / 1000);
      return response;
    });
  }

  app.notFound((c) =>
    errorResponse(
      new AppError(
        "NOT_FOUND",
        `No such endpoint: ${c.req.method} ${new URL(c.req.url).pathname}. See /api/v1/openapi.json`,
      ),
      requestIdOf(c),
      services.log,
    ),
  );
  app.onError((error, c) => errorResponse(error, requestIdOf(c), services.log));
  return app;
}

async function handle(
  c: Context,
  route: RouteSpec,
  services: ApiServices,
  requestId: string,
): Promise<Response> {
  const rawParams = c.req.param() as Record<string, string>;
  let caller: AccountCaller | null = null;

  if (route.auth === "operator") {
    authenticateOperator(c, services);
  } else if (route.auth === "account" || route.auth === "session") {
    caller = await authenticateCaller(c, services, rawParams["account_id"], route.auth === "session");
    if (route.permission && !roleAllows(caller.principal.role, route.permission)) {
      throw new AppError(
        "FORBIDDEN",
        `Your role (${caller.principal.role}) may not do this; it needs one of: ${rolesWith(route.permission).join(", ")}`,
      );
    }
    if (route.rate) {
      const limit = rateLimitOf(caller.limits, route.rate);
      const decision = services.rateLimiter.take(caller.account.id, route.rate, limit);
      c.header("X-RateLimit-Limit", String(decision.limit));
      c.header("X-RateLimit-Remaining", String(decision.remaining));
      if (!decision.allowed) {
        throw new AppError(
          "RATE_LIMIT_EXCEEDED",
          `Rate limit of ${decision.limit} requests per minute exceeded for this account; retry after ${decision.resetSeconds} s`,
          { retryAfterSeconds: decision.resetSeconds },
        );
      }
    }
  }

  const params = route.params ? parseWith(route.params, rawParams, "NOT_FOUND") : rawParams;
  const query = route.query
    ? parseWith(route.query, queryObject(c), route.queryErrorCode ?? "INVALID_REQUEST")
    : queryObject(c);
  const files = new Map<string, File>();
  let body: unknown;
  if (route.body) {
    const raw = await readBody(c, route, files);
    const schema = typeof route.body === "function" ? route.body(caller) : route.body;
    body = parseWith(schema, raw, "VALIDATION_ERROR");
  }

  const reply = await route.handle({
    params,
    query,
    body,
    caller: caller as AccountCaller,
    services,
    requestId,
    files,
    context: c,
  });
  if (reply instanceof Response) return reply;
  const response = successResponse(reply.status, requestId, reply.data, reply.message);
  for (const [name, value] of Object.entries(reply.headers ?? {})) response.headers.set(name, value);
  return response;
}

function parseWith(schema: z.ZodType, input: unknown, code: ApiErrorCode): unknown {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const problems = describeIssues(result.error.issues);
  if (code === "NOT_FOUND") throw new AppError("NOT_FOUND", `Not found: ${problems.join("; ")}`);
  throw new AppError(code, problems.join("; "), { details: { problems } });
}

function queryObject(c: Context): Record<string, string> {
  return Object.fromEntries(new URL(c.req.url).searchParams.entries());
}

function requestIdOf(c: Context): string {
  const existing = c.get("requestId" as never) as string | undefined;
  if (existing) return existing;
  const given = c.req.header("x-request-id");
  const id = given && /^[A-Za-z0-9._:-]{1,100}$/.test(given) ? given : randomUUID();
  c.set("requestId" as never, id as never);
  return id;
}

function rateLimitOf(limits: AccountLimits, rate: NonNullable<RouteSpec["rate"]>): number {
  switch (rate) {
    case "ingest_post":
      return limits.ingestPostsPerMinute;
    case "ingest_get":
      return limits.ingestGetsPerMinute;
    case "other":
      return limits.otherRequestsPerMinute;
  }
}

function authenticateOperator(c: Context, services: ApiServices): void {
  const header = c.req.header("authorization") ?? "";
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  if (!token) {
    throw new AppError(
      "UNAUTHORIZED",
      "This operation needs the operator token: send 'Authorization: Bearer <CQA_OPERATOR_TOKEN>'",
    );
  }
  if (!timingSafeEqualStrings(hashToken(token), services.operatorTokenHash)) {
    throw new AppError("UNAUTHORIZED", "Invalid operator token");
  }
}

async function authenticateCaller(
  c: Context,
  services: ApiServices,
  pathAccountId: string | undefined,
  sessionOnly: boolean,
): Promise<AccountCaller> {
  const apiKey = c.req.header("x-api-key");
  const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
  const cookieToken = sessionTokenFromCookie(c);
  let principal: Principal;
  if (apiKey && !sessionOnly) {
    principal = await authenticateApiKey(services.db, services.clock, apiKey);
  } else if (bearer) {
    principal = await authenticateSession(services.db, services.clock, bearer);
  } else if (cookieToken) {
    // The dashboard's session cookie; a change also needs the session's CSRF token.
    principal = await authenticateSession(services.db, services.clock, cookieToken);
    assertCsrf(c, services.masterKey, cookieToken);
  } else {
    throw new AppError(
      "UNAUTHORIZED",
      !sessionOnly
        ? "Missing API key: send it in the X-API-Key header"
        : apiKey
          ? "This operation acts for a signed-in user, and an API key belongs to no user: sign in with " +
            "POST /api/v1/auth/login and send 'Authorization: Bearer <session token>' instead of X-API-Key"
          : "Sign in first: send 'Authorization: Bearer <session token>' from POST /api/v1/auth/login",
    );
  }
  if (pathAccountId !== undefined && principal.accountId !== pathAccountId) {
    // 401, never 403/404: a key must not learn whether another account exists. The message does not
    // echo the other account's id, so no answer to a foreign caller carries it.
    throw new AppError(
      "UNAUTHORIZED",
      "These credentials are not valid for the account in the path; use credentials of that account",
    );
  }
  const account = await getAccount(services.db, principal.accountId);
  if (!account) throw new AppError("UNAUTHORIZED", "The account of these credentials no longer exists");
  return { principal, account, limits: resolveLimits(account.limits) };
}

/** Reads the request body as JSON, or as form fields + files for multipart routes. */
async function readBody(c: Context, route: RouteSpec, files: Map<string, File>): Promise<unknown> {
  const contentType = (c.req.header("content-type") ?? "").toLowerCase();
  const maxBytes = route.maxBodyBytes ?? defaultMaxBodyBytes;
  const declared = Number(c.req.header("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new AppError(
      "VALIDATION_ERROR",
      `The request body is ${declared} bytes; this endpoint accepts at most ${maxBytes} bytes`,
    );
  }
  if (contentType.startsWith("multipart/form-data")) {
    if (!route.multipart) {
      throw new AppError(
        "INVALID_REQUEST",
        "This endpoint takes a JSON body: send Content-Type: application/json",
      );
    }
    return readMultipart(c, files);
  }
  if (contentType !== "" && !contentType.includes("json") && !contentType.startsWith("text/plain")) {
    throw new AppError(
      "INVALID_REQUEST",
      `Unsupported Content-Type '${contentType}': send application/json${route.multipart ? " or multipart/form-data" : ""}`,
    );
  }
  const text = await readLimitedText(c, maxBytes);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError("INVALID_JSON", `Request body is not valid JSON: ${(error as Error).message}`);
  }
}

async function readLimitedText(c: Context, maxBytes: number): Promise<string> {
  const stream = c.req.raw.body;
  if (!stream) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new AppError(
        "VALIDATION_ERROR",
        `The request body exceeds ${maxBytes} bytes, the most this endpoint accepts`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** JSON-typed fields of an ingest item sent as form fields. */
const jsonFormFields = new Set(["metadata"]);
const numberFormFields = new Set(["duration_seconds"]);
const booleanFormFields = new Set(["pii_redacted"]);

async function readMultipart(c: Context, files: Map<string, File>): Promise<unknown> {
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch (error) {
    throw new AppError(
      "INVALID_REQUEST",
      `The multipart body could not be read: ${(error as Error).message}`,
    );
  }
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form.entries()) {
    if (typeof value !== "string") {
      files.set(name, value);
      continue;
    }
    if (jsonFormFields.has(name)) {
      try {
        fields[name] = JSON.parse(value);
      } catch (error) {
        throw new AppError(
          "INVALID_JSON",
          `The form field '${name}' is not valid JSON: ${(error as Error).message}`,
        );
      }
    } else if (numberFormFields.has(name) && /^-?\d+(\.\d+)?$/.test(value.trim())) {
      fields[name] = Number(value);
    } else if (booleanFormFields.has(name) && /^(true|false)$/i.test(value.trim())) {
      fields[name] = value.trim().toLowerCase() === "true";
    } else {
      fields[name] = value;
    }
  }
  return fields;
}

/** A zod object of path parameters that must be UUIDs (others answer NOT_FOUND). */
export function uuidParams<K extends string>(...names: K[]) {
  const shape = Object.fromEntries(
    names.map((name) => [
      name,
      z.string().regex(/^[0-9a-f-]{36}$/i, { error: `'{path}' is not a valid id` }),
    ]),
  ) as Record<K, z.ZodString>;
  return z.object(shape);
}
