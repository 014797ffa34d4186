/** What the first bytes of a file say it is. */
export type SniffedFormat =
  | { kind: "wav"; container: "wav" | "rf64" }
  | { kind: "audio"; container: string }
  | { kind: "not-audio"; looksLike: string }
  | { kind: "unknown" };

const ascii = (bytes: Buffer, start: number, length: number) =>
  bytes.subarray(start, start + length).toString("latin1");

/**
 * Recognises a recording's container from its first bytes (16 are enough), so a file is decoded by
 * what it is rather than by its name or Content-Type, and a web page or a PDF sent as "audio" is
 * refused with a reason instead of being fed to a decoder.
 */
export function sniffFormat(head: Buffer): SniffedFormat {
  if (head.length >= 12 && ascii(head, 8, 4) === "WAVE") {
    const riff = ascii(head, 0, 4);
    if (riff === "RIFF") return { kind: "wav", container: "wav" };
    if (riff === "RF64" || riff === "BW64") return { kind: "wav", container: "rf64" };
  }
  if (ascii(head, 0, 4) === "RIFX") return { kind: "audio", container: "wav (big-endian RIFX)" };
  if (ascii(head, 0, 3) === "ID3") return { kind: "audio", container: "mp3" };
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) {
    // MPEG audio frame sync (MP3) or ADTS AAC (0xFFF1 / 0xFFF9).
    return { kind: "audio", container: (head[1]! & 0x06) === 0 ? "aac" : "mp3" };
  }
  if (ascii(head, 0, 4) === "OggS") return { kind: "audio", container: "ogg" };
  if (ascii(head, 0, 4) === "fLaC") return { kind: "audio", container: "flac" };
  if (ascii(head, 4, 4) === "ftyp") return { kind: "audio", container: "m4a" };
  if (ascii(head, 0, 5) === "#!AMR") return { kind: "audio", container: "amr" };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return { kind: "audio", container: "webm" };
  if (ascii(head, 0, 4) === "FORM" && /^AIF[FC]$/.test(ascii(head, 8, 4)))
    return { kind: "audio", container: "aiff" };
  if (ascii(head, 0, 4) === ".snd") return { kind: "audio", container: "au" };
  if (ascii(head, 0, 4) === "caff") return { kind: "audio", container: "caf" };
  if (head.length >= 16 && head.subarray(0, 16).equals(asfGuid)) return { kind: "audio", container: "wma" };
  return sniffNotAudio(head);
}

const asfGuid = Buffer.from("3026b2758e66cf11a6d900aa0062ce6c", "hex");

function sniffNotAudio(head: Buffer): SniffedFormat {
  const start = ascii(head, 0, 16).trimStart().toLowerCase();
  if (start.startsWith("<!doctype html") || start.startsWith("<html")) {
    return {
      kind: "not-audio",
      looksLike: "an HTML page (often a login or error page served instead of the file)",
    };
  }
  if (start.startsWith("<?xml") || start.startsWith("<"))
    return { kind: "not-audio", looksLike: "an XML document" };
  if (start.startsWith("{") || start.startsWith("["))
    return { kind: "not-audio", looksLike: "a JSON document" };
  if (ascii(head, 0, 5) === "%PDF-") return { kind: "not-audio", looksLike: "a PDF document" };
  if (ascii(head, 0, 4) === "PK\u0003\u0004") return { kind: "not-audio", looksLike: "a ZIP archive" };
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b)
    return { kind: "not-audio", looksLike: "a gzip archive" };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x89504e47)
    return { kind: "not-audio", looksLike: "a PNG image" };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return { kind: "not-audio", looksLike: "a JPEG image" };
  }
  if (
    head.length > 0 &&
    [...head.subarray(0, 16)].every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))
  ) {
    return { kind: "not-audio", looksLike: "a text file" };
  }
  return { kind: "unknown" };
}
