import { spawn, spawnSync } from "node:child_process";
import type { Readable } from "node:stream";
import { describeError } from "../core/errors.ts";
import { formatDuration, mediaError } from "./mediaError.ts";

/** Whether ffmpeg can be run, and its version line, or why not. */
export type ToolStatus =
  | { available: true; path: string; version: string }
  | { available: false; path: string; reason: string };

/** Runs `<path> -version` (5 s at most) to see whether ffmpeg is installed and works. */
export function probeFfmpeg(path: string): ToolStatus {
  const result = spawnSync(path, ["-hide_banner", "-version"], { timeout: 5_000, encoding: "utf8" });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === "ENOENT";
    return {
      available: false,
      path,
      reason: missing
        ? `'${path}' was not found: install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg) or set CQA_FFMPEG_PATH`
        : `'${path} -version' failed: ${describeError(result.error)}`,
    };
  }
  if (result.status !== 0) {
    return { available: false, path, reason: `'${path} -version' exited with status ${result.status}` };
  }
  return {
    available: true,
    path,
    version: (result.stdout.split("\n")[0] ?? "").replace(/ Copyright.*$/, "").trim(),
  };
}

/** A running ffmpeg decode: its WAV output, and how it ended. */
export interface FfmpegDecode {
  /** 16-bit PCM WAV with the recording's own channels and sample rate (size fields unknown: streamed). */
  output: Readable;
  /** Resolves when ffmpeg exits cleanly; rejects with a media error naming what went wrong. */
  finished: Promise<void>;
  kill(): void;
}

/**
 * Decodes the first audio stream of a file with ffmpeg into a WAV stream on stdout. Bounded: at most
 * `maxSeconds` (+1, so a longer file can be recognised as too long) and `timeoutMs` of wall time,
 * after which ffmpeg is killed and the decode fails with its own reason.
 */
export function decodeWithFfmpeg(
  ffmpegPath: string,
  inputPath: string,
  container: string,
  options: { maxSeconds: number; timeoutMs: number },
): FfmpegDecode {
  const args = [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-i",
    inputPath,
    "-map",
    "0:a:0",
    "-vn",
    "-t",
    String(options.maxSeconds + 1),
    "-acodec",
    "pcm_s16le",
    "-f",
    "wav",
    "pipe:1",
  ];
  const child = spawn(ffmpegPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    stderr = (stderr + text).slice(-4_000);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  const finished = new Promise<void>((resolve, reject) => {
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? mediaError(
              "decoder_missing",
              `The recording is ${container}; cqa needs ffmpeg to decode it and '${ffmpegPath}' was not found. Install ffmpeg (apt-get install ffmpeg) or set CQA_FFMPEG_PATH`,
              error,
            )
          : mediaError("decoder_failed", `ffmpeg could not be started: ${describeError(error)}`, error),
      );
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          mediaError(
            "timeout",
            `Decoding the ${container} recording with ffmpeg took longer than ${formatDuration(options.timeoutMs / 1000)} and was stopped`,
          ),
        );
      } else if (truncation.test(stderr)) {
        reject(
          mediaError(
            "truncated",
            `The ${container} recording is truncated (the file was cut off, or fetched while still being written): ${lastLines(stderr)}`,
          ),
        );
      } else if (code === 0) {
        resolve();
      } else {
        const detail = lastLines(stderr) || (signal ? `killed by ${signal}` : `exit status ${code}`);
        reject(
          mediaError(
            "corrupt",
            `ffmpeg could not decode the ${container} recording (corrupt, or not what it claims to be): ${detail}`,
          ),
        );
      }
    });
  });
  return {
    output: child.stdout,
    finished,
    kill: () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** What ffmpeg says about a file that ends too early (it decodes what is there and exits 0). */
const truncation =
  /partial file|moov atom not found|Input buffer exhausted|truncated|unexpected end of file/i;

function lastLines(text: string): string {
  return text
    .trim()
    .split("\n")
    .slice(-3)
    .map((line) => line.replace(/^\[[^\]]+\]\s*/, "").trim())
    .filter((line) => line.length > 0)
    .join("; ")
    .slice(0, 500);
}
