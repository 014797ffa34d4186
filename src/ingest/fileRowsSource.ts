import { AppError } from "../core/errors.ts";

/** A file row before defaults: canonical fields and metadata, or why the row is unusable. */
export type RawRow =
  | { line: number; fields: Record<string, unknown>; metadata: unknown }
  | { line: number; error: string; externalInteractionId: string | null };

/** An external id as the error report shows it: text or a number, otherwise none. */
export function externalIdOf(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * The file as UTF-8 text, chunk by chunk, without a leading byte order mark. Invalid UTF-8 fails the
 * whole file: replacing bytes silently would corrupt ids and names (Excel's "CSV" is often
 * Windows-1252, and "CSV UTF-8" fixes it).
 */
export async function* decodeText(source: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let atStart = true;
  let bytesRead = 0;
  for await (const chunk of source) {
    let text: string;
    try {
      text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    } catch (error) {
      throw notUtf8(bytesRead, error);
    }
    bytesRead += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    if (atStart && text.length > 0) {
      atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length > 0) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch (error) {
    throw notUtf8(bytesRead, error);
  }
  if (rest.length > 0) yield rest;
}

function notUtf8(offset: number, cause: unknown): AppError {
  return new AppError(
    "VALIDATION_ERROR",
    `The file is not UTF-8 text (invalid bytes after byte ${offset}); save it as UTF-8 ` +
      '(in Excel: "CSV UTF-8") and submit it again',
    { cause },
  );
}
