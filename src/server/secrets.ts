import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CqaConfig } from "../config/config.ts";
import { generateToken } from "../security/tokens.ts";

export interface ServerSecrets {
  operatorToken: string;
  /** True when the token was generated now: it is printed once. */
  operatorTokenGenerated: boolean;
  masterKey: string;
  masterKeyGenerated: boolean;
}

/**
 * The operator token and the master key: from the environment when set, else read from (or
 * generated once into) files in the data directory readable only by this user.
 */
export function loadOrCreateSecrets(config: CqaConfig): ServerSecrets {
  mkdirSync(config.dataDir, { recursive: true });
  const token = config.operatorToken
    ? { value: config.operatorToken, generated: false }
    : readOrCreate(join(config.dataDir, "operator-token"), () => generateToken(24));
  const key = config.secretKey
    ? { value: config.secretKey, generated: false }
    : readOrCreate(join(config.dataDir, "secret-key"), () => generateToken(32));
  return {
    operatorToken: token.value,
    operatorTokenGenerated: token.generated,
    masterKey: key.value,
    masterKeyGenerated: key.generated,
  };
}

function readOrCreate(path: string, create: () => string): { value: string; generated: boolean } {
  if (existsSync(path)) {
    const value = readFileSync(path, "utf8").trim();
    if (value !== "") return { value, generated: false };
  }
  // Written to a temporary file and renamed into place, so a crash never leaves an empty secret.
  const value = create();
  const temp = `${path}.${process.pid}.partial`;
  writeFileSync(temp, `${value}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
  return { value, generated: true };
}
