import type { Role } from "../storage/repositories/apiKeys.ts";

/** What a caller may do; each route names the one permission it needs. */
export type Permission =
  | "ingest"
  | "read"
  | "review"
  | "dispute:raise"
  | "dispute:resolve"
  | "configure"
  | "manage:users"
  | "manage:keys"
  | "manage:account"
  | "manage:webhooks"
  | "read:integrations"
  | "manage:integrations";

const grants: Record<Role, readonly Permission[]> = {
  admin: [
    "ingest",
    "read",
    "review",
    "dispute:raise",
    "dispute:resolve",
    "configure",
    "manage:users",
    "manage:keys",
    "manage:account",
    "manage:webhooks",
    "read:integrations",
    "manage:integrations",
  ],
  supervisor: [
    "ingest",
    "read",
    "review",
    "dispute:raise",
    "dispute:resolve",
    "configure",
    "manage:webhooks",
    "read:integrations",
  ],
  analyst: ["read", "review", "dispute:resolve"],
  agent: ["read", "dispute:raise"],
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return grants[role].includes(permission);
}

/** Everything a role may do, for clients that show or hide what the caller cannot use. */
export function permissionsOf(role: Role): Permission[] {
  return [...grants[role]];
}

/** For error messages: which roles could do it. */
export function rolesWith(permission: Permission): Role[] {
  return (Object.keys(grants) as Role[]).filter((role) => grants[role].includes(permission));
}
