import { AppError } from "../core/errors.ts";

/** Why a recording could not be decoded; each has its own message and stays in `details.reason`. */
export type MediaFailure =
  | "empty"
  | "truncated"
  | "corrupt"
  | "not_audio"
  | "unsupported"
  | "too_long"
  | "decoder_missing"
  | "decoder_failed"
  | "timeout";

/** A recording that cannot be analysed, with the reason a sender or operator can act on. */
export function mediaError(reason: MediaFailure, message: string, cause?: unknown): AppError {
  const code =
    reason === "decoder_missing"
      ? "ENGINE_UNAVAILABLE"
      : reason === "timeout"
        ? "ENGINE_FAILED"
        : "MEDIA_INVALID";
  return new AppError(code, message, {
    details: { reason },
    retryable: false,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The media failure reason carried by an error, if it is one. */
export function mediaFailureOf(error: unknown): MediaFailure | null {
  if (!(error instanceof AppError)) return null;
  const details = error.details as { reason?: MediaFailure } | undefined;
  return details?.reason ?? null;
}

/** 1,536,000 → "1.5 MB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

/** 5400 → "1 h 30 min". */
export function formatDuration(seconds: number): string {
  if (seconds >= 3600) {
    const h = Math.floor(seconds / 3600);
    const m = Math.round((seconds - h * 3600) / 60);
    return m > 0 ? `${h} h ${m} min` : `${h} h`;
  }
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds * 10) / 10} s`;
}
