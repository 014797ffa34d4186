// Certificates for a TLS Kafka broker in tests and local trials, made with the machine's `openssl` and
// Java's `keytool`: a CA, the broker's certificate (for 127.0.0.1 and localhost) in a PKCS12 keystore,
// a PKCS12 truststore holding the CA (the broker checks client certificates against it), a client
// certificate for mutual TLS, and a second, unrelated CA and client certificate that the broker and
// the clients must refuse. Everything is valid for two days and lives in the folder given.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Files and PEM texts of {@link createTestCertificates}. */
export interface TestCertificates {
  /** The CA that signed the broker's and the client's certificates (PEM). */
  ca: string;
  /** A CA that signed neither: a client trusting only it must refuse the broker (PEM). */
  otherCa: string;
  /** A client certificate signed by the CA, with its key (PEM), for mutual TLS. */
  client: { cert: string; key: string };
  /** A client certificate signed by the other CA, with its key (PEM): the broker must refuse it. */
  strangerClient: { cert: string; key: string };
  /** The broker's side: PKCS12 keystore (its certificate and key) and truststore (the CA). */
  broker: { keystore: string; truststore: string; password: string };
}

function run(command: string, args: readonly string[]): void {
  try {
    execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  } catch (error) {
    const detail = error as { stderr?: Buffer; message: string };
    throw new Error(
      `'${command} ${args.slice(0, 2).join(" ")}' failed (is ${command} installed?): ${detail.stderr?.toString() ?? detail.message}`,
    );
  }
}

/** A new P-256 key and a self-signed CA certificate. */
function makeCa(dir: string, name: string, subject: string): void {
  run("openssl", [
    "req",
    "-x509",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    join(dir, `${name}.key`),
    "-out",
    join(dir, `${name}.pem`),
    "-days",
    "2",
    "-subj",
    subject,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/** A new P-256 key and a certificate for it signed by the CA `ca`, with the extensions given. */
function makeLeaf(dir: string, name: string, ca: string, subject: string, extensions: string[]): void {
  run("openssl", [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    join(dir, `${name}.key`),
    "-out",
    join(dir, `${name}.csr`),
    "-subj",
    subject,
  ]);
  const extfile = join(dir, `${name}.ext`);
  writeFileSync(extfile, `${extensions.join("\n")}\n`);
  run("openssl", [
    "x509",
    "-req",
    "-in",
    join(dir, `${name}.csr`),
    "-CA",
    join(dir, `${ca}.pem`),
    "-CAkey",
    join(dir, `${ca}.key`),
    "-CAcreateserial",
    "-out",
    join(dir, `${name}.pem`),
    "-days",
    "2",
    "-extfile",
    extfile,
  ]);
}

/** Makes a CA, the broker's keystore and truststore, and client certificates in `dir`. */
export function createTestCertificates(dir: string): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const password = "cqa-test-store";
  makeCa(dir, "ca", "/CN=cqa test CA");
  makeCa(dir, "other-ca", "/CN=Some other CA");
  makeLeaf(dir, "broker", "ca", "/CN=localhost", [
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "keyUsage=critical,digitalSignature",
    // The broker also presents it when it connects to its own listener.
    "extendedKeyUsage=serverAuth,clientAuth",
  ]);
  makeLeaf(dir, "client", "ca", "/CN=cqa", [
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=clientAuth",
  ]);
  makeLeaf(dir, "stranger", "other-ca", "/CN=stranger", [
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=clientAuth",
  ]);
  const keystore = join(dir, "broker.keystore.p12");
  const truststore = join(dir, "broker.truststore.p12");
  run("openssl", [
    "pkcs12",
    "-export",
    "-in",
    join(dir, "broker.pem"),
    "-inkey",
    join(dir, "broker.key"),
    "-certfile",
    join(dir, "ca.pem"),
    "-name",
    "broker",
    "-out",
    keystore,
    "-passout",
    `pass:${password}`,
  ]);
  // A truststore needs trusted-certificate entries, which keytool writes (openssl does not).
  run("keytool", [
    "-importcert",
    "-noprompt",
    "-alias",
    "cqa-test-ca",
    "-file",
    join(dir, "ca.pem"),
    "-keystore",
    truststore,
    "-storetype",
    "PKCS12",
    "-storepass",
    password,
  ]);
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return {
    ca: read("ca.pem"),
    otherCa: read("other-ca.pem"),
    client: { cert: read("client.pem"), key: read("client.key") },
    strangerClient: { cert: read("stranger.pem"), key: read("stranger.key") },
    broker: { keystore, truststore, password },
  };
}
