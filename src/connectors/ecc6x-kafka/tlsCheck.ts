// The TLS part of "test connection", and of the consumer's error reports: a handshake with a broker
// done here with node:tls rather than through the Kafka client, because the client reports a refused
// client certificate as a closed connection and a plaintext client on a TLS listener as a SASL or
// network failure. The handshake is made without verifying, so the broker's certificate can be
// described and each fault named: a CA cqa does not trust, a name the certificate does not carry, an
// expired certificate, a client certificate the brokers want or refuse, a listener that is not TLS.
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from "node:tls";
import type { Ecc6xKafkaConfig } from "./config.ts";

type Settings = Pick<Ecc6xKafkaConfig, "brokers" | "tls">;

/** What the handshake with the brokers showed. */
export type TlsVerdict =
  | { outcome: "ok"; message: string }
  | { outcome: "failed"; message: string }
  /** No broker accepted a TCP connection: a reach problem, not a TLS one. */
  | { outcome: "unreachable"; message: string };

const probeTimeoutMs = 5_000;

/** `host:port` (IPv6 in brackets) into its parts. */
function splitAddress(address: string): { host: string; port: number } {
  const cut = address.lastIndexOf(":");
  return { host: address.slice(0, cut).replace(/^\[|\]$/g, ""), port: Number(address.slice(cut + 1)) };
}

/** `CN=localhost`, or the whole subject when it has no common name. */
function nameOf(subject: PeerCertificate["subject"] | undefined): string {
  if (!subject) return "(no subject)";
  if (subject.CN) return `CN=${subject.CN}`;
  return (
    Object.entries(subject)
      .map(([key, value]) => `${key}=${value}`)
      .join(", ") || "(no subject)"
  );
}

/** Why Node did not trust the chain, in words (the code is kept for searching). */
function untrustedReason(code: string, settings: Settings, peer: PeerCertificate): string {
  const where = settings.tls.ca ? "tls.ca" : "the system's CAs (tls.ca is empty)";
  switch (code) {
    case "CERT_HAS_EXPIRED":
      return `The brokers' certificate (${nameOf(peer.subject)}) expired on ${day(peer.valid_to)} (${code}): the Kafka admins must renew it`;
    case "CERT_NOT_YET_VALID":
      return `The brokers' certificate (${nameOf(peer.subject)}) is valid only from ${day(peer.valid_from)} (${code}): check the clocks of the brokers and of cqa`;
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return `The brokers' certificate (${nameOf(peer.subject)}) is self-signed and not in ${where} (${code}): put that certificate, or the CA that should sign it, in tls.ca`;
    default:
      return `The brokers' certificate (${nameOf(peer.subject)}, issued by ${nameOf(peer.issuer)}) is not trusted: it does not chain to a CA in ${where} (${code}). Set tls.ca to the CA certificate (PEM) that signed the brokers' certificates; the Kafka admins have it`;
  }
}

/** A TLS alert the broker sent back, by its name in OpenSSL's error. */
function alertOf(error: NodeJS.ErrnoException): string | null {
  return /alert ([a-z ]+?)(?::|$)/i.exec(error.message)?.[1]?.trim() ?? null;
}

function clientCertificateName(settings: Settings): string {
  if (!settings.tls.cert) return "";
  try {
    const cert = new X509Certificate(settings.tls.cert);
    const cn = /CN=([^\n,]+)/.exec(cert.subject)?.[1];
    const issuer = /CN=([^\n,]+)/.exec(cert.issuer)?.[1];
    return ` (${cn ? `CN=${cn}` : cert.subject}${issuer ? `, issued by CN=${issuer}` : ""})`;
  } catch {
    return "";
  }
}

/** The smallest Kafka request (ApiVersions v0): a broker that accepts the connection answers it. */
function apiVersionsRequest(): Buffer {
  const clientId = Buffer.from("cqa-tls-check", "utf8");
  const body = Buffer.alloc(10 + clientId.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(1, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

type Attempt =
  | { kind: "tcp-failed"; error: Error }
  | { kind: "no-tls"; error: Error }
  | { kind: "settings"; error: Error }
  | {
      kind: "handshake";
      authorized: boolean;
      /** Why the chain (or the name, with a server name) did not verify. */
      authorizationError: string | null;
      protocol: string | null;
      peer: PeerCertificate;
      /** Set when the broker refused the connection after the handshake (a TLS alert, a close). */
      refused: Error | null;
    };

/** One handshake with one broker, verifying nothing, then one request to see it is accepted. */
function attempt(settings: Settings, host: string, port: number): Promise<Attempt> {
  const { tls } = settings;
  return new Promise((resolve) => {
    let socket: TLSSocket;
    let handshake: Extract<Attempt, { kind: "handshake" }> | null = null;
    let settled = false;
    const finish = (result: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      const error = new Error(`no answer within ${probeTimeoutMs / 1000} s`);
      finish(handshake ? { ...handshake, refused: null } : { kind: "tcp-failed", error });
    }, probeTimeoutMs);
    try {
      socket = connect({
        host,
        port,
        ...(tls.server_name ? { servername: tls.server_name } : isIP(host) ? {} : { servername: host }),
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        rejectUnauthorized: false,
      });
    } catch (error) {
      finish({ kind: "settings", error: error as Error });
      return;
    }
    let connected = false;
    socket.once("connect", () => {
      connected = true;
    });
    socket.once("secureConnect", () => {
      handshake = {
        kind: "handshake",
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
        protocol: socket.getProtocol(),
        peer: socket.getPeerCertificate(true),
        refused: null,
      };
      socket.write(apiVersionsRequest());
    });
    socket.once("data", () => {
      if (handshake) finish(handshake);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (handshake) finish({ ...handshake, refused: error });
      else if (!connected) finish({ kind: "tcp-failed", error });
      else if (alertOf(error))
        finish({
          kind: "handshake",
          authorized: false,
          authorizationError: null,
          protocol: null,
          peer: {} as PeerCertificate,
          refused: error,
        });
      else finish({ kind: "no-tls", error });
    });
    socket.once("close", () => {
      if (handshake) finish({ ...handshake, refused: new Error("the broker closed the connection") });
      else if (connected) finish({ kind: "no-tls", error: new Error("the broker closed the connection") });
      else finish({ kind: "tcp-failed", error: new Error("the connection closed") });
    });
  });
}

/**
 * Checks TLS with the brokers as configured: the first broker that accepts a TCP connection is asked
 * for a TLS handshake and one request. Says what is wrong in words an IT admin can act on.
 */
export async function checkBrokerTls(settings: Settings): Promise<TlsVerdict> {
  const unreachable: string[] = [];
  for (const address of settings.brokers) {
    const { host, port } = splitAddress(address);
    const result = await attempt(settings, host, port);
    if (result.kind === "tcp-failed") {
      unreachable.push(`${address}: ${(result.error as NodeJS.ErrnoException).code ?? result.error.message}`);
      continue;
    }
    if (result.kind === "settings") {
      return {
        outcome: "failed",
        message: `cqa cannot use the TLS settings (${result.error.message}): tls.ca and tls.cert must be PEM certificates and tls.key the unencrypted PEM key of tls.cert`,
      };
    }
    if (result.kind === "no-tls") {
      return {
        outcome: "failed",
        message: `The broker at ${address} does not answer a TLS handshake (${firstLine(result.error)}): this listener is probably plaintext — turn tls.enabled off, or use the port of the brokers' TLS (SSL or SASL_SSL) listener`,
      };
    }
    const { peer, refused } = result;
    const verify = settings.tls.reject_unauthorized;
    const protocol = result.protocol ?? "TLS";
    const problems: string[] = [];
    if (peer.subject) {
      // With a server name, Node checks the name too; that fault is told below, as without one.
      const nameOnly = result.authorizationError === "ERR_TLS_CERT_ALTNAME_INVALID";
      if (!result.authorized && !nameOnly) {
        const reason = untrustedReason(result.authorizationError ?? "UNKNOWN", settings, peer);
        if (verify) return { outcome: "failed", message: reason };
        problems.push(`NOT verified — ${reason}`);
      }
      const name = settings.tls.server_name ?? host;
      const identity = checkServerIdentity(name, peer);
      if (identity) {
        const reason = `The brokers' certificate (${nameOf(peer.subject)}) does not name '${name}' (it names ${peer.subjectaltname || "no alternative names"}): list the brokers by a name the certificate carries, or set tls.server_name to one of them`;
        if (verify) return { outcome: "failed", message: reason };
        problems.push(`NOT verified — ${reason}`);
      }
    }
    if (refused) {
      const alert = alertOf(refused as NodeJS.ErrnoException);
      const answer = alert ? `'${alert}'` : "by closing the connection";
      if (alert && !/certificate|unknown ca|handshake failure|access denied/i.test(alert)) {
        return {
          outcome: "failed",
          message: `The TLS handshake with ${address} failed: the broker answered '${alert}' (${firstLine(refused)}); the brokers' TLS settings (ssl.protocol, ssl.cipher.suites) and cqa's do not meet`,
        };
      }
      if (!settings.tls.cert) {
        return {
          outcome: "failed",
          message: `The brokers require a client certificate (mutual TLS) and cqa sent none (the broker answered ${answer}): set tls.cert and tls.key to the certificate and key the Kafka admins issued for cqa`,
        };
      }
      return {
        outcome: "failed",
        message: `The brokers refused cqa's client certificate${clientCertificateName(settings)} (the broker answered ${answer}): the CA that signed it must be in the brokers' truststore (ssl.truststore), or ask the Kafka admins for a certificate their CA signed`,
      };
    }
    const described = `${nameOf(peer.subject)}, issued by ${nameOf(peer.issuer)}, valid until ${day(peer.valid_to)}`;
    const client = settings.tls.cert
      ? `; the brokers accept cqa's client certificate${clientCertificateName(settings)}`
      : "";
    return {
      outcome: "ok",
      message:
        problems.length > 0
          ? `${protocol} with ${address}, but tls.reject_unauthorized is off: ${problems.join("; ")}. Turn tls.reject_unauthorized back on once this is fixed${client}`
          : `${protocol} with ${address}: the brokers' certificate (${described}) is trusted${settings.tls.ca ? " through tls.ca" : ""} and names '${settings.tls.server_name ?? host}'${client}`,
    };
  }
  return {
    outcome: "unreachable",
    message: `cqa cannot reach the brokers ${settings.brokers.join(", ")} (${unreachable.join("; ")}): check the addresses, that the brokers run, and that a firewall lets cqa's address reach these ports`,
  };
}

/**
 * For a config with TLS off whose connection failed: whether the first reachable broker answers a TLS
 * handshake, i.e. the listener wants TLS. Answers the message to show, or null.
 */
export async function plaintextOnTlsListener(settings: Settings): Promise<string | null> {
  for (const address of settings.brokers) {
    const { host, port } = splitAddress(address);
    const result = await attempt(
      {
        brokers: [address],
        tls: { ...settings.tls, enabled: true, ca: null, cert: null, key: null, server_name: null },
      },
      host,
      port,
    );
    if (result.kind === "tcp-failed") continue;
    if (result.kind !== "handshake") return null;
    return `The broker at ${address} speaks TLS (its certificate: ${nameOf(result.peer.subject)}, issued by ${nameOf(result.peer.issuer)}) but tls.enabled is off: set tls.enabled to true, and tls.ca to the CA that signed that certificate`;
  }
  return null;
}

/** `2026-12-06` from OpenSSL's `Dec  6 13:47:21 2026 GMT`. */
function day(text: string): string {
  const time = Date.parse(text);
  return Number.isNaN(time) ? text : new Date(time).toISOString().slice(0, 10);
}

function firstLine(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return `${code ? `${code} ` : ""}${error.message.split("\n")[0]}`.slice(0, 300);
}

/**
 * For a connection that failed: the TLS fault behind it, if there is one (a certificate not trusted,
 * a client certificate wanted or refused, TLS on one side only), or null.
 */
export async function tlsFaultBehind(settings: Settings): Promise<string | null> {
  if (!settings.tls.enabled) return plaintextOnTlsListener(settings);
  const verdict = await checkBrokerTls(settings);
  return verdict.outcome === "failed" ? verdict.message : null;
}
