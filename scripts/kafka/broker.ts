// A real Apache Kafka broker for cqa's tests, benchmarks and local trials: the release pinned in
// scripts/kafka/pom.xml, resolved from Maven Central by Maven, run as one KRaft node (broker and
// controller) on loopback on free ports. Optionally SASL (PLAIN and SCRAM-SHA-256/512, JAAS users
// given here) with ACLs enforced, and TLS (SSL, or SASL_SSL with SASL; PKCS12 stores given here, see
// certificates.ts), with a second listener that requires a client certificate (mutual TLS).
//
//   node scripts/kafka/broker.ts                 # plaintext broker, prints its address, Ctrl-C stops it
//   node scripts/kafka/broker.ts --port 9092     # on a fixed port
//   node scripts/kafka/broker.ts --sasl          # SASL_PLAINTEXT, users admin/admin-secret and cqa/cqa-secret
//   node scripts/kafka/broker.ts --tls           # SSL (SASL_SSL with --sasl) with a new test CA, plus a mutual-TLS listener
//   node scripts/kafka/broker.ts --classpath     # only resolve the release (prints the classpath)
//
// Tests import startKafkaBroker(); the broker (and a watchdog that kills it if this process dies
// without stopping it) is a child process, stopped with stop() or kill().
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestCertificates } from "./certificates.ts";

const here = dirname(fileURLToPath(import.meta.url));
const pom = join(here, "pom.xml");
const cacheDir = join(here, "..", "..", "node_modules", ".cache", "cqa-kafka");

/** The Kafka release the pom pins (for reports). */
export const kafkaVersion =
  /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, "utf8"))?.[1] ?? "?";

/** SASL users of a broker started with `sasl`: name → password. `admin` is the super user. */
export interface SaslUsers {
  [name: string]: string;
}

export interface KafkaBrokerOptions {
  /** Listen on this port (default: a free one). The controller takes another free port. */
  port?: number;
  /** SASL_PLAINTEXT with PLAIN and SCRAM-SHA-256/512 for these users (plus `admin`). */
  sasl?: { users: SaslUsers; acls?: boolean };
  /** Keep the log here (default: a fresh temporary folder, removed by stop()). */
  dataDir?: string;
  /** Largest record the broker accepts (default 10 MiB, so tests can send oversized events). */
  maxMessageBytes?: number;
  /** TLS on the client listener: SSL, or SASL_SSL together with `sasl`. */
  tls?: KafkaBrokerTls;
}

/** The broker's TLS material (PKCS12 files, e.g. from createTestCertificates()). */
export interface KafkaBrokerTls {
  /** The broker's certificate and key. */
  keystore: string;
  /** The CA(s) client certificates must chain to (mutual TLS). */
  truststore: string;
  /** Password of both stores. */
  password: string;
  /** Also open an SSL listener that requires a client certificate: `KafkaBroker.mutualTlsBootstrap`. */
  mutualTlsListener?: boolean;
}

/** A running broker. */
export interface KafkaBroker {
  /** `127.0.0.1:<port>`. */
  bootstrap: string;
  port: number;
  /** The security protocol of `bootstrap`: PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL. */
  protocol: string;
  /** `127.0.0.1:<port>` of the listener that requires a client certificate, when asked for. */
  mutualTlsBootstrap: string | null;
  /** The super user's credentials when SASL is on. */
  admin: { username: string; password: string } | null;
  /** Stops cleanly (SIGTERM, then SIGKILL after 30 s) and removes a temporary data folder. */
  stop(): Promise<void>;
  /** Stops the broker but keeps its data and ports, for `restart()`. */
  halt(): Promise<void>;
  /** Starts it again on the same ports and data after `halt()`. */
  restart(): Promise<void>;
  /** The end of the broker's own log, for failure reports. */
  logTail(lines?: number): string;
}

const adminUser = { username: "admin", password: "admin-secret" };

/** Resolves the pinned release with Maven (once; cached by the pom's hash) and returns its classpath. */
export function kafkaClasspath(): string {
  const hash = createHash("sha256").update(readFileSync(pom)).digest("hex").slice(0, 16);
  const cached = join(cacheDir, `classpath-${hash}.txt`);
  if (existsSync(cached)) {
    const classpath = readFileSync(cached, "utf8").trim();
    if (classpath.split(":").every((jar) => existsSync(jar))) return classpath;
  }
  mkdirSync(cacheDir, { recursive: true });
  // Test files start brokers side by side: one Maven at a time fills the local repository.
  const lock = join(cacheDir, "resolve.lock");
  const waitUntil = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > waitUntil) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
    if (existsSync(cached)) return kafkaClasspath();
  }
  const output = `${cached}.${process.pid}.tmp`;
  try {
    execFileSync(
      "mvn",
      ["-q", "-B", "-f", pom, "dependency:build-classpath", `-Dmdep.outputFile=${output}`],
      { stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 },
    );
  } catch (error) {
    const detail = error as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(
      `Maven could not resolve Apache Kafka ${kafkaVersion} (is 'mvn' installed and Maven Central reachable?): ` +
        `${detail.stdout?.toString() ?? ""}${detail.stderr?.toString() ?? detail.message}`,
    );
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  renameSync(output, cached);
  return readFileSync(cached, "utf8").trim();
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The client listener's security protocol (and listener name). */
function protocolOf(options: { sasl?: unknown; tls?: unknown }): string {
  return `${options.sasl ? "SASL_" : ""}${options.tls ? "SSL" : "PLAINTEXT"}`;
}

function serverProperties(options: {
  port: number;
  controllerPort: number;
  mutualTlsPort: number | null;
  logDir: string;
  sasl: KafkaBrokerOptions["sasl"];
  tls: KafkaBrokerOptions["tls"];
  maxMessageBytes: number;
}): string {
  const { port, controllerPort, mutualTlsPort, sasl, tls } = options;
  const listener = protocolOf(options);
  const mutual = mutualTlsPort === null ? [] : [`MTLS://127.0.0.1:${mutualTlsPort}`];
  const lines = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${[`${listener}://127.0.0.1:${port}`, ...mutual, `CONTROLLER://127.0.0.1:${controllerPort}`].join(",")}`,
    `advertised.listeners=${[`${listener}://127.0.0.1:${port}`, ...mutual].join(",")}`,
    "controller.listener.names=CONTROLLER",
    `listener.security.protocol.map=${listener}:${listener},${mutual.length > 0 ? "MTLS:SSL," : ""}CONTROLLER:PLAINTEXT`,
    `inter.broker.listener.name=${listener}`,
    `log.dirs=${options.logDir}`,
    // One node: every internal topic has one replica, and small ones start faster.
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=4",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=4",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    // Consumer sessions as short as tests like them.
    "group.min.session.timeout.ms=1000",
    // Topics are created on purpose, as on a customer's cluster.
    "auto.create.topics.enable=false",
    "num.partitions=1",
    `message.max.bytes=${options.maxMessageBytes}`,
    `replica.fetch.max.bytes=${options.maxMessageBytes}`,
    "num.network.threads=2",
    "num.io.threads=4",
    "log.flush.interval.messages=9223372036854775807",
  ];
  if (tls) {
    lines.push(
      "ssl.keystore.type=PKCS12",
      `ssl.keystore.location=${tls.keystore}`,
      `ssl.keystore.password=${tls.password}`,
      `ssl.key.password=${tls.password}`,
      "ssl.truststore.type=PKCS12",
      `ssl.truststore.location=${tls.truststore}`,
      `ssl.truststore.password=${tls.password}`,
      "ssl.client.auth=none",
    );
    if (mutualTlsPort !== null) lines.push("listener.name.mtls.ssl.client.auth=required");
  }
  if (sasl) {
    const users = { ...sasl.users, [adminUser.username]: adminUser.password };
    const plainUsers = Object.entries(users)
      .map(([name, password]) => `user_${name}="${password}"`)
      .join(" ");
    const prefix = `listener.name.${listener.toLowerCase()}`;
    lines.push(
      "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
      "sasl.mechanism.inter.broker.protocol=PLAIN",
      `${prefix}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ` +
        `username="${adminUser.username}" password="${adminUser.password}" ${plainUsers};`,
      `${prefix}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
      `${prefix}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    );
    if (sasl.acls) {
      lines.push(
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        // The controller listener is PLAINTEXT on loopback: its principal is ANONYMOUS.
        `super.users=User:${adminUser.username};User:ANONYMOUS`,
        "allow.everyone.if.no.acl.found=false",
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Formats the storage of a new node (and adds SCRAM credentials), as `kafka-storage.sh format` does. */
function formatStorage(classpath: string, properties: string, sasl: KafkaBrokerOptions["sasl"]): void {
  const scram = sasl
    ? Object.entries({ ...sasl.users, [adminUser.username]: adminUser.password }).flatMap(
        ([name, password]) => [
          "--add-scram",
          `SCRAM-SHA-256=[name=${name},password=${password}]`,
          "--add-scram",
          `SCRAM-SHA-512=[name=${name},password=${password}]`,
        ],
      )
    : [];
  const clusterId = createHash("sha256").update(properties).digest("base64url").slice(0, 22);
  execFileSync(
    "java",
    [
      "-cp",
      classpath,
      "kafka.tools.StorageTool",
      "format",
      `--cluster-id=${clusterId}`,
      "-c",
      properties,
      ...scram,
    ],
    { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 },
  );
}

/** Starts one KRaft broker on loopback; resolves once it serves clients. */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const classpath = kafkaClasspath();
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "cqa-kafka-"));
  mkdirSync(dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  let mutualTlsPort: number | null = null;
  if (options.tls?.mutualTlsListener) {
    mutualTlsPort = await freePort();
    while (mutualTlsPort === port || mutualTlsPort === controllerPort) mutualTlsPort = await freePort();
  }
  const propertiesFile = join(dataDir, "server.properties");
  const logFile = join(dataDir, "broker.log");
  writeFileSync(
    propertiesFile,
    serverProperties({
      port,
      controllerPort,
      mutualTlsPort,
      logDir: join(dataDir, "log"),
      sasl: options.sasl,
      tls: options.tls,
      maxMessageBytes: options.maxMessageBytes ?? 10 * 1024 * 1024,
    }),
  );
  formatStorage(classpath, propertiesFile, options.sasl);

  let java: ChildProcess | null = null;
  let watchdog: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    const log = openSync(logFile, "a");
    const logStart = statSync(logFile).size;
    const child = spawn(
      "java",
      [
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        "-cp",
        classpath,
        "kafka.Kafka",
        propertiesFile,
      ],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    java = child;
    exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // Kills the broker if this process dies without stopping it (a test runner killed mid-run).
    watchdog = spawn(
      "sh",
      [
        "-c",
        `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill -9 ${child.pid} 2>/dev/null`,
      ],
      { stdio: "ignore", detached: true },
    );
    watchdog.unref();
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`The Kafka broker exited while starting:\n${logTail(logFile, 40)}`);
      }
      if (logSince(logFile, logStart).includes("Kafka Server started")) return;
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`The Kafka broker did not start within 120 s:\n${logTail(logFile, 40)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const halt = async () => {
    const child = java;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
    (watchdog as ChildProcess | null)?.kill("SIGKILL");
  };
  const killOnExit = () => {
    (java as ChildProcess | null)?.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  await launch();
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    protocol: protocolOf(options),
    mutualTlsBootstrap: mutualTlsPort === null ? null : `127.0.0.1:${mutualTlsPort}`,
    admin: options.sasl ? adminUser : null,
    async stop() {
      await halt();
      process.removeListener("exit", killOnExit);
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    },
    halt,
    async restart() {
      await halt();
      await launch();
    },
    logTail: (lines = 40) => logTail(logFile, lines),
  };
}

function logSince(file: string, offset: number): string {
  const fd = openSync(file, "r");
  try {
    const size = statSync(file).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

// As a command: start a broker for local use and keep it running until Ctrl-C.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const index = args.indexOf(name);
    return index >= 0 ? args[index + 1] : undefined;
  };
  if (args.includes("--classpath")) {
    console.log(kafkaClasspath());
  } else {
    const sasl = args.includes("--sasl") ? { users: { cqa: "cqa-secret" } } : undefined;
    const port = value("--port");
    const dataDir = value("--data");
    // --tls: a new test CA and certificates, kept beside the data (or in a temporary folder).
    const temporaryCertificates =
      args.includes("--tls") && !dataDir ? mkdtempSync(join(tmpdir(), "cqa-kafka-certs-")) : null;
    const certificatesDir = args.includes("--tls")
      ? join(dataDir ?? temporaryCertificates ?? "", "certificates")
      : null;
    const certificates = certificatesDir ? createTestCertificates(certificatesDir) : null;
    console.log(`Starting Apache Kafka ${kafkaVersion} (first run downloads it with Maven)…`);
    const broker = await startKafkaBroker({
      ...(port ? { port: Number(port) } : {}),
      ...(sasl ? { sasl } : {}),
      ...(dataDir ? { dataDir } : {}),
      ...(certificates ? { tls: { ...certificates.broker, mutualTlsListener: true } } : {}),
    });
    console.log(`Kafka ${kafkaVersion} is listening on ${broker.bootstrap} (${broker.protocol})`);
    if (sasl) console.log("SASL users: admin / admin-secret (super user), cqa / cqa-secret");
    if (certificatesDir && broker.mutualTlsBootstrap) {
      console.log(`Mutual TLS (a client certificate required) on ${broker.mutualTlsBootstrap} (SSL)`);
      console.log(`CA (tls.ca): ${join(certificatesDir, "ca.pem")}`);
      console.log(
        `Client certificate (tls.cert, tls.key): ${join(certificatesDir, "client.pem")}, ${join(certificatesDir, "client.key")}`,
      );
    }
    console.log("Press Ctrl-C to stop it.");
    const shutdown = () => {
      if (temporaryCertificates) rmSync(temporaryCertificates, { recursive: true, force: true });
      broker.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  }
}
