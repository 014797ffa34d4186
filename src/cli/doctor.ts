import type { CqaConfig } from "../config/config.ts";
import { checkServer, detectEngines } from "../engines/engineSet.ts";
import { engineSettingsFrom } from "../server/analysisEngines.ts";

/**
 * `cqa doctor`: which analysis engines this machine has, and for each one missing, why and what to
 * install or set. Configured servers are called (GET /models) to see that they answer. Exits 0 when
 * everything essential works (optional engines may be missing), 1 otherwise.
 */
export async function runDoctor(config: CqaConfig, write: (text: string) => void): Promise<number> {
  const settings = engineSettingsFrom(config.analysis);
  const engines = await detectEngines(settings);
  const lines = ["cqa doctor — analysis engines on this machine", ""];
  for (const status of engines.statuses) {
    const mark = status.available ? "ok  " : status.essential ? "FAIL" : "--  ";
    lines.push(`${mark} ${status.name.padEnd(22)} ${status.detail}`);
  }
  const servers = [
    ["transcription server", settings.openai],
    ["llm server", settings.llm],
  ] as const;
  for (const [name, server] of servers) {
    if (server) lines.push(`     ${name.padEnd(22)} ${server.baseUrl} ${await checkServer(server)}`);
  }
  const broken = engines.statuses.filter((s) => s.essential && !s.available);
  lines.push(
    "",
    broken.length === 0
      ? "Everything essential works; '--' lines are optional extras."
      : "Fix the FAIL lines above.",
    "",
  );
  write(lines.join("\n"));
  return broken.length === 0 ? 0 : 1;
}
