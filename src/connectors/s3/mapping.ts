import { posix } from "node:path";
import type { ListedObject } from "./client.ts";
import type { S3Config } from "./config.ts";

/** Extensions taken as recordings (as the Standard API's file format resolves file_type). */
export const audioExtensions = new Set([
  "wav",
  "mp3",
  "ogg",
  "oga",
  "opus",
  "flac",
  "m4a",
  "aac",
  "wma",
  "amr",
  "webm",
]);
/** Manifests in the Standard API's file format. */
export const manifestFormats: Record<string, "csv" | "ndjson"> = {
  csv: "csv",
  ndjson: "ndjson",
  jsonl: "ndjson",
};

/** One conversation of the input prefix: a JSON sidecar and/or a recording of the same base name. */
export interface ObjectPair {
  /** The key without its extension: `calls/2026/call-1`. */
  base: string;
  sidecar: ListedObject | null;
  audio: ListedObject | null;
}

/** What the input prefix holds, by kind; everything else (and the output prefix) is ignored. */
export interface InputListing {
  pairs: ObjectPair[];
  manifests: (ListedObject & { format: "csv" | "ndjson" })[];
}

const extensionOf = (key: string) => {
  const name = posix.basename(key);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
};

/** Sorts the listing into pairs (audio + sidecar) and manifests. */
export function classifyObjects(objects: readonly ListedObject[], config: S3Config): InputListing {
  const byBase = new Map<string, ObjectPair>();
  const manifests: InputListing["manifests"] = [];
  for (const object of objects) {
    if (object.key.startsWith(config.output_prefix)) continue;
    const extension = extensionOf(object.key);
    const base = extension ? object.key.slice(0, -(extension.length + 1)) : object.key;
    if (extension === "json" || audioExtensions.has(extension)) {
      const pair = byBase.get(base) ?? { base, sidecar: null, audio: null };
      if (extension === "json") pair.sidecar = object;
      // Two recordings of one name (call.wav and call.mp3): the first in key order is taken.
      else pair.audio ??= object;
      byBase.set(base, pair);
    } else if (manifestFormats[extension]) {
      manifests.push({ ...object, format: manifestFormats[extension]! });
    }
  }
  return { pairs: [...byBase.values()], manifests };
}

/** The default external id of a file: its key below the input prefix, without the extension. */
export function externalIdOf(base: string, config: S3Config): string {
  const relative = base.startsWith(config.input_prefix) ? base.slice(config.input_prefix.length) : base;
  return relative.replace(/^\/+/, "") || base;
}

/** Maps a sidecar (the Standard API item; any field may be left out) and its recording to an item. */
export function pairItem(
  sidecar: Record<string, unknown>,
  pair: Pick<ObjectPair, "base" | "audio">,
  config: S3Config,
): Record<string, unknown> {
  const item: Record<string, unknown> = { ...sidecar };
  if (item["external_interaction_id"] === undefined || item["external_interaction_id"] === null) {
    item["external_interaction_id"] = externalIdOf(pair.base, config);
  }
  item["channel_type"] ??= pair.audio ? "VOICE" : item["channel_type"];
  item["source"] ??= config.source;
  if (
    pair.audio &&
    (item["audio_url"] === undefined || item["audio_url"] === null || item["audio_url"] === "")
  ) {
    item["audio_url"] = `s3://${config.bucket}/${pair.audio.key}`;
    const extension = extensionOf(pair.audio.key);
    item["audio_format"] ??= extension.toUpperCase();
  }
  return item;
}

/** Whether a sidecar can stand alone (it names its content) when its recording is not there. */
export function hasOwnContent(sidecar: Record<string, unknown>): boolean {
  const filled = (field: string) =>
    typeof sidecar[field] === "string" && (sidecar[field] as string).trim() !== "";
  return filled("audio_url") || filled("transcript_url") || filled("transcript_text");
}

/**
 * A manifest row's audio_url / transcript_url may name objects of the bucket by key, relative to the
 * manifest's folder (`calls/a.wav`) or from the bucket's root (`/calls/a.wav`): they become s3:// URLs.
 */
export function resolveManifestUrls(
  item: Record<string, unknown>,
  manifestKey: string,
  bucket: string,
): Record<string, unknown> {
  const folder = posix.dirname(manifestKey);
  const resolve = (value: unknown) => {
    if (typeof value !== "string" || value.trim() === "") return value;
    return value
      .split(";")
      .map((part) => {
        const trimmed = part.trim();
        if (trimmed === "" || /^[a-z][a-z0-9+.-]*:/i.test(trimmed)) return trimmed;
        const key = trimmed.startsWith("/")
          ? trimmed.slice(1)
          : posix.normalize(posix.join(folder === "." ? "" : folder, trimmed));
        return `s3://${bucket}/${key}`;
      })
      .join(";");
  };
  return { ...item, audio_url: resolve(item["audio_url"]), transcript_url: resolve(item["transcript_url"]) };
}
