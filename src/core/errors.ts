/** Error codes of the public API, with the HTTP status each one answers with. */
export const apiErrorStatus = {
  VALIDATION_ERROR: 400,
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  DUPLICATE: 409,
  RATE_LIMIT_EXCEEDED: 429,
  TOO_MANY_JOBS: 429,
  CONVERSATION_CAP_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
} as const;

export type ApiErrorCode = keyof typeof apiErrorStatus;

/** Codes that never reach an HTTP client as such; the API layer answers them as INTERNAL_ERROR. */
export type InternalErrorCode =
  | "CONFIG_INVALID"
  | "STORAGE_ERROR"
  | "FETCH_REFUSED"
  | "FETCH_FAILED"
  | "MEDIA_NOT_READY"
  | "MEDIA_INVALID"
  | "ENGINE_UNAVAILABLE"
  | "ENGINE_FAILED"
  | "TRANSCRIPT_INVALID"
  | "ANALYSIS_FAILED"
  | "DELIVERY_FAILED";

export type ErrorCode = ApiErrorCode | InternalErrorCode;

/** Whose fault an error is: the sender's input, the environment, or a bug. */
export type ErrorFault = "user" | "operational" | "unexpected";

export interface AppErrorOptions {
  cause?: unknown;
  /** Whether trying the same thing again later may succeed. */
  retryable?: boolean;
  /** Structured detail safe to show to the caller (e.g. per-item errors). */
  details?: unknown;
  /** For 429s and transient failures: when to try again. */
  retryAfterSeconds?: number;
}

/** The one exception type of cqa: a stable code, a message that says what to do, and a cause. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get fault(): ErrorFault {
    return faultOf(this.code);
  }
}

/** Classifies a code by whose fault it is. */
export function faultOf(code: ErrorCode): ErrorFault {
  switch (code) {
    case "VALIDATION_ERROR":
    case "INVALID_JSON":
    case "INVALID_REQUEST":
    case "UNAUTHORIZED":
    case "FORBIDDEN":
    case "NOT_FOUND":
    case "DUPLICATE":
    case "RATE_LIMIT_EXCEEDED":
    case "TOO_MANY_JOBS":
    case "CONVERSATION_CAP_EXCEEDED":
    case "CONFIG_INVALID":
    case "MEDIA_INVALID":
    case "TRANSCRIPT_INVALID":
    case "FETCH_REFUSED":
      return "user";
    case "STORAGE_ERROR":
    case "FETCH_FAILED":
    case "MEDIA_NOT_READY":
    case "DELIVERY_FAILED":
    case "ENGINE_UNAVAILABLE":
    case "ENGINE_FAILED":
      return "operational";
    case "INTERNAL_ERROR":
    case "ANALYSIS_FAILED":
      return "unexpected";
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** A readable one-line description of any thrown value, following `cause` chains. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.filter((p) => p.length > 0).join(": caused by: ");
}
