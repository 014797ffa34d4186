import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ssh2 from "ssh2";
import { AppError } from "../core/errors.ts";
import type { SftpPublicKey } from "../storage/repositories/sftpUsers.ts";

// ssh2 is CommonJS: its named exports come through the default export.
const { utils } = ssh2;

/** The SFTP endpoint's identity: its private host key and the fingerprint clients are shown. */
export interface HostKey {
  privateKey: string;
  /** `SHA256:…` as `ssh-keygen -lf` and the OpenSSH client print it. */
  fingerprint: string;
  publicKey: string;
}

/** File name of the host key in the data directory. */
export const hostKeyFileName = "sftp_host_ed25519_key";

/**
 * The host key kept in the data directory, generated on first start. It must stay the same across
 * restarts (clients pin it in known_hosts); processes that serve SFTP behind one address share it.
 */
export function loadOrCreateHostKey(dataDir: string): HostKey {
  const path = join(dataDir, hostKeyFileName);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, generateHostKey(), { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
  }
  const privateKey = readFileSync(path, "utf8");
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error || Array.isArray(parsed)) {
    throw new AppError(
      "CONFIG_INVALID",
      `The SFTP host key ${path} cannot be read (${describe(parsed)}); remove it to have a new one generated (clients will then see a changed host key)`,
    );
  }
  const blob = parsed.getPublicSSH();
  return {
    privateKey,
    fingerprint: fingerprintOf(blob),
    publicKey: `${parsed.type} ${blob.toString("base64")}`,
  };
}

/**
 * A new ed25519 host key in OpenSSH format. ssh2's generator drops leading zero bytes of the public
 * key as if it were a number, so about one key in 280 comes out 31 bytes long and cannot be read back
 * ("Malformed OpenSSH private key"); such a key is thrown away and another generated.
 */
export function generateHostKey(): string {
  for (let attempt = 1; ; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment: "cqa sftp host key" });
    const parsed = utils.parseKey(pair.private);
    if (!(parsed instanceof Error) && !Array.isArray(parsed)) return pair.private;
    if (attempt >= 20) {
      throw new AppError(
        "INTERNAL_ERROR",
        `Could not generate a readable SFTP host key: ${describe(parsed)}`,
      );
    }
  }
}

function describe(parsed: Error | unknown[]): string {
  return parsed instanceof Error ? parsed.message : "several keys";
}

/** `SHA256:<base64 without padding>` of a public key blob (OpenSSH wire format). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Reads one public key as it appears in `authorized_keys` or a `.pub` file
 * (`ssh-ed25519 AAAA… comment`). Throws VALIDATION_ERROR naming what is wrong.
 */
export function parsePublicKey(line: string): SftpPublicKey {
  const text = line.trim();
  const parsed = text === "" ? new Error("empty") : utils.parseKey(text);
  if (parsed instanceof Error || Array.isArray(parsed)) {
    throw new AppError(
      "VALIDATION_ERROR",
      `public_keys entries must be OpenSSH public keys such as 'ssh-ed25519 AAAA… name' (the content of a .pub file); '${text.slice(0, 40)}…' is not one`,
    );
  }
  if (parsed.isPrivateKey()) {
    throw new AppError(
      "VALIDATION_ERROR",
      "public_keys takes public keys only: this is a private key — never send it anywhere; send the .pub file's content",
    );
  }
  const blob = parsed.getPublicSSH();
  return {
    algorithm: parsed.type,
    key: blob.toString("base64"),
    comment: text.split(/\s+/).slice(2).join(" "),
    fingerprint: fingerprintOf(blob),
  };
}

/**
 * Whether the key a client offers is one of the user's, and — when the client sent a signature — that
 * the signature over the session data is valid for that key.
 */
export function publicKeyAccepted(
  keys: readonly SftpPublicKey[],
  offered: { algo: string; data: Buffer },
  signed: { blob: Buffer; signature: Buffer; hashAlgo?: string | undefined } | null,
): boolean {
  const offeredKey = offered.data.toString("base64");
  const match = keys.find((k) => k.key === offeredKey);
  if (!match) return false;
  if (!signed) return true;
  const parsed = utils.parseKey(offered.data);
  if (parsed instanceof Error || Array.isArray(parsed)) return false;
  return parsed.verify(signed.blob, signed.signature, signed.hashAlgo) === true;
}
