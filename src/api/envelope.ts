import {
  type ApiErrorCode,
  type AppError,
  apiErrorStatus,
  describeError,
  isAppError,
} from "../core/errors.ts";
import type { Logger } from "./services.ts";

/** `{ status, request_id, message?, data }` — the Standard API's success envelope. */
export function successResponse(
  status: number,
  requestId: string,
  data: unknown,
  message?: string,
): Response {
  const body: Record<string, unknown> = { status, request_id: requestId };
  if (message !== undefined) body["message"] = message;
  if (data !== undefined) body["data"] = data;
  return json(status, body, requestId);
}

/**
 * The one place errors become HTTP answers. API codes keep their status and message; anything else
 * is logged with its cause and answered as INTERNAL_ERROR without internals.
 */
export function errorResponse(error: unknown, requestId: string, log: Logger, where?: string): Response {
  const known = isAppError(error) && error.code in apiErrorStatus ? error : null;
  if (!known) {
    log.error("request failed", { request_id: requestId, where, error: describeError(error) });
    return errorBody(
      "INTERNAL_ERROR",
      "An unexpected error occurred; it was logged. Quote the request_id to support.",
      requestId,
    );
  }
  const code = known.code as ApiErrorCode;
  const response = errorBody(code, known.message, requestId, detailsOf(known));
  if (known.retryAfterSeconds !== undefined)
    response.headers.set("Retry-After", String(Math.ceil(known.retryAfterSeconds)));
  return response;
}

function detailsOf(error: AppError): unknown {
  const details = error.details as Record<string, unknown> | undefined;
  if (!details || typeof details !== "object") return undefined;
  return "errors" in details || "problems" in details ? details : undefined;
}

function errorBody(code: ApiErrorCode, message: string, requestId: string, details?: unknown): Response {
  const status = apiErrorStatus[code];
  const error: Record<string, unknown> = { code };
  if (details !== undefined) error["details"] = details;
  return json(status, { status, request_id: requestId, message, error }, requestId);
}

function json(status: number, body: unknown, requestId: string): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "x-request-id": requestId },
  });
}
