/** The value shown in place of a secret that is set; sending it back keeps the stored secret. */
export const secretMask = "********";

type Json = Record<string, unknown>;

function getPath(target: Json, path: string): unknown {
  let current: unknown = target;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Json)[part];
  }
  return current;
}

function setPath(target: Json, path: string, value: unknown): void {
  const parts = path.split(".");
  let current = target;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    if (next === null || typeof next !== "object") current[part] = {};
    current = current[part] as Json;
  }
  current[parts.at(-1)!] = value;
}

function deletePath(target: Json, path: string): void {
  const parts = path.split(".");
  let current: unknown = target;
  for (const part of parts.slice(0, -1)) {
    if (current === null || typeof current !== "object") return;
    current = (current as Json)[part];
  }
  if (current !== null && typeof current === "object") delete (current as Json)[parts.at(-1)!];
}

/** Splits a config into what may be stored and shown, and the secret values (by path). */
export function splitSecrets(
  config: Json,
  secretPaths: readonly string[],
): { publicConfig: Json; secrets: Json } {
  const publicConfig = structuredClone(config);
  const secrets: Json = {};
  for (const path of secretPaths) {
    const value = getPath(config, path);
    if (value !== undefined && value !== null) secrets[path] = value;
    deletePath(publicConfig, path);
  }
  return { publicConfig, secrets };
}

/** The full config again, for the connector. */
export function joinSecrets(publicConfig: Json, secrets: Json): Json {
  const config = structuredClone(publicConfig);
  for (const [path, value] of Object.entries(secrets)) setPath(config, path, value);
  return config;
}

/**
 * Fills the secrets an edit did not send (or sent back masked) from the stored ones, so an admin can
 * change a broker list without re-typing a password. An explicit `null` clears a secret.
 */
export function keepUnchangedSecrets(input: Json, stored: Json, secretPaths: readonly string[]): Json {
  const merged = structuredClone(input);
  for (const path of secretPaths) {
    const sent = getPath(input, path);
    if ((sent === undefined || sent === secretMask) && stored[path] !== undefined)
      setPath(merged, path, stored[path]);
    else if (sent === secretMask) deletePath(merged, path);
  }
  return merged;
}

/** The config as the API shows it: secrets that are set appear as the mask, never as values. */
export function maskedConfig(publicConfig: Json, secrets: Json): Json {
  const shown = structuredClone(publicConfig);
  for (const path of Object.keys(secrets)) setPath(shown, path, secretMask);
  return shown;
}

/** Marks the secret fields `writeOnly` in a JSON Schema (for the catalogue and the dashboard forms). */
export function markWriteOnly(schema: Json, secretPaths: readonly string[]): Json {
  const marked = structuredClone(schema);
  for (const path of secretPaths) {
    let node: Json | undefined = marked;
    for (const part of path.split(".")) {
      const properties = node?.["properties"] as Json | undefined;
      node = properties?.[part] as Json | undefined;
    }
    if (node) {
      node["writeOnly"] = true;
      node["format"] ??= "password";
    }
  }
  return marked;
}
