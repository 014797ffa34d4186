import type { FileDefaults } from "./fileRows.ts";

/** File extensions `file_url` / `file_type` resolve to audio. */
export const audioFileTypes = ["mp3", "wav", "ogg", "flac", "m4a", "aac", "wma", "amr"] as const;
/** File extensions `file_url` / `file_type` resolve to a transcript. */
export const transcriptFileTypes = ["txt", "pdf", "doc", "docx", "srt", "vtt"] as const;

/** A row turned into a raw item, or why it cannot be. */
export type BuiltItem = { item: Record<string, unknown> } | { error: string };

/**
 * Finishes a row: resolves the `file_url` fallback, applies the request's defaults, and merges
 * metadata. `fields` holds canonical columns only; `metadata` is the row's metadata (anything, so
 * that validation can report a malformed one).
 */
export function buildItem(
  fields: Record<string, unknown>,
  metadata: unknown,
  defaults: FileDefaults | undefined,
): BuiltItem {
  const { file_url: fileUrl, file_type: fileType, ...item } = fields;
  if (isBlank(item["audio_url"]) && isBlank(item["transcript_url"]) && !isBlank(fileUrl)) {
    const resolved = resolveFileUrl(fileUrl, fileType);
    if ("error" in resolved) return resolved;
    item[resolved.field] = fileUrl;
  }
  if (defaults) {
    if (defaults.source !== undefined && isBlank(item["source"])) item["source"] = defaults.source;
    if (defaults.pii_redacted !== undefined && isAbsent(item["pii_redacted"])) {
      item["pii_redacted"] = defaults.pii_redacted;
    }
    if (defaults.callback_url !== undefined && isAbsent(item["callback_url"])) {
      item["callback_url"] = defaults.callback_url;
    }
  }
  const merged = mergeMetadata(defaults?.metadata, metadata);
  if (merged !== undefined) item["metadata"] = merged;
  return { item };
}

function mergeMetadata(defaults: FileDefaults["metadata"], row: unknown): unknown {
  if (isAbsent(row)) return defaults && Object.keys(defaults).length > 0 ? { ...defaults } : undefined;
  // A malformed metadata value is passed on untouched so that validation names it.
  if (typeof row !== "object" || Array.isArray(row)) return row;
  return defaults ? { ...defaults, ...row } : row;
}

function resolveFileUrl(fileUrl: unknown, fileType: unknown): { field: string } | { error: string } {
  if (typeof fileUrl !== "string") return { error: "file_url must be a string" };
  const typeGiven = typeof fileType === "string" && fileType.trim() !== "";
  const type = typeGiven ? fileType.trim().toLowerCase().replace(/^\./, "") : extensionOf(fileUrl);
  if ((audioFileTypes as readonly string[]).includes(type)) return { field: "audio_url" };
  if ((transcriptFileTypes as readonly string[]).includes(type)) return { field: "transcript_url" };
  const lists = `an audio type (${audioFileTypes.join(", ")}) or a transcript type (${transcriptFileTypes.join(", ")})`;
  if (type === "") {
    return {
      error: `file_url ${JSON.stringify(fileUrl)} has no file extension and no file_type was given; set file_type to ${lists}`,
    };
  }
  return {
    error: `The file type ${JSON.stringify(type)} (from ${typeGiven ? "file_type" : "file_url"}) is not supported; use ${lists}`,
  };
}

function extensionOf(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not a URL we can parse: take the text before any query or fragment.
    path = url.split(/[?#]/)[0] ?? "";
  }
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function isBlank(value: unknown): boolean {
  return isAbsent(value) || (typeof value === "string" && value.trim() === "");
}
