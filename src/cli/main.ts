import { parseArgs } from "node:util";
import { loadConfig } from "../config/config.ts";
import { describeError, isAppError } from "../core/errors.ts";
import { startCqa } from "../server/runtime.ts";
import { cqaVersion } from "../server/version.ts";
import { runDemo } from "./demo.ts";
import { runDoctor } from "./doctor.ts";
import { waitForSignal } from "./signals.ts";

const help = `cqa — conversation quality analysis for contact centres

Usage:
  cqa serve [--role all|api|worker] [--port N]   Run cqa (API, workers, webhooks) until stopped
  cqa demo                                        Run cqa on the embedded database and analyse sample calls
  cqa migrate                                     Bring the database schema up to date and exit
  cqa doctor                                      Say which analysis engines this machine has, and why not
  cqa --version | --help

Configuration comes from environment variables (or a JSON file named by CQA_CONFIG_FILE):
  CQA_PORT (8080)            CQA_HOST (0.0.0.0)          CQA_DATA_DIR (./data)
  DATABASE_URL               PostgreSQL instead of the embedded database (postgres://…)
  CQA_DATABASE_SCHEMA        schema to use on PostgreSQL
  CQA_DATABASE_PREPARED_STATEMENTS (on)   off behind PgBouncer in transaction mode before 1.21
  CQA_OPERATOR_TOKEN         bearer token for POST /api/v1/accounts (generated on first start if unset)
  CQA_SECRET_KEY             master key for secrets at rest (generated into the data dir if unset)
  CQA_FETCH_ALLOW            private hosts/CIDRs outbound fetches may reach, e.g. 127.0.0.1/8
  CQA_ROLE                   all | api | worker (api/worker need DATABASE_URL)
  CQA_WORKER_CONCURRENCY (4) CQA_PUBLIC_URL  CQA_LOG_LEVEL (info)  CQA_SHUTDOWN_GRACE_MS (10000)
  CQA_JOB_LEASE_MS (60000)   how soon another worker takes over the jobs of one that died
  CQA_SFTP_PORT (2222)       SFTP endpoint for ECC4x VLA reports (0 = any free port, off = none)

Where recordings and files are kept (default: the filesystem, CQA_BLOB_DIR = <data dir>/blobs):
  CQA_BLOB_URL               s3://bucket/prefix: keep them in S3 or an S3-compatible server instead
  CQA_BLOB_S3_ENDPOINT       URL of an S3-compatible server (MinIO, Ceph…); unset for AWS
  CQA_BLOB_S3_REGION (us-east-1)   CQA_BLOB_S3_PATH_STYLE (true with an endpoint)
  CQA_BLOB_S3_ACCESS_KEY_ID  CQA_BLOB_S3_SECRET_ACCESS_KEY  CQA_BLOB_S3_SESSION_TOKEN (else the AWS default chain)

Analysis engines (docs/analysis.md; 'cqa doctor' checks them):
  CQA_TRANSCRIBER (auto)     auto | none | pocketsphinx | openai: engine for audio-only calls
  CQA_FFMPEG_PATH (ffmpeg)   decodes MP3, OGG, FLAC, M4A, AMR… (WAV needs nothing)
  CQA_POCKETSPHINX_BIN (pocketsphinx_continuous)   CQA_POCKETSPHINX_MODEL (/usr/share/pocketsphinx/model/en-us)
  CQA_MAX_AUDIO_SECONDS (14400)  longest recording analysed
  CQA_TRANSCRIBE_URL         OpenAI-compatible server, e.g. https://api.openai.com/v1 or http://whisper:8080/v1
  CQA_TRANSCRIBE_API_KEY  CQA_TRANSCRIBE_MODEL (whisper-1)  CQA_TRANSCRIBE_TIMEOUT_MS (300000)  CQA_TRANSCRIBE_MAX_PER_MINUTE
  CQA_LLM_URL                OpenAI-compatible chat server for 'llm' KPIs
  CQA_LLM_API_KEY  CQA_LLM_MODEL  CQA_LLM_TIMEOUT_MS (60000)  CQA_LLM_MAX_PER_MINUTE

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
    case "doctor":
      return runDoctor(loadConfig(env), (text) => process.stdout.write(text));
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
  if (running.sftp) {
    lines.push(`SFTP endpoint on port ${running.sftp.port} (host key ${running.sftp.hostKeyFingerprint})`);
  }
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
