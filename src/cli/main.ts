import { parseArgs } from "node:util";
import { loadConfig } from "../config/config.ts";
import { describeError, isAppError } from "../core/errors.ts";
import { startCqa } from "../server/runtime.ts";
import { cqaVersion } from "../server/version.ts";
import { runDemo } from "./demo.ts";
import { waitForSignal } from "./signals.ts";

const help = `cqa — conversation quality analysis for contact centres

Usage:
  cqa serve [--role all|api|worker] [--port N]   Run cqa (API, workers, webhooks) until stopped
  cqa demo                                        Run cqa on the embedded database and analyse sample calls
  cqa migrate                                     Bring the database schema up to date and exit
  cqa --version | --help

Configuration comes from environment variables (or a JSON file named by CQA_CONFIG_FILE):
  CQA_PORT (8080)            CQA_HOST (0.0.0.0)          CQA_DATA_DIR (./data)
  DATABASE_URL               PostgreSQL instead of the embedded database (postgres://…)
  CQA_DATABASE_SCHEMA        schema to use on PostgreSQL
  CQA_OPERATOR_TOKEN         bearer token for POST /api/v1/accounts (generated on first start if unset)
  CQA_SECRET_KEY             master key for secrets at rest (generated into the data dir if unset)
  CQA_FETCH_ALLOW            private hosts/CIDRs outbound fetches may reach, e.g. 127.0.0.1/8
  CQA_ROLE                   all | api | worker (api/worker need DATABASE_URL)
  CQA_WORKER_CONCURRENCY (4) CQA_PUBLIC_URL  CQA_LOG_LEVEL (info)  CQA_SHUTDOWN_GRACE_MS (10000)
  CQA_JOB_LEASE_MS (60000)   how soon another worker takes over the jobs of one that died

Docs: README.md, docs/architecture.md, /api/v1/openapi.json on a running server.
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      role: { type: "string" },
      port: { type: "string" },
    },
  });
  const command = positionals[0];
  if (values.help || command === "help") {
    process.stdout.write(help);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`cqa ${cqaVersion()}\n`);
    return 0;
  }
  const env = { ...process.env };
  if (values.role) env["CQA_ROLE"] = values.role;
  if (values.port) env["CQA_PORT"] = values.port;
  switch (command) {
    case "serve":
      return serveUntilStopped(env);
    case "demo":
      return runDemo(env);
    case "migrate": {
      const running = await startCqa({ config: loadConfig(env), listen: false, runLoops: false });
      process.stdout.write(`Database schema is up to date (${running.db.dialect}).\n`);
      await running.stop();
      return 0;
    }
    case undefined:
      process.stdout.write(help);
      return 1;
    default:
      process.stderr.write(`Unknown command '${command}'. Run 'cqa --help' for the commands.\n`);
      return 1;
  }
}

async function serveUntilStopped(env: NodeJS.ProcessEnv): Promise<number> {
  const running = await startCqa({ config: loadConfig(env) });
  const { config, secrets } = running;
  const lines = [
    `cqa ${cqaVersion()} listening on ${running.url} (role ${config.role}, ${running.db.dialect} database${config.databaseUrl ? "" : ` in ${config.dataDir}`})`,
  ];
  if (secrets.operatorTokenGenerated) {
    lines.push(
      `Operator token (shown once; kept in ${config.dataDir}/operator-token): ${secrets.operatorToken}`,
      `Create an account: curl -X POST ${running.url}/api/v1/accounts -H 'Authorization: Bearer <operator token>' -H 'Content-Type: application/json' -d '{"name":"My contact centre"}'`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  await waitForSignal();
  process.stdout.write("cqa stopping: finishing in-flight work…\n");
  await running.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`cqa: ${isAppError(error) ? error.message : describeError(error)}\n`);
    process.exit(isAppError(error) && error.code === "CONFIG_INVALID" ? 78 : 1);
  },
);
