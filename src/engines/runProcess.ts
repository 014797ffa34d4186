import { spawn } from "node:child_process";
import { AppError, describeError } from "../core/errors.ts";

export interface ProcessResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs a command to completion with a wall-time limit and a cap on what it may print, so a stuck
 * or runaway engine can never hang or flood the worker. Killed → ENGINE_FAILED with the reason.
 */
export async function runProcess(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; maxOutputBytes?: number; what: string },
): Promise<ProcessResult> {
  const maxOutput = options.maxOutputBytes ?? 32 * 1024 * 1024;
  return new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    let killedFor: string | null = null;
    const kill = (reason: string) => {
      killedFor ??= reason;
      child.kill("SIGKILL");
    };
    child.stdout.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxOutput) kill(`it printed more than ${Math.round(maxOutput / 1024 / 1024)} MB`);
      else out.push(chunk);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      err = (err + text).slice(-8_000);
    });
    const timer = setTimeout(
      () => kill(`it ran longer than ${Math.round(options.timeoutMs / 1000)} s`),
      options.timeoutMs,
    );
    child.once("error", (error) => {
      clearTimeout(timer);
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      reject(
        new AppError(
          missing ? "ENGINE_UNAVAILABLE" : "ENGINE_FAILED",
          missing
            ? `${options.what}: '${command}' was not found`
            : `${options.what} could not be started: ${describeError(error)}`,
          { cause: error },
        ),
      );
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (killedFor !== null) {
        reject(
          new AppError("ENGINE_FAILED", `${options.what} was stopped: ${killedFor}`, { retryable: false }),
        );
        return;
      }
      resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: err, code });
    });
  });
}
